"""Staff accounts (`veille user` creates them, `web.auth` logs staff in); passwords only as
salted scrypt hashes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from veille.storage.db import Database, from_iso, to_iso, utcnow


@dataclass(frozen=True)
class StaffUser:
    email: str
    password_hash: str
    created: datetime
    last_login: datetime | None


def _row_to_staff(row: sqlite3.Row) -> StaffUser:
    return StaffUser(email=row["email"], password_hash=row["password_hash"],
                     created=from_iso(row["created"]), last_login=from_iso(row["last_login"]))


class UserRepository:
    def __init__(self, database: Database):
        self._db = database

    def add(self, email: str, password_hash: str) -> bool:
        """Create an account; False (and nothing changed) when the address already has one."""
        with self._db.transaction() as db:
            cur = db.execute("INSERT OR IGNORE INTO staff_users (email, password_hash, created)"
                             " VALUES (?, ?, ?)", (email, password_hash, to_iso(utcnow())))
            return cur.rowcount == 1

    def set_password(self, email: str, password_hash: str) -> bool:
        with self._db.transaction() as db:
            cur = db.execute("UPDATE staff_users SET password_hash = ? WHERE email = ?",
                             (password_hash, email))
            return cur.rowcount == 1

    def get(self, email: str) -> StaffUser | None:
        row = self._db.connection().execute("SELECT * FROM staff_users WHERE email = ?", (email,)).fetchone()
        return _row_to_staff(row) if row else None

    def all(self) -> list[StaffUser]:
        rows = self._db.connection().execute("SELECT * FROM staff_users ORDER BY email")
        return [_row_to_staff(row) for row in rows]

    def remove(self, email: str) -> bool:
        with self._db.transaction() as db:
            return db.execute("DELETE FROM staff_users WHERE email = ?", (email,)).rowcount == 1

    def record_login(self, email: str, when: datetime | None = None) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE staff_users SET last_login = ? WHERE email = ?",
                       (to_iso(when or utcnow()), email))
