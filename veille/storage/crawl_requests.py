"""« Relever maintenant »: sources the team asked to crawl now, waiting for the scheduler.

The web page writes a row; `veille run`'s scheduler, possibly in another process, reads the
rows every few seconds, crawls each source and then removes its row (`done`), so a request
made while the scheduler was down is served when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from veille.storage.db import Database, from_iso, to_iso, utcnow


@dataclass(frozen=True)
class CrawlRequest:
    source: str
    requested: datetime
    by: str = ""


class CrawlRequestRepository:
    def __init__(self, database: Database):
        self._db = database

    def add(self, source: str, by: str = "", when: datetime | None = None) -> None:
        """Ask for a crawl of `source`; asking again before it is done keeps one request."""
        with self._db.transaction() as db:
            db.execute("INSERT INTO crawl_requests (source, requested, by) VALUES (?, ?, ?)"
                       " ON CONFLICT(source) DO UPDATE SET requested = excluded.requested, by = excluded.by",
                       (source, to_iso(when or utcnow()), by))

    def all(self) -> dict[str, CrawlRequest]:
        rows = self._db.connection().execute("SELECT source, requested, by FROM crawl_requests ORDER BY requested")
        return {r["source"]: CrawlRequest(r["source"], from_iso(r["requested"]), r["by"]) for r in rows}

    def done(self, source: str, requested: datetime) -> None:
        """The crawl asked at `requested` ran: remove the request, unless a newer one came since."""
        with self._db.transaction() as db:
            db.execute("DELETE FROM crawl_requests WHERE source = ? AND requested <= ?",
                       (source, to_iso(requested)))
