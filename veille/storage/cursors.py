"""Where each source stopped reading a series it reads in order (the DILA's JORF deliveries):
the name of the last item read whole, so the next run reads only what came after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from veille.storage.db import Database, from_iso, to_iso


@dataclass(frozen=True)
class SourceCursor:
    source: str
    position: str            # e.g. "JORF_20260921-001530.tar.gz"
    updated: datetime


class CursorRepository:
    def __init__(self, database: Database):
        self._db = database

    def get(self, source: str) -> SourceCursor | None:
        row = self._db.connection().execute(
            "SELECT source, position, updated FROM source_cursors WHERE source = ?", (source,)).fetchone()
        return SourceCursor(row["source"], row["position"], from_iso(row["updated"])) if row else None

    def set(self, source: str, position: str, when: datetime) -> None:
        with self._db.transaction() as db:
            db.execute("INSERT INTO source_cursors (source, position, updated) VALUES (?, ?, ?)"
                       " ON CONFLICT(source) DO UPDATE SET position = excluded.position,"
                       " updated = excluded.updated", (source, position, to_iso(when)))

    def forget(self, source: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM source_cursors WHERE source = ?", (source,))
