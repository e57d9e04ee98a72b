"""The digest archive: every digest composed for sending, what it matched, and the end of
the last period delivered to each recipient (the next digest starts there).

Two kinds of e-mails are archived alike: the weekly digest of a recipient, and the
immediate e-mails of the documents one source brought (`kind` "immediate", with `source`).
Each has its own periods: the weekly one per recipient (digest_periods), the immediate ones
per recipient and source (immediate_periods); the methods taking `source` speak of the
latter. A digest's status goes sending (recorded before SMTP) -> sent | failed, and a
failed one becomes superseded when a later one of the same kind, to the same recipient (and
for the same source), is archived (it carries its documents): each row is one attempt to
one recipient.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Iterable

from veille.storage.db import Database, from_iso, stated_iso, to_iso

_DATES = ("period_start", "period_end", "created", "sent")
# The weekly digests, or the immediate e-mails of one source: `_stream(source)` gives its values.
_STREAM = "kind = ? AND COALESCE(source, '') = ?"   # (digest_items has neither column)


def _stream(source: str | None) -> tuple[str, str]:
    return ("weekly", "") if source is None else ("immediate", source)


@dataclass(frozen=True)
class DigestRecord:
    """One archived digest e-mail and its delivery state."""

    id: str
    recipient: str
    period_start: datetime
    period_end: datetime
    created: datetime
    status: str                  # sending | sent | failed | superseded
    message_id: str
    subject: str
    documents: int
    html: str
    raw: bytes                   # the exact MIME message, resent as is after a crash
    attempts: int = 0
    error: str | None = None
    sent: datetime | None = None
    kind: str = "weekly"         # weekly | immediate
    source: str | None = None    # an immediate e-mail's source


@dataclass(frozen=True)
class DigestItem:
    """A document an alert matched in a digest."""

    alert: str
    doc_id: str
    title: str
    link: str
    date: datetime       # as the source stated it (its offset's calendar day is the day shown)
    summary: str = ""


def _row_to_digest(row: sqlite3.Row) -> DigestRecord:
    values = {f.name: row[f.name] for f in fields(DigestRecord)}
    for name in _DATES:
        values[name] = from_iso(values[name])
    values["raw"] = bytes(values["raw"])
    return DigestRecord(**values)


def _row_to_item(row: sqlite3.Row) -> DigestItem:
    return DigestItem(alert=row["alert"], doc_id=row["doc_id"], title=row["title"], link=row["link"],
                      date=from_iso(row["date"]), summary=row["summary"])


class DigestRepository:
    def __init__(self, database: Database):
        self._db = database

    # ------------------------------------------------------------ periods

    def period_end(self, recipient: str, source: str | None = None) -> datetime | None:
        """End of the last period delivered to `recipient` (by the immediate e-mails of `source`)."""
        if source is None:
            row = self._db.connection().execute(
                "SELECT period_end FROM digest_periods WHERE recipient = ?", (recipient,)).fetchone()
        else:
            row = self._db.connection().execute(
                "SELECT period_end FROM immediate_periods WHERE recipient = ? AND source = ?",
                (recipient, source)).fetchone()
        return from_iso(row[0]) if row else None

    def sent_documents(self, recipient: str, since: datetime, source: str | None = None) -> set[str]:
        """Ids of documents in digests (immediate e-mails of `source`) delivered to `recipient`
        whose period ended after `since`."""
        rows = self._db.connection().execute(
            "SELECT DISTINCT i.doc_id FROM digest_items i JOIN digests d ON d.id = i.digest_id"
            f" WHERE d.recipient = ? AND d.status = 'sent' AND d.period_end > ? AND {_STREAM}",
            (recipient, to_iso(since), *_stream(source)))
        return {row[0] for row in rows}

    def first_unsent_start(self, recipient: str, source: str | None = None) -> datetime | None:
        """Start of the earliest digest (immediate e-mail of `source`) to `recipient` that
        never got through, if any."""
        row = self._db.connection().execute(
            "SELECT MIN(period_start) FROM digests WHERE recipient = ? AND status IN ('failed', 'sending')"
            f" AND {_STREAM}", (recipient, *_stream(source))).fetchone()
        return from_iso(row[0]) if row and row[0] else None

    # ------------------------------------------------------------ delivery

    def add(self, digest: DigestRecord, items: Iterable[DigestItem] = ()) -> None:
        """Archive a digest (before it is sent: status 'sending') with its matched items."""
        values = asdict(digest)
        for name in _DATES:
            values[name] = to_iso(values[name])
        with self._db.transaction() as db:
            # a new digest starts where the recipient's failed ones started: it carries them
            db.execute(f"UPDATE digests SET status = 'superseded' WHERE recipient = ? AND status = 'failed'"
                       f" AND {_STREAM}",
                       (digest.recipient, *_stream(digest.source if digest.kind == "immediate" else None)))
            columns = ", ".join(values)
            db.execute(f"INSERT INTO digests ({columns}) VALUES ({', '.join(f':{k}' for k in values)})", values)
            db.executemany(
                "INSERT OR IGNORE INTO digest_items (digest_id, alert, doc_id, title, link, date, summary)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(digest.id, i.alert, i.doc_id, i.title, i.link, stated_iso(i.date), i.summary) for i in items])

    def mark_sent(self, digest_id: str, sent: datetime) -> None:
        """Mark a digest delivered and move its recipient's period to its end, atomically."""
        with self._db.transaction() as db:
            row = db.execute("SELECT recipient, period_end, kind, source FROM digests WHERE id = ?",
                             (digest_id,)).fetchone()
            if row is None:
                raise KeyError(digest_id)
            source = row["source"] if row["kind"] == "immediate" else None
            db.execute("UPDATE digests SET status = 'sent', sent = ?, error = NULL, attempts = attempts + 1"
                       " WHERE id = ?", (to_iso(sent), digest_id))
            # a failed digest always started at or after the recipient's last period end, as
            # this one did: this one carries its documents
            db.execute(f"UPDATE digests SET status = 'superseded' WHERE recipient = ? AND status = 'failed'"
                       f" AND {_STREAM}", (row["recipient"], *_stream(source)))
            if source is None:
                db.execute("INSERT INTO digest_periods (recipient, period_end, digest_id) VALUES (?, ?, ?)"
                           " ON CONFLICT(recipient) DO UPDATE SET period_end = excluded.period_end,"
                           " digest_id = excluded.digest_id WHERE excluded.period_end > digest_periods.period_end",
                           (row["recipient"], row["period_end"], digest_id))
            else:
                db.execute("INSERT INTO immediate_periods (recipient, source, period_end, digest_id)"
                           " VALUES (?, ?, ?, ?) ON CONFLICT(recipient, source) DO UPDATE SET"
                           " period_end = excluded.period_end, digest_id = excluded.digest_id"
                           " WHERE excluded.period_end > immediate_periods.period_end",
                           (row["recipient"], source, row["period_end"], digest_id))

    def mark_failed(self, digest_id: str, error: str) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE digests SET status = 'failed', error = ?, attempts = attempts + 1"
                       " WHERE id = ?", (error, digest_id))

    # ------------------------------------------------------------ archive

    def get(self, digest_id: str) -> DigestRecord | None:
        row = self._db.connection().execute("SELECT * FROM digests WHERE id = ?", (digest_id,)).fetchone()
        return _row_to_digest(row) if row else None

    def latest(self, *, status: str | None = None, recipient: str | None = None,
               limit: int = 50, offset: int = 0) -> list[DigestRecord]:
        """Digests newest first, optionally of one status or recipient."""
        sql, args = "SELECT * FROM digests WHERE 1 = 1", []
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if recipient is not None:
            sql += " AND recipient = ?"
            args.append(recipient)
        rows = self._db.connection().execute(sql + " ORDER BY created DESC, id LIMIT ? OFFSET ?",
                                             (*args, limit, offset))
        return [_row_to_digest(r) for r in rows]

    def count(self) -> int:
        return self._db.connection().execute("SELECT COUNT(*) FROM digests").fetchone()[0]

    def items_of(self, digest_id: str) -> list[DigestItem]:
        rows = self._db.connection().execute(
            "SELECT * FROM digest_items WHERE digest_id = ? ORDER BY alert, date DESC", (digest_id,))
        return [_row_to_item(r) for r in rows]

    def feed_items(self, alert: str, limit: int = 50) -> list[DigestItem]:
        """Documents an alert matched in delivered digests, newest first, each once."""
        rows = self._db.connection().execute(
            "SELECT i.alert, i.doc_id, i.title, i.link, MAX(i.date) AS date, i.summary"
            " FROM digest_items i JOIN digests d ON d.id = i.digest_id"
            " WHERE i.alert = ? AND d.status = 'sent' GROUP BY i.doc_id ORDER BY date DESC, i.doc_id LIMIT ?",
            (alert, limit))
        return [_row_to_item(r) for r in rows]
