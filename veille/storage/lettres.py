"""The lettre de veille: numbered issues, their frozen content, recipients and attempts.

An issue is a draft (`draft`, or `scheduled` with a sending time) while documentalists
triage its queue (`veille.storage.triage`). Sending freezes it, in one transaction: its
items, and for each confirmed subscriber the exact message (bytes, Message-ID) archived
before any SMTP; it is then `sending` until every recipient is dealt with, then `sent`.
Each SMTP attempt is a row of `lettre_attempts` (test sends included), so the archive
shows one row per recipient and attempt, with the reason of a failure.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from veille.storage.db import Database, from_iso, stated_iso, to_iso

DRAFT = "draft"
SCHEDULED = "scheduled"
SENDING = "sending"
SENT = "sent"
EDITABLE = (DRAFT, SCHEDULED)
FROZEN = (SENDING, SENT)

# recipients
PENDING = "pending"
DELIVERED = "sent"
LEFT = "unsubscribed"
GAVE_UP = "failed"            # every attempt allowed failed

# attempts
ATTEMPT_SENDING = "sending"
ATTEMPT_SENT = "sent"
ATTEMPT_FAILED = "failed"
ATTEMPT_INTERRUPTED = "interrupted"


class LettreFrozen(Exception):
    """The issue was frozen (sent, or being sent) meanwhile: it cannot change any more."""


@dataclass(frozen=True)
class LettreRecord:
    numero: int
    status: str
    since: datetime
    created: datetime
    updated: datetime
    editorial: str = ""
    rubriques: tuple[str, ...] = ()
    frozen: datetime | None = None
    scheduled: datetime | None = None
    sent: datetime | None = None

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE


@dataclass(frozen=True)
class LettreItem:
    """One document as a frozen issue holds it."""

    doc_id: str
    rank: int                       # order in the issue (rubriques in order, then position)
    rubrique: str
    title: str
    link: str
    date: datetime                  # the date sorted on (publication, else first seen)
    comment: str = ""
    source: str = ""
    original: str | None = None
    published: datetime | None = None   # as the source stated it, its offset kept
    kind: str = ""
    doc_type: str = ""
    nor: str = ""


@dataclass(frozen=True)
class LettreRecipient:
    numero: int
    recipient: str
    status: str                     # pending | sent | unsubscribed | failed
    message_id: str
    raw: bytes
    sent: datetime | None = None


@dataclass(frozen=True)
class LettreAttempt:
    id: int
    numero: int
    recipient: str
    test: bool
    status: str                     # sending | sent | failed | interrupted
    started: datetime
    finished: datetime | None = None
    error: str | None = None


def _row_to_lettre(row: sqlite3.Row) -> LettreRecord:
    return LettreRecord(numero=row["numero"], status=row["status"], since=from_iso(row["since"]),
                        created=from_iso(row["created"]), updated=from_iso(row["updated"]),
                        editorial=row["editorial"], rubriques=tuple(json.loads(row["rubriques"])),
                        frozen=from_iso(row["frozen"]), scheduled=from_iso(row["scheduled"]),
                        sent=from_iso(row["sent"]))


def _row_to_item(row: sqlite3.Row) -> LettreItem:
    return LettreItem(doc_id=row["doc_id"], rank=row["rank"], rubrique=row["rubrique"], title=row["title"],
                      link=row["link"], date=from_iso(row["date"]), comment=row["comment"],
                      source=row["source"], original=row["original"], published=from_iso(row["published"]),
                      kind=row["kind"], doc_type=row["doc_type"], nor=row["nor"])


def _row_to_attempt(row: sqlite3.Row) -> LettreAttempt:
    return LettreAttempt(id=row["id"], numero=row["numero"], recipient=row["recipient"], test=bool(row["test"]),
                         status=row["status"], started=from_iso(row["started"]),
                         finished=from_iso(row["finished"]), error=row["error"])


class LettreRepository:
    def __init__(self, database: Database):
        self._db = database

    # ------------------------------------------------------------ issues

    def get(self, numero: int) -> LettreRecord | None:
        row = self._db.connection().execute("SELECT * FROM lettres WHERE numero = ?", (numero,)).fetchone()
        return _row_to_lettre(row) if row else None

    def draft(self) -> LettreRecord | None:
        """The issue being prepared (draft or scheduled), if any."""
        row = self._db.connection().execute(
            "SELECT * FROM lettres WHERE status IN (?, ?) ORDER BY numero DESC LIMIT 1", EDITABLE).fetchone()
        return _row_to_lettre(row) if row else None

    def last_frozen(self) -> LettreRecord | None:
        row = self._db.connection().execute(
            "SELECT * FROM lettres WHERE status IN (?, ?) ORDER BY numero DESC LIMIT 1", FROZEN).fetchone()
        return _row_to_lettre(row) if row else None

    def ensure_draft(self, since: datetime, now: datetime) -> LettreRecord:
        """The current draft, created (numbered after the last issue) when there is none."""
        with self._db.transaction() as db:
            row = db.execute("SELECT * FROM lettres WHERE status IN (?, ?) ORDER BY numero DESC LIMIT 1",
                             EDITABLE).fetchone()
            if row is None:
                numero = db.execute("SELECT COALESCE(MAX(numero), 0) + 1 FROM lettres").fetchone()[0]
                db.execute("INSERT INTO lettres (numero, status, since, created, updated) VALUES (?, ?, ?, ?, ?)",
                           (numero, DRAFT, to_iso(since), to_iso(now), to_iso(now)))
                row = db.execute("SELECT * FROM lettres WHERE numero = ?", (numero,)).fetchone()
            return _row_to_lettre(row)

    def update(self, numero: int, *, now: datetime, editorial: str | None = None,
               rubriques: Iterable[str] | None = None) -> None:
        """Change an editable issue's editorial or rubrique order; LettreFrozen once frozen."""
        with self._db.transaction() as db:
            self._editable(db, numero)
            if editorial is not None:
                db.execute("UPDATE lettres SET editorial = ?, updated = ? WHERE numero = ?",
                           (editorial, to_iso(now), numero))
            if rubriques is not None:
                db.execute("UPDATE lettres SET rubriques = ?, updated = ? WHERE numero = ?",
                           (json.dumps(list(rubriques), ensure_ascii=False), to_iso(now), numero))

    def schedule(self, numero: int, when: datetime | None, *, now: datetime) -> None:
        """Set (or, with None, cancel) the sending time of an editable issue."""
        with self._db.transaction() as db:
            self._editable(db, numero)
            db.execute("UPDATE lettres SET status = ?, scheduled = ?, updated = ? WHERE numero = ?",
                       (SCHEDULED if when else DRAFT, to_iso(when), to_iso(now), numero))

    @staticmethod
    def _editable(db: sqlite3.Connection, numero: int) -> None:
        row = db.execute("SELECT status FROM lettres WHERE numero = ?", (numero,)).fetchone()
        if row is None:
            raise KeyError(numero)
        if row["status"] not in EDITABLE:
            raise LettreFrozen(numero)

    def freeze(self, numero: int, items: Iterable[LettreItem],
               recipients: Iterable[tuple[str, str, bytes]], *, now: datetime) -> None:
        """Freeze an editable issue with its items and each recipient's (address, Message-ID,
        message bytes), all in one transaction; LettreFrozen if it was frozen meanwhile."""
        with self._db.transaction() as db:
            self._editable(db, numero)
            db.execute("UPDATE lettres SET status = ?, frozen = ?, updated = ? WHERE numero = ?",
                       (SENDING, to_iso(now), to_iso(now), numero))
            db.executemany(
                "INSERT INTO lettre_items (numero, doc_id, rank, rubrique, title, comment, source, link, original,"
                " date, published, kind, doc_type, nor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(numero, i.doc_id, i.rank, i.rubrique, i.title, i.comment, i.source, i.link, i.original,
                  to_iso(i.date), stated_iso(i.published), i.kind, i.doc_type, i.nor) for i in items])
            db.executemany(
                "INSERT INTO lettre_recipients (numero, recipient, status, message_id, raw) VALUES (?, ?, ?, ?, ?)",
                [(numero, address, PENDING, msg_id, raw) for address, msg_id, raw in recipients])

    def frozen_list(self, limit: int = 1000, offset: int = 0) -> list[LettreRecord]:
        """Issues sent or being sent, newest first (the public archive)."""
        rows = self._db.connection().execute(
            "SELECT * FROM lettres WHERE status IN (?, ?) ORDER BY numero DESC LIMIT ? OFFSET ?",
            (*FROZEN, limit, offset))
        return [_row_to_lettre(r) for r in rows]

    def due(self, now: datetime) -> list[LettreRecord]:
        """Issues to work on now: being sent (a run was interrupted), or scheduled and due."""
        rows = self._db.connection().execute(
            "SELECT * FROM lettres WHERE status = ? OR (status = ? AND scheduled <= ?) ORDER BY numero",
            (SENDING, SCHEDULED, to_iso(now)))
        return [_row_to_lettre(r) for r in rows]

    def items(self, numero: int) -> list[LettreItem]:
        rows = self._db.connection().execute("SELECT * FROM lettre_items WHERE numero = ? ORDER BY rank",
                                             (numero,))
        return [_row_to_item(r) for r in rows]

    # ------------------------------------------------------------ recipients and attempts

    def recipients(self, numero: int, status: str | None = None) -> list[LettreRecipient]:
        sql, args = "SELECT * FROM lettre_recipients WHERE numero = ?", [numero]
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        rows = self._db.connection().execute(sql + " ORDER BY recipient", args)
        return [LettreRecipient(numero=r["numero"], recipient=r["recipient"], status=r["status"],
                                message_id=r["message_id"], raw=bytes(r["raw"]), sent=from_iso(r["sent"]))
                for r in rows]

    def start_attempt(self, numero: int, recipient: str, *, now: datetime, test: bool = False) -> int:
        """Record an attempt before SMTP; returns its id."""
        with self._db.transaction() as db:
            cur = db.execute("INSERT INTO lettre_attempts (numero, recipient, test, status, started)"
                             " VALUES (?, ?, ?, ?, ?)", (numero, recipient, int(test), ATTEMPT_SENDING, to_iso(now)))
            return int(cur.lastrowid)

    def attempt_sent(self, attempt_id: int, *, now: datetime) -> None:
        """The server accepted: the attempt and its recipient are done, together."""
        with self._db.transaction() as db:
            row = db.execute("SELECT numero, recipient, test FROM lettre_attempts WHERE id = ?",
                             (attempt_id,)).fetchone()
            db.execute("UPDATE lettre_attempts SET status = ?, finished = ?, error = NULL WHERE id = ?",
                       (ATTEMPT_SENT, to_iso(now), attempt_id))
            if not row["test"]:
                db.execute("UPDATE lettre_recipients SET status = ?, sent = ? WHERE numero = ? AND recipient = ?",
                           (DELIVERED, to_iso(now), row["numero"], row["recipient"]))

    def attempt_failed(self, attempt_id: int, error: str, *, now: datetime) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE lettre_attempts SET status = ?, finished = ?, error = ? WHERE id = ?",
                       (ATTEMPT_FAILED, to_iso(now), error, attempt_id))

    def interrupt_open_attempts(self, numero: int, *, now: datetime) -> list[str]:
        """Attempts left `sending` by a process that died during SMTP: marked interrupted;
        returns their recipients (their message goes again, the same bytes)."""
        with self._db.transaction() as db:
            rows = db.execute("SELECT id, recipient FROM lettre_attempts WHERE numero = ? AND status = ?",
                              (numero, ATTEMPT_SENDING)).fetchall()
            db.executemany("UPDATE lettre_attempts SET status = ?, finished = ?,"
                           " error = 'envoi interrompu (arrêt du processus pendant l''envoi)' WHERE id = ?",
                           [(ATTEMPT_INTERRUPTED, to_iso(now), row["id"]) for row in rows])
            return [row["recipient"] for row in rows]

    def recipient_left(self, numero: int, recipient: str) -> None:
        """A recipient who unsubscribed before their turn: nothing is sent to them."""
        with self._db.transaction() as db:
            db.execute("UPDATE lettre_recipients SET status = ? WHERE numero = ? AND recipient = ? AND status = ?",
                       (LEFT, numero, recipient, PENDING))

    def recipient_gave_up(self, numero: int, recipient: str) -> None:
        """No more attempts for this recipient (the archive keeps each failed one)."""
        with self._db.transaction() as db:
            db.execute("UPDATE lettre_recipients SET status = ? WHERE numero = ? AND recipient = ? AND status = ?",
                       (GAVE_UP, numero, recipient, PENDING))

    def finish(self, numero: int, *, now: datetime) -> bool:
        """Mark the issue sent when no recipient is pending; returns whether it is."""
        with self._db.transaction() as db:
            left = db.execute("SELECT COUNT(*) FROM lettre_recipients WHERE numero = ? AND status = ?",
                              (numero, PENDING)).fetchone()[0]
            if left:
                return False
            db.execute("UPDATE lettres SET status = ?, sent = COALESCE(sent, ?) WHERE numero = ?",
                       (SENT, to_iso(now), numero))
            return True

    def attempts(self, numero: int) -> list[LettreAttempt]:
        rows = self._db.connection().execute(
            "SELECT * FROM lettre_attempts WHERE numero = ? ORDER BY started, id", (numero,))
        return [_row_to_attempt(r) for r in rows]
