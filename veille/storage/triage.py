"""The triage of a lettre's queue: per document, keep or set aside, a comment, a rubrique
and an order, saved field by field.

Two documentalists can work on the same queue: a save writes only the fields that person
changed, so one's comment never erases the other's decision.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from veille.storage.db import Database, from_iso, to_iso

KEEP = "keep"
ASIDE = "aside"
UNSORTED = ""
DECISIONS = (UNSORTED, KEEP, ASIDE)
FIELDS = ("decision", "comment", "rubrique", "position")


@dataclass(frozen=True)
class TriageState:
    doc_id: str
    decision: str = UNSORTED
    comment: str = ""
    rubrique: str = ""            # "" = the document's default rubrique
    position: int | None = None   # order inside the rubrique
    updated: datetime | None = None
    updated_by: str = ""


def _row_to_state(row: sqlite3.Row) -> TriageState:
    return TriageState(doc_id=row["doc_id"], decision=row["decision"], comment=row["comment"],
                       rubrique=row["rubrique"], position=row["position"], updated=from_iso(row["updated"]),
                       updated_by=row["updated_by"])


class TriageRepository:
    def __init__(self, database: Database):
        self._db = database

    def of(self, numero: int) -> dict[str, TriageState]:
        """The triage of issue `numero`: doc id -> state (documents never touched are absent)."""
        rows = self._db.connection().execute("SELECT * FROM lettre_triage WHERE numero = ?", (numero,))
        return {row["doc_id"]: _row_to_state(row) for row in rows}

    def save(self, numero: int, doc_id: str, changes: Mapping[str, object], *, by: str, now: datetime) -> None:
        """Write the `changes` (a subset of FIELDS) of one document, leaving its other fields."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown triage fields: {sorted(unknown)}")
        if "decision" in changes and changes["decision"] not in DECISIONS:
            raise ValueError(f"unknown decision {changes['decision']!r}")
        if not changes:
            return
        names = list(changes)
        with self._db.transaction() as db:
            db.execute("INSERT OR IGNORE INTO lettre_triage (numero, doc_id, updated, updated_by) VALUES (?, ?, ?, ?)",
                       (numero, doc_id, to_iso(now), by))
            assignments = ", ".join(f"{name} = ?" for name in names)
            db.execute(f"UPDATE lettre_triage SET {assignments}, updated = ?, updated_by = ?"
                       " WHERE numero = ? AND doc_id = ?",
                       (*(changes[n] for n in names), to_iso(now), by, numero, doc_id))
