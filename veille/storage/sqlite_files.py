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
            # a database from elsewhere: its schema may not run functions behind our back
            db.execute("PRAGMA trusted_schema = OFF")
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        return str(exc)
    return None if result == "ok" else result


def untrusted_schema_problem(path: Path) -> str | None:
    """What makes a database from an unauthenticated source unsafe to open, or None.

    Veille's databases hold tables and indexes only: a trigger or a view would run SQL
    written by whoever made the file each time the application touches its tables."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            db.execute("PRAGMA trusted_schema = OFF")
            rows = db.execute("SELECT type, name FROM sqlite_master WHERE type NOT IN ('table', 'index')"
                              ).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return str(exc)
    if rows:
        return "objets inattendus dans le schéma : " + ", ".join(f"{kind} {name}" for kind, name in rows[:5])
    return None
