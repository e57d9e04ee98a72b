"""Staff accounts, and the password rules and hashing they rely on.

Passwords are kept only as salted scrypt hashes (werkzeug.security's format, so hashes made
by earlier releases still verify). `veille user` creates accounts; `web.auth` logs staff in.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from werkzeug.security import check_password_hash, generate_password_hash

from veille.storage.db import Database, from_iso, to_iso, utcnow

MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def password_problem(password: str) -> str | None:
    """Why `password` cannot be used, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères"
    if password.strip() != password:
        return "le mot de passe ne doit ni commencer ni finir par une espace"
    return None


def normalize_email(email: str) -> str:
    return email.strip().lower()


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the address is unknown, so both cases cost one scrypt (made on
    first use: every command opening the catalog imports this module)."""
    return hash_password("veille: no such account")


@dataclass(frozen=True)
class StaffUser:
    email: str
    password_hash: str
    created: datetime
    last_login: datetime | None


def _session_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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
            db.execute("DELETE FROM staff_sessions WHERE email = ?", (email,))
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
            db.execute("DELETE FROM staff_sessions WHERE email = ?", (email,))
            return db.execute("DELETE FROM staff_users WHERE email = ?", (email,)).rowcount == 1

    # ------------------------------------------------------------ sessions

    def open_session(self, email: str, lifetime: timedelta, when: datetime | None = None) -> str:
        """A new session of `email`: returns the random id its cookie carries (only its hash
        is stored). Sessions older than `lifetime` are forgotten on the way."""
        token = secrets.token_urlsafe(32)
        now = when or utcnow()
        with self._db.transaction() as db:
            db.execute("DELETE FROM staff_sessions WHERE created < ?", (to_iso(now - lifetime),))
            db.execute("INSERT INTO staff_sessions (id, email, created) VALUES (?, ?, ?)",
                       (_session_key(token), email, to_iso(now)))
        return token

    def session_email(self, token: str, lifetime: timedelta, when: datetime | None = None) -> str | None:
        """Whose session `token` is, while it is open and younger than `lifetime`."""
        row = self._db.connection().execute(
            "SELECT email, created FROM staff_sessions WHERE id = ?", (_session_key(token),)).fetchone()
        if row is None or from_iso(row["created"]) < (when or utcnow()) - lifetime:
            return None
        return row["email"]

    def end_session(self, token: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM staff_sessions WHERE id = ?", (_session_key(token),))

    def end_sessions(self, email: str) -> int:
        """End every open session of `email` (password changed, account removed)."""
        with self._db.transaction() as db:
            return db.execute("DELETE FROM staff_sessions WHERE email = ?", (email,)).rowcount

    def record_login(self, email: str, when: datetime | None = None) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE staff_users SET last_login = ? WHERE email = ?",
                       (to_iso(when or utcnow()), email))

    def authenticate(self, email: str, password: str) -> StaffUser | None:
        """The account when `password` is right; constant work whether or not the account exists."""
        user = self.get(normalize_email(email))
        if user is None:
            verify_password(_dummy_hash(), password)
            return None
        return user if verify_password(user.password_hash, password) else None
