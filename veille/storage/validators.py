"""HTTP validators (ETag, Last-Modified) of each URL fetched, for conditional requests."""

from __future__ import annotations

from veille.storage.db import Database, to_iso, utcnow


class ValidatorRepository:
    def __init__(self, database: Database):
        self._db = database

    def get(self, url: str) -> tuple[str | None, str | None]:
        """(etag, last_modified) last received for `url`; (None, None) when unknown."""
        row = self._db.connection().execute(
            "SELECT etag, last_modified FROM http_cache WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def put(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self._db.transaction() as db:
            db.execute("INSERT OR REPLACE INTO http_cache (url, etag, last_modified, fetched)"
                       " VALUES (?, ?, ?, ?)", (url, etag, last_modified, to_iso(utcnow())))
