"""The indexing queue: documents the search index does not hold as they are now, and ids
removed from the catalog whose removal the index has not applied yet.

A document is pending while `documents.indexed` is 0. Its `revision` goes up with every
change, so marking indexed a copy read before a change leaves the newer one pending.
"""

from __future__ import annotations

import sqlite3
from typing import Iterable, Mapping

from veille.core.records import Document
from veille.storage.db import Database
from veille.storage.document_rows import row_to_document


def queue_deletion(db: sqlite3.Connection, doc_id: str) -> None:
    """Ask the index to drop a document (inside the transaction that deletes it)."""
    db.execute("INSERT OR IGNORE INTO index_deletions (id) VALUES (?)", (doc_id,))


def cancel_deletion(db: sqlite3.Connection, doc_id: str) -> None:
    """A document put back before the index applied its removal is indexed, not removed."""
    db.execute("DELETE FROM index_deletions WHERE id = ?", (doc_id,))


class IndexQueue:
    def __init__(self, database: Database):
        self._db = database

    # In the order of the partial index of pending rows (rowid): a batch reads its rows and
    # stops, where ordering by id would read and sort every pending row for each batch.
    def pending(self, limit: int = 500) -> list[Document]:
        rows = self._db.connection().execute(
            "SELECT * FROM documents WHERE indexed = 0 ORDER BY rowid LIMIT ?", (limit,))
        return [row_to_document(row) for row in rows]

    def pending_batch(self, limit: int = 500) -> tuple[list[Document], dict[str, int]]:
        """Documents waiting for the index, with the revision read at the same moment."""
        rows = self._db.connection().execute(
            "SELECT * FROM documents WHERE indexed = 0 ORDER BY rowid LIMIT ?", (limit,)).fetchall()
        return [row_to_document(row) for row in rows], {row["id"]: row["revision"] for row in rows}

    def pending_count(self) -> int:
        return self._db.connection().execute("SELECT COUNT(*) FROM documents WHERE indexed = 0").fetchone()[0]

    def revisions(self) -> dict[str, int]:
        """doc id -> revision, for every document of the catalog."""
        return dict(self._db.connection().execute("SELECT id, revision FROM documents"))

    def pending_revisions(self) -> dict[str, int]:
        """doc id -> revision, for the documents waiting for the index."""
        return dict(self._db.connection().execute("SELECT id, revision FROM documents WHERE indexed = 0"))

    def deletions(self) -> list[str]:
        return [row[0] for row in self._db.connection().execute("SELECT id FROM index_deletions")]

    def mark_indexed(self, ids: Iterable[str], deleted: Iterable[str] = (),
                     revisions: Mapping[str, int] | None = None) -> None:
        """Record that the index holds these documents. With `revisions` (as read when the
        documents were), a document changed since then stays pending."""
        with self._db.transaction() as db:
            if revisions is None:
                db.executemany("UPDATE documents SET indexed = 1 WHERE id = ?", [(i,) for i in ids])
            else:
                db.executemany("UPDATE documents SET indexed = 1 WHERE id = ? AND revision = ?",
                               [(i, revisions[i]) for i in ids if i in revisions])
            db.executemany("DELETE FROM index_deletions WHERE id = ?", [(i,) for i in deleted])

    def mark_all_unindexed(self) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE documents SET indexed = 0")
