"""Subscribers with double opt-in, and the record of their consent.

A subscription is an address and a topic (`lettre`, or `recherche:<key>` for a search
followed by e-mail). It is `pending` until its confirmation link is used, then `confirmed`
until the person leaves (`unsubscribed`); a pending request left unconfirmed past its
`expires` becomes `expired`. Nothing may be sent to an address that is not confirmed.

Every step is written to `consents` in the same transaction as the change it records, and
that record is never rewritten: date, address, topic and what happened.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from veille.storage.db import Database, from_iso, to_iso

PENDING = "pending"
CONFIRMED = "confirmed"
UNSUBSCRIBED = "unsubscribed"
EXPIRED = "expired"

TOPIC_LETTRE = "lettre"
SEARCH_PREFIX = "recherche:"


@dataclass(frozen=True)
class Subscriber:
    email: str
    topic: str
    status: str
    nonce: str
    origin: str                     # form | import | staff
    requested: datetime
    expires: datetime | None = None
    confirmed: datetime | None = None
    ended: datetime | None = None
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Consent:
    email: str
    topic: str
    event: str                      # request | confirm | import | add | unsubscribe | expire | remove
    at: datetime
    detail: str = ""


def _row_to_subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(email=row["email"], topic=row["topic"], status=row["status"], nonce=row["nonce"],
                      origin=row["origin"], requested=from_iso(row["requested"]),
                      expires=from_iso(row["expires"]), confirmed=from_iso(row["confirmed"]),
                      ended=from_iso(row["ended"]), details=MappingProxyType(json.loads(row["details"])))


class SubscriberRepository:
    def __init__(self, database: Database):
        self._db = database

    @staticmethod
    def _log(db: sqlite3.Connection, email: str, topic: str, event: str, at: datetime, detail: str) -> None:
        db.execute("INSERT INTO consents (email, topic, event, at, detail) VALUES (?, ?, ?, ?, ?)",
                   (email, topic, event, to_iso(at), detail))

    # ------------------------------------------------------------ changes

    def request(self, email: str, topic: str, *, nonce: str, now: datetime, expires: datetime,
                origin: str = "form", details: Mapping[str, Any] | None = None, detail: str = "") -> bool:
        """Record a request awaiting confirmation; False (nothing changed) when the address is
        already confirmed for `topic`. A new request replaces an older pending one's link."""
        with self._db.transaction() as db:
            row = db.execute("SELECT status FROM subscribers WHERE email = ? AND topic = ?",
                             (email, topic)).fetchone()
            if row is not None and row["status"] == CONFIRMED:
                return False
            db.execute(
                "INSERT INTO subscribers (email, topic, status, details, nonce, origin, requested, expires)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(email, topic) DO UPDATE SET"
                " status = excluded.status, details = excluded.details, nonce = excluded.nonce,"
                " origin = excluded.origin, requested = excluded.requested, expires = excluded.expires,"
                " confirmed = NULL, ended = NULL",
                (email, topic, PENDING, json.dumps(dict(details or {}), ensure_ascii=False), nonce, origin,
                 to_iso(now), to_iso(expires)))
            self._log(db, email, topic, "request", now, detail)
            return True

    def confirm(self, email: str, topic: str, *, nonce: str, now: datetime, detail: str = "") -> Subscriber | None:
        """Confirm the pending request whose link carries `nonce`, unless it expired; returns
        the confirmed subscription, or None when there is nothing (left) to confirm."""
        with self._db.transaction() as db:
            row = db.execute("SELECT * FROM subscribers WHERE email = ? AND topic = ?", (email, topic)).fetchone()
            if row is None or row["status"] != PENDING or row["nonce"] != nonce:
                return None
            if row["expires"] and from_iso(row["expires"]) < now:
                db.execute("UPDATE subscribers SET status = ?, ended = ? WHERE email = ? AND topic = ?",
                           (EXPIRED, to_iso(now), email, topic))
                self._log(db, email, topic, "expire", now, "lien de confirmation expiré")
                return None
            db.execute("UPDATE subscribers SET status = ?, confirmed = ?, expires = NULL"
                       " WHERE email = ? AND topic = ?", (CONFIRMED, to_iso(now), email, topic))
            self._log(db, email, topic, "confirm", now, detail)
            row = db.execute("SELECT * FROM subscribers WHERE email = ? AND topic = ?", (email, topic)).fetchone()
            return _row_to_subscriber(row)

    def add_confirmed(self, email: str, topic: str, *, now: datetime, origin: str, detail: str,
                      nonce: str) -> bool:
        """Staff add an address whose consent the centre already holds (the detail says how);
        False when it was already confirmed."""
        with self._db.transaction() as db:
            row = db.execute("SELECT status FROM subscribers WHERE email = ? AND topic = ?",
                             (email, topic)).fetchone()
            if row is not None and row["status"] == CONFIRMED:
                return False
            db.execute(
                "INSERT INTO subscribers (email, topic, status, nonce, origin, requested, confirmed)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(email, topic) DO UPDATE SET status = excluded.status,"
                " nonce = excluded.nonce, origin = excluded.origin, requested = excluded.requested,"
                " confirmed = excluded.confirmed, expires = NULL, ended = NULL",
                (email, topic, CONFIRMED, nonce, origin, to_iso(now), to_iso(now)))
            self._log(db, email, topic, origin, now, detail)
            return True

    def unsubscribe(self, email: str, topic: str, *, now: datetime, detail: str = "") -> bool:
        """End a confirmed or pending subscription; False when there was none."""
        with self._db.transaction() as db:
            cur = db.execute("UPDATE subscribers SET status = ?, ended = ? WHERE email = ? AND topic = ?"
                             " AND status IN (?, ?)", (UNSUBSCRIBED, to_iso(now), email, topic, CONFIRMED, PENDING))
            if not cur.rowcount:
                return False
            self._log(db, email, topic, "unsubscribe", now, detail)
            return True

    def expire(self, now: datetime) -> int:
        """Mark pending requests past their date expired; returns how many."""
        with self._db.transaction() as db:
            rows = db.execute("SELECT email, topic FROM subscribers WHERE status = ? AND expires < ?",
                              (PENDING, to_iso(now))).fetchall()
            for row in rows:
                db.execute("UPDATE subscribers SET status = ?, ended = ? WHERE email = ? AND topic = ?",
                           (EXPIRED, to_iso(now), row["email"], row["topic"]))
                self._log(db, row["email"], row["topic"], "expire", now, "demande non confirmée à temps")
            return len(rows)

    # ------------------------------------------------------------ reading

    def get(self, email: str, topic: str) -> Subscriber | None:
        row = self._db.connection().execute("SELECT * FROM subscribers WHERE email = ? AND topic = ?",
                                            (email, topic)).fetchone()
        return _row_to_subscriber(row) if row else None

    def confirmed(self, topic: str) -> list[str]:
        """Confirmed addresses of `topic`, sorted: the only ones anything may be sent to."""
        rows = self._db.connection().execute(
            "SELECT email FROM subscribers WHERE topic = ? AND status = ? ORDER BY email", (topic, CONFIRMED))
        return [row[0] for row in rows]

    def is_confirmed(self, email: str, topic: str) -> bool:
        subscriber = self.get(email, topic)
        return subscriber is not None and subscriber.status == CONFIRMED

    def all(self, topic: str | None = None, statuses: Iterable[str] | None = None) -> list[Subscriber]:
        sql, args = "SELECT * FROM subscribers WHERE 1 = 1", []
        if topic is not None:
            sql += " AND topic = ?"
            args.append(topic)
        if statuses is not None:
            wanted = list(statuses)
            sql += f" AND status IN ({', '.join('?' for _ in wanted)})"
            args.extend(wanted)
        rows = self._db.connection().execute(sql + " ORDER BY email, topic", args)
        return [_row_to_subscriber(r) for r in rows]

    def consents(self, email: str | None = None) -> list[Consent]:
        sql, args = "SELECT * FROM consents", []
        if email is not None:
            sql += " WHERE email = ?"
            args.append(email)
        rows = self._db.connection().execute(sql + " ORDER BY id", args)   # as recorded
        return [Consent(email=r["email"], topic=r["topic"], event=r["event"], at=from_iso(r["at"]),
                        detail=r["detail"]) for r in rows]
