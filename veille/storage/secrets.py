"""Random keys generated once per data directory and kept with its data (signed links)."""

from __future__ import annotations

import secrets

from veille.storage.db import Database


class SecretRepository:
    def __init__(self, database: Database):
        self._db = database

    def get(self, name: str) -> str:
        """The key `name`, created on first use: links signed with it stay valid across
        restarts and restores."""
        with self._db.transaction() as db:
            db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
                       (name, secrets.token_urlsafe(32)))
            return db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0]
