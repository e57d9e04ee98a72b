"""The last text seen of each watched page (`change` sources), to diff the next version against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from veille.storage.db import Database, from_iso, to_iso


@dataclass(frozen=True)
class PageSnapshot:
    source: str
    url: str
    content_hash: str
    text: str
    seen: datetime


class SnapshotRepository:
    def __init__(self, database: Database):
        self._db = database

    def get(self, source: str) -> PageSnapshot | None:
        row = self._db.connection().execute(
            "SELECT * FROM page_snapshots WHERE source = ?", (source,)).fetchone()
        if row is None:
            return None
        return PageSnapshot(source=row["source"], url=row["url"], content_hash=row["content_hash"],
                            text=row["text"], seen=from_iso(row["seen"]))

    def put(self, snapshot: PageSnapshot) -> None:
        """Keep `snapshot` as its source's last one."""
        with self._db.transaction() as db:
            db.execute("INSERT OR REPLACE INTO page_snapshots VALUES (?, ?, ?, ?, ?)",
                       (snapshot.source, snapshot.url, snapshot.content_hash, snapshot.text,
                        to_iso(snapshot.seen)))
