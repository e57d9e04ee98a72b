"""Legal keys of each document (`indexer.enrich.legal`): those naming the document itself
(role 'self') and those it cites ('cites'), kept in step with `documents.extra`."""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable, Mapping

from veille.storage.db import Database


def replace_keys(db: sqlite3.Connection, doc_id: str, extra: Mapping | None) -> None:
    """Set a document's keys from its `extra` (inside the transaction that writes it)."""
    extra = extra or {}
    own = [str(k) for k in extra.get("legal_ids", ())]
    cited = [str(k) for k in extra.get("legal_refs", ()) if k not in own]
    db.execute("DELETE FROM legal_keys WHERE doc_id = ?", (doc_id,))
    db.executemany("INSERT OR IGNORE INTO legal_keys (doc_id, key, role) VALUES (?, ?, ?)",
                   [(doc_id, k, "self") for k in own] + [(doc_id, k, "cites") for k in cited])


def drop_keys(db: sqlite3.Connection, doc_id: str) -> None:
    db.execute("DELETE FROM legal_keys WHERE doc_id = ?", (doc_id,))


class LegalKeyRepository:
    def __init__(self, database: Database):
        self._db = database

    def documents(self, keys: Iterable[str], role: str) -> dict[str, list[str]]:
        """For each key, the ids of the documents it names (`role="self"`) or that cite it
        (`role="cites"`); keys no document has are left out."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, list[str]] = {}
        for start in range(0, len(keys), 500):  # SQLite caps the number of parameters
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.connection().execute(
                f"SELECT key, doc_id FROM legal_keys WHERE role = ? AND key IN ({marks})"
                " ORDER BY key, doc_id", (role, *chunk))
            for row in rows:
                found.setdefault(row["key"], []).append(row["doc_id"])
        return found

    def documents_like(self, patterns: Iterable[str], role: str) -> list[str]:
        """Ids of documents with a key matching one of the LIKE `patterns` (`article:%:loi:2014-173`)."""
        ids: set[str] = set()
        for pattern in patterns:
            rows = self._db.connection().execute(
                "SELECT DISTINCT doc_id FROM legal_keys WHERE role = ? AND key LIKE ?", (role, pattern))
            ids.update(row[0] for row in rows)
        return sorted(ids)

    def refresh(self, batch: int = 500) -> int:
        """Rebuild the table from every document's extra (after an upgrade); returns the
        number of documents read."""
        count, last = 0, ""
        with self._db.transaction() as db:
            db.execute("DELETE FROM legal_keys")
            while True:
                rows = db.execute("SELECT id, extra FROM documents WHERE id > ? ORDER BY id LIMIT ?",
                                  (last, batch)).fetchall()
                if not rows:
                    return count
                for row in rows:
                    replace_keys(db, row["id"], json.loads(row["extra"]))
                    count += 1
                last = rows[-1]["id"]
