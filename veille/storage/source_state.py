"""Per-source crawl state: consecutive failures, the last error and the backoff, shown by
`veille sources` and the sources page."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from veille.storage.db import Database, from_iso, to_iso


@dataclass(frozen=True)
class SourceState:
    source: str
    consecutive_failures: int = 0
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_code: str | None = None
    last_error_at: datetime | None = None
    backoff_until: datetime | None = None


def _row_to_state(row: sqlite3.Row) -> SourceState:
    return SourceState(
        source=row["source"], consecutive_failures=row["consecutive_failures"],
        last_attempt=from_iso(row["last_attempt"]), last_success=from_iso(row["last_success"]),
        last_error=row["last_error"], last_error_code=row["last_error_code"],
        last_error_at=from_iso(row["last_error_at"]), backoff_until=from_iso(row["backoff_until"]))


class SourceStateRepository:
    def __init__(self, database: Database):
        self._db = database

    def get(self, source: str) -> SourceState:
        """The source's state (a blank one for a source never crawled)."""
        row = self._db.connection().execute(
            "SELECT * FROM source_state WHERE source = ?", (source,)).fetchone()
        return _row_to_state(row) if row else SourceState(source=source)

    def all(self) -> dict[str, SourceState]:
        rows = self._db.connection().execute("SELECT * FROM source_state")
        return {row["source"]: _row_to_state(row) for row in rows}

    def record_success(self, source: str, when: datetime) -> None:
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO source_state (source, consecutive_failures, last_attempt, last_success)"
                " VALUES (?, 0, ?, ?) ON CONFLICT(source) DO UPDATE SET consecutive_failures = 0,"
                " last_attempt = excluded.last_attempt, last_success = excluded.last_success,"
                " backoff_until = NULL", (source, to_iso(when), to_iso(when)))

    def record_failure(self, source: str, when: datetime, error: str, code: str,
                       backoff_until: datetime | None) -> int:
        """Count one more consecutive failure; returns the new count."""
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO source_state (source, consecutive_failures, last_attempt, last_error,"
                " last_error_code, last_error_at, backoff_until) VALUES (?, 1, ?, ?, ?, ?, ?)"
                " ON CONFLICT(source) DO UPDATE SET"
                " consecutive_failures = consecutive_failures + 1, last_attempt = excluded.last_attempt,"
                " last_error = excluded.last_error, last_error_code = excluded.last_error_code,"
                " last_error_at = excluded.last_error_at, backoff_until = excluded.backoff_until",
                (source, to_iso(when), error, code, to_iso(when), to_iso(backoff_until)))
            return db.execute("SELECT consecutive_failures FROM source_state WHERE source = ?",
                              (source,)).fetchone()[0]

    def set_backoff(self, source: str, until: datetime | None) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE source_state SET backoff_until = ? WHERE source = ?", (to_iso(until), source))
