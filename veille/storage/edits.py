"""What staff set by hand on a document (its visibility, its description), kept over every
re-sync and re-crawl.

An edit wins over what a crawl or a library sync brings: `DocumentRepository.put` applies
a document's edits before storing it, so the next sync cannot undo them. Removing an edit
gives the field back to its source at the next sync or crawl.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime
from typing import Any, Mapping

from veille.core.records import Document
from veille.storage.db import Database, from_iso, to_iso, utcnow

# Fields staff may set, and how a value is kept (JSON) and read back.
EDITABLE = ("title", "summary", "published", "themes", "territories", "doc_type", "authors", "visibility")
_LISTS = ("themes", "territories", "authors")


def _dump(field: str, value: Any) -> str:
    if field == "published":
        return json.dumps(to_iso(value))
    if field in _LISTS:
        return json.dumps(list(value), ensure_ascii=False)
    return json.dumps(str(value), ensure_ascii=False)


def _load(field: str, text: str) -> Any:
    value = json.loads(text)
    if field == "published":
        return from_iso(value)
    if field in _LISTS:
        return tuple(value)
    return value


def edits_of(db: sqlite3.Connection, doc_id: str) -> dict[str, Any]:
    rows = db.execute("SELECT field, value FROM document_edits WHERE doc_id = ?", (doc_id,))
    return {field: _load(field, value) for field, value in rows if field in EDITABLE}


def with_edits(doc: Document, edits: Mapping[str, Any]) -> Document:
    """`doc` as staff set it."""
    return replace(doc, **{k: v for k, v in edits.items() if k in EDITABLE}) if edits else doc


class EditRepository:
    def __init__(self, database: Database):
        self._db = database

    def of(self, doc_id: str) -> dict[str, Any]:
        return edits_of(self._db.connection(), doc_id)

    def of_many(self, doc_ids) -> dict[str, dict[str, Any]]:
        """doc id -> its edits, for those of `doc_ids` staff edited."""
        ids = list(doc_ids)
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.connection().execute(
                f"SELECT doc_id, field, value FROM document_edits WHERE doc_id IN ({marks})", chunk)
            for doc_id, field, value in rows:
                if field in EDITABLE:
                    found.setdefault(doc_id, {})[field] = _load(field, value)
        return found

    def record(self, doc_id: str, changes: Mapping[str, Any], by: str = "",
               when: datetime | None = None) -> None:
        """Keep `changes` (field -> value) for `doc_id`; fields outside EDITABLE are refused."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"champs non modifiables : {', '.join(sorted(unknown))}")
        stamp = to_iso(when or utcnow())
        with self._db.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO document_edits (doc_id, field, value, edited_by, edited)"
                " VALUES (?, ?, ?, ?, ?)",
                [(doc_id, field, _dump(field, value), by, stamp) for field, value in changes.items()])

    def forget(self, doc_id: str, fields: tuple[str, ...] = EDITABLE) -> None:
        marks = ",".join("?" * len(fields))
        with self._db.transaction() as db:
            db.execute(f"DELETE FROM document_edits WHERE doc_id = ? AND field IN ({marks})", (doc_id, *fields))
