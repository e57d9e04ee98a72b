"""The documents of the catalog, crawled and library alike (`veille.core.records.Document`).

Putting or deleting a document also queues it for the index and updates its legal keys,
in the same transaction. What staff set by hand (`veille.storage.edits`) wins over what is
put: a re-sync or re-crawl never undoes it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable, Iterator

from veille.core.records import KIND_LIBRARY, Document
from veille.storage.db import Database, to_iso
from veille.storage.document_rows import COLUMNS, document_to_row, row_to_document
from veille.storage.edits import edits_of, with_edits
from veille.storage.legal_keys import drop_keys, replace_keys
from veille.storage.queue import cancel_deletion, queue_deletion

# every column but the text, read as empty: lists of documents show no text
_CARD_COLUMNS = ", ".join("'' AS content" if name == "content" else name for name in COLUMNS)

COUNTABLE = ("source", "kind", "status", "doc_type")


class DocumentRepository:
    def __init__(self, database: Database):
        self._db = database

    def get(self, doc_id: str) -> Document | None:
        row = self._db.connection().execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row_to_document(row) if row else None

    def text_of(self, doc_id: str) -> str:
        """A document's text (its summary when it has none), without decoding the whole row:
        what search snippets read for each hit shown."""
        row = self._db.connection().execute(
            "SELECT content, summary FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return (row[0] or row[1]) if row else ""

    def get_many(self, ids: Iterable[str]) -> dict[str, Document]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.connection().execute(f"SELECT * FROM documents WHERE id IN ({marks})", ids)
        return {row["id"]: row_to_document(row) for row in rows}

    def cards(self, ids: Iterable[str]) -> dict[str, Document]:
        """Documents without their text (content empty): what a list of search hits shows."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.connection().execute(f"SELECT {_CARD_COLUMNS} FROM documents WHERE id IN ({marks})", ids)
        return {row["id"]: row_to_document(row) for row in rows}

    def ids(self) -> Iterator[str]:
        for row in self._db.connection().execute("SELECT id FROM documents"):
            yield row[0]

    def extras_of(self, ids: Iterable[str]) -> dict[str, dict]:
        """doc id -> its `extra` mapping, without reading the rest of the rows: the search
        page asks for the legal ids of every hit it shows, and decoding whole documents
        (text included) cost more than the search when its page was cached."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.connection().execute(f"SELECT id, extra FROM documents WHERE id IN ({marks})", ids)
        return {row[0]: json.loads(row[1]) for row in rows}

    def find_by_url(self, url: str) -> Document | None:
        row = self._db.connection().execute("SELECT * FROM documents WHERE url = ?", (url,)).fetchone()
        return row_to_document(row) if row else None

    def find_by_hash(self, digest: str, source: str | None = None) -> Document | None:
        sql = "SELECT * FROM documents WHERE content_hash = ?"
        args: list = [digest]
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        row = self._db.connection().execute(sql + " LIMIT 1", args).fetchone()
        return row_to_document(row) if row else None

    def put(self, doc: Document) -> str:
        """Insert or replace a document; returns 'new', 'updated' or 'unchanged'.

        An unchanged document (same content hash, title and metadata) is left as it is,
        so re-crawling costs no re-indexing.
        """
        with self._db.transaction() as db:
            values = document_to_row(with_edits(doc, edits_of(db, doc.id)))
            old = db.execute("SELECT * FROM documents WHERE id = ?", (doc.id,)).fetchone()
            if old is not None:
                same = all(old[k] == values[k] for k in values if k not in ("first_seen", "updated"))
                if same:
                    return "unchanged"
                values["first_seen"] = old["first_seen"]  # first seen never moves
            columns = ", ".join(values)
            marks = ", ".join(f":{k}" for k in values)
            values["revision"] = (old["revision"] + 1) if old is not None else 1
            db.execute(f"INSERT OR REPLACE INTO documents ({columns}, indexed, revision)"
                       f" VALUES ({marks}, 0, :revision)", values)
            cancel_deletion(db, doc.id)
            replace_keys(db, doc.id, doc.extra)
        return "new" if old is None else "updated"

    def apply_edits(self, doc_id: str) -> bool:
        """Store a document again with its staff edits (just recorded); True if it changed."""
        doc = self.get(doc_id)
        return doc is not None and self.put(doc) != "unchanged"

    def set_visibility(self, doc_ids: Iterable[str], visibility: str) -> int:
        """The visibility its source or library folder gives each document (a staff edit
        wins); changed documents go back to the index queue. Returns how many changed."""
        ids = list(doc_ids)
        changed = 0
        with self._db.transaction() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                changed += db.execute(
                    f"UPDATE documents SET visibility = ?, indexed = 0, revision = revision + 1"
                    f" WHERE id IN ({marks}) AND visibility != ? AND id NOT IN"
                    f" (SELECT doc_id FROM document_edits WHERE field = 'visibility')",
                    (visibility, *chunk, visibility)).rowcount
        return changed

    def set_source_visibility(self, source: str, visibility: str) -> int:
        """`set_visibility` for every document of a source (a crawled source's setting)."""
        with self._db.transaction() as db:
            return db.execute(
                "UPDATE documents SET visibility = ?, indexed = 0, revision = revision + 1"
                " WHERE source = ? AND visibility != ? AND id NOT IN"
                " (SELECT doc_id FROM document_edits WHERE field = 'visibility')",
                (visibility, source, visibility)).rowcount

    def internal_pending_ids(self) -> list[str]:
        """Internal documents the index may still hold as public (changed, not reindexed)."""
        rows = self._db.connection().execute(
            "SELECT id FROM documents WHERE indexed = 0 AND visibility != 'public'")
        return [row[0] for row in rows]

    def internal_ids(self) -> list[str]:
        """Ids of the documents only staff may see."""
        rows = self._db.connection().execute("SELECT id FROM documents WHERE visibility != 'public'")
        return [row[0] for row in rows]

    def public_paths(self, library: str) -> set[str]:
        """Paths of the files of a library folder that anyone may see."""
        rows = self._db.connection().execute(
            "SELECT path FROM documents WHERE source = ? AND kind = ? AND visibility = 'public'"
            " AND path IS NOT NULL", (library, KIND_LIBRARY))
        return {row[0] for row in rows}

    def visibilities(self, ids: Iterable[str]) -> dict[str, str]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.connection().execute(f"SELECT id, visibility FROM documents WHERE id IN ({marks})", ids)
        return {row[0]: row[1] for row in rows}

    def delete(self, doc_id: str) -> bool:
        with self._db.transaction() as db:
            gone = db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount
            if gone:
                queue_deletion(db, doc_id)
                drop_keys(db, doc_id)
        return bool(gone)

    def iter_all(self, batch: int = 500) -> Iterator[Document]:
        """Every document, read `batch` rows at a time in the table's own order (rowid: the
        file read front to back). One rewritten meanwhile moves to the end: it may come twice."""
        last = 0
        while True:
            rows = self._db.connection().execute(
                "SELECT rowid AS _row, * FROM documents WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, batch)).fetchall()
            if not rows:
                return
            for row in rows:
                yield row_to_document(row)
            last = rows[-1]["_row"]

    def count(self) -> int:
        return self._db.connection().execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def counts_by(self, column: str) -> dict[str, int]:
        if column not in COUNTABLE:
            raise ValueError(column)
        # a pass over every row (0.4 s at a million documents): once per change of the file
        return dict(self._db.remembered(f"counts_by:{column}", lambda: {
            row[0]: row[1] for row in self._db.connection().execute(
                f"SELECT {column}, COUNT(*) FROM documents GROUP BY {column} ORDER BY {column}")}))

    def latest(self, kind: str, limit: int = 10, public_only: bool = True) -> list[Document]:
        """The documents of a kind that entered the catalog last (without their text)."""
        columns = ", ".join("'' AS content" if name == "content" else name for name in COLUMNS)
        visible = " AND visibility = 'public'" if public_only else ""
        rows = self._db.connection().execute(
            f"SELECT {columns} FROM documents WHERE kind = ?{visible} ORDER BY first_seen DESC, id LIMIT ?",
            (kind, limit))
        return [row_to_document(row) for row in rows]

    def recent(self, since: datetime, limit: int = 50, text: bool = True) -> list[Document]:
        """Documents first seen since `since`, newest first; without their text (content
        empty) when `text` is false, as lists of cards need them."""
        columns = "*" if text else _CARD_COLUMNS
        rows = self._db.connection().execute(
            f"SELECT {columns} FROM documents WHERE first_seen >= ? ORDER BY first_seen DESC, id LIMIT ?",
            (to_iso(since), limit))
        return [row_to_document(row) for row in rows]
