"""The crawl run log: one row per source crawled, started then finished."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from veille.storage.db import Database, from_iso, to_iso, utcnow


@dataclass(frozen=True)
class Run:
    id: int
    source: str
    started: datetime
    finished: datetime | None
    http_status: int | None
    new: int
    updated: int
    unchanged: int
    error: str | None
    warning: str | None


def _row_to_run(r: sqlite3.Row) -> Run:
    return Run(id=r["id"], source=r["source"], started=from_iso(r["started"]),
               finished=from_iso(r["finished"]), http_status=r["http_status"], new=r["new"],
               updated=r["updated"], unchanged=r["unchanged"], error=r["error"], warning=r["warning"])


class RunRepository:
    def __init__(self, database: Database):
        self._db = database

    def start(self, source: str, started: datetime | None = None) -> int:
        """Record a run starting; returns its id."""
        with self._db.transaction() as db:
            cur = db.execute("INSERT INTO runs (source, started) VALUES (?, ?)",
                             (source, to_iso(started or utcnow())))
            return int(cur.lastrowid)

    def finish(self, run_id: int, *, http_status: int | None = None, new: int = 0,
               updated: int = 0, unchanged: int = 0, error: str | None = None,
               warning: str | None = None, finished: datetime | None = None) -> None:
        with self._db.transaction() as db:
            db.execute(
                "UPDATE runs SET finished = ?, http_status = ?, new = ?, updated = ?, unchanged = ?,"
                " error = ?, warning = ? WHERE id = ?",
                (to_iso(finished or utcnow()), http_status, new, updated, unchanged, error, warning, run_id))

    def recent(self, source: str | None = None, limit: int = 20) -> list[Run]:
        """The latest runs, newest first (of one source, or of all)."""
        sql, args = "SELECT * FROM runs", []
        if source is not None:
            sql += " WHERE source = ?"
            args.append(source)
        rows = self._db.connection().execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))
        return [_row_to_run(r) for r in rows]

    def last_successful_crawl(self) -> datetime | None:
        """When the most recent crawl run without error finished (any source)."""
        row = self._db.connection().execute(
            "SELECT MAX(finished) FROM runs WHERE finished IS NOT NULL AND error IS NULL").fetchone()
        return from_iso(row[0]) if row else None

    def last_per_source(self) -> dict[str, Run]:
        """The latest run of every source that ran at least once."""
        rows = self._db.connection().execute(
            "SELECT * FROM runs WHERE id IN (SELECT MAX(id) FROM runs GROUP BY source)")
        return {r["source"]: _row_to_run(r) for r in rows}
