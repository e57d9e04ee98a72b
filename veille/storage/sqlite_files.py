"""Whole-file operations on SQLite databases (the catalog), for backups and restores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite_file(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def snapshot_sqlite(source: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (WAL included), via the backup API."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
        finally:
            out.close()
    finally:
        src.close()


def sqlite_problem(path: Path) -> str | None:
    """None when the database passes SQLite's integrity check, else what is wrong."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        return str(exc)
    return None if result == "ok" else result
