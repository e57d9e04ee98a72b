"""Recipients who left an alert through the link of a digest; alert '*' means all of theirs."""

from __future__ import annotations

from veille.storage.db import Database, to_iso, utcnow


class UnsubscriptionRepository:
    def __init__(self, database: Database):
        self._db = database

    def add(self, recipient: str, alert: str = "*") -> None:
        with self._db.transaction() as db:
            db.execute("INSERT OR IGNORE INTO unsubscriptions (recipient, alert, created) VALUES (?, ?, ?)",
                       (recipient, alert, to_iso(utcnow())))

    def all(self) -> set[tuple[str, str]]:
        """(recipient, alert) pairs."""
        rows = self._db.connection().execute("SELECT recipient, alert FROM unsubscriptions")
        return {(r[0], r[1]) for r in rows}

    def remove(self, recipient: str, alert: str) -> None:
        """Forget that `recipient` left `alert` (they subscribed to it again)."""
        with self._db.transaction() as db:
            db.execute("DELETE FROM unsubscriptions WHERE recipient = ? AND alert = ?", (recipient, alert))
