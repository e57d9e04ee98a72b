"""The document catalog: every SQL statement of Veille lives here.

One SQLite file in the data directory (WAL mode, so the web's readers never wait for the
crawler's writer). It holds the documents (crawled and library), which of them still need
indexing, the crawl run log, per-source state, HTTP validators and library file signatures.
Datetimes are stored as ISO 8601 strings in UTC.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Iterator

from indexer.records import Document

CATALOG_FILE = "catalog.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    url TEXT,
    path TEXT,
    summary TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL DEFAULT '',
    published TEXT,
    updated TEXT,
    content_hash TEXT NOT NULL DEFAULT '',
    stored_file TEXT,
    doc_type TEXT NOT NULL DEFAULT '',
    themes TEXT NOT NULL DEFAULT '[]',
    territories TEXT NOT NULL DEFAULT '[]',
    authors TEXT NOT NULL DEFAULT '[]',
    language TEXT NOT NULL DEFAULT 'fr',
    page_count INTEGER,
    status TEXT NOT NULL DEFAULT 'ok',
    status_reason TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    indexed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS documents_url ON documents(url);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE INDEX IF NOT EXISTS documents_pending ON documents(indexed) WHERE indexed = 0;
CREATE INDEX IF NOT EXISTS documents_first_seen ON documents(first_seen);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);

-- ids removed from the catalog whose removal the index has not applied yet
CREATE TABLE IF NOT EXISTS index_deletions (id TEXT PRIMARY KEY);

CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    http_status INTEGER,
    new INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    warning TEXT
);
CREATE INDEX IF NOT EXISTS runs_source ON runs(source, id);

CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    fetched TEXT
);

CREATE TABLE IF NOT EXISTS library_files (
    library TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    PRIMARY KEY (library, path)
);
"""

_LIST_FIELDS = ("themes", "territories", "authors")
_DATE_FIELDS = ("first_seen", "published", "updated")
_DOC_COLUMNS = tuple(f.name for f in fields(Document))


def to_iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Run:
    id: int
    source: str
    started: datetime
    finished: datetime | None
    http_status: int | None
    new: int
    updated: int
    unchanged: int
    error: str | None
    warning: str | None


@dataclass(frozen=True)
class LibraryFile:
    library: str
    path: str
    size: int
    mtime_ns: int
    sha256: str
    doc_id: str


def _row_to_document(row: sqlite3.Row) -> Document:
    values = {name: row[name] for name in _DOC_COLUMNS}
    for name in _LIST_FIELDS:
        values[name] = tuple(json.loads(values[name]))
    for name in _DATE_FIELDS:
        values[name] = from_iso(values[name])
    values["extra"] = MappingProxyType(json.loads(values["extra"]))
    return Document(**values)


def _document_to_row(doc: Document) -> dict:
    values = asdict(doc)
    for name in _LIST_FIELDS:
        values[name] = json.dumps(list(values[name]), ensure_ascii=False)
    for name in _DATE_FIELDS:
        values[name] = to_iso(values[name])
    values["extra"] = json.dumps(dict(doc.extra), ensure_ascii=False, default=str)
    return values


class Catalog:
    """Thread-safe access to the catalog: one SQLite connection per thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # executescript manages its own transaction; the IF NOT EXISTS make it idempotent
        self._connection().executescript(SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> "Catalog":
        return cls(Path(data_dir) / CATALOG_FILE)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed whole, or rolled back and re-raised."""
        db = self._connection()
        if db.in_transaction:  # nested: join the outer transaction
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # ------------------------------------------------------------ documents

    def get(self, doc_id: str) -> Document | None:
        row = self._connection().execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return _row_to_document(row) if row else None

    def get_many(self, ids: Iterable[str]) -> dict[str, Document]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._connection().execute(f"SELECT * FROM documents WHERE id IN ({marks})", ids)
        return {row["id"]: _row_to_document(row) for row in rows}

    def find_by_url(self, url: str) -> Document | None:
        row = self._connection().execute("SELECT * FROM documents WHERE url = ?", (url,)).fetchone()
        return _row_to_document(row) if row else None

    def find_by_hash(self, digest: str, source: str | None = None) -> Document | None:
        sql = "SELECT * FROM documents WHERE content_hash = ?"
        args: list = [digest]
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        row = self._connection().execute(sql + " LIMIT 1", args).fetchone()
        return _row_to_document(row) if row else None

    def put(self, doc: Document) -> str:
        """Insert or replace a document; returns 'new', 'updated' or 'unchanged'.

        An unchanged document (same content hash, title and metadata) is left as it is,
        so re-crawling costs no re-indexing.
        """
        values = _document_to_row(doc)
        with self.transaction() as db:
            old = db.execute("SELECT * FROM documents WHERE id = ?", (doc.id,)).fetchone()
            if old is not None:
                same = all(old[k] == values[k] for k in values if k not in ("first_seen", "updated"))
                if same:
                    return "unchanged"
                values["first_seen"] = old["first_seen"]  # first seen never moves
            columns = ", ".join(values)
            marks = ", ".join(f":{k}" for k in values)
            db.execute(f"INSERT OR REPLACE INTO documents ({columns}, indexed) VALUES ({marks}, 0)", values)
            db.execute("DELETE FROM index_deletions WHERE id = ?", (doc.id,))
        return "new" if old is None else "updated"

    def delete(self, doc_id: str) -> bool:
        with self.transaction() as db:
            gone = db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount
            if gone:
                db.execute("INSERT OR IGNORE INTO index_deletions (id) VALUES (?)", (doc_id,))
        return bool(gone)

    def iter_documents(self, batch: int = 500) -> Iterator[Document]:
        last = ""
        while True:
            rows = self._connection().execute(
                "SELECT * FROM documents WHERE id > ? ORDER BY id LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            for row in rows:
                yield _row_to_document(row)
            last = rows[-1]["id"]

    def pending(self, limit: int = 500) -> list[Document]:
        rows = self._connection().execute(
            "SELECT * FROM documents WHERE indexed = 0 ORDER BY id LIMIT ?", (limit,))
        return [_row_to_document(row) for row in rows]

    def pending_deletions(self) -> list[str]:
        return [row[0] for row in self._connection().execute("SELECT id FROM index_deletions")]

    def mark_indexed(self, ids: Iterable[str], deleted: Iterable[str] = ()) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE documents SET indexed = 1 WHERE id = ?", [(i,) for i in ids])
            db.executemany("DELETE FROM index_deletions WHERE id = ?", [(i,) for i in deleted])

    def mark_all_unindexed(self) -> None:
        with self.transaction() as db:
            db.execute("UPDATE documents SET indexed = 0")

    def count(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def counts_by(self, column: str) -> dict[str, int]:
        if column not in ("source", "kind", "status", "doc_type"):
            raise ValueError(column)
        rows = self._connection().execute(
            f"SELECT {column}, COUNT(*) FROM documents GROUP BY {column} ORDER BY {column}")
        return {row[0]: row[1] for row in rows}

    def recent(self, since: datetime, limit: int = 50) -> list[Document]:
        rows = self._connection().execute(
            "SELECT * FROM documents WHERE first_seen >= ? ORDER BY first_seen DESC, id LIMIT ?",
            (to_iso(since), limit))
        return [_row_to_document(row) for row in rows]

    # ------------------------------------------------------------ crawl runs

    def start_run(self, source: str, started: datetime | None = None) -> int:
        with self.transaction() as db:
            cur = db.execute("INSERT INTO runs (source, started) VALUES (?, ?)",
                             (source, to_iso(started or utcnow())))
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, *, http_status: int | None = None, new: int = 0,
                   updated: int = 0, unchanged: int = 0, error: str | None = None,
                   warning: str | None = None, finished: datetime | None = None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished = ?, http_status = ?, new = ?, updated = ?, unchanged = ?,"
                " error = ?, warning = ? WHERE id = ?",
                (to_iso(finished or utcnow()), http_status, new, updated, unchanged, error, warning, run_id))

    def runs(self, source: str | None = None, limit: int = 20) -> list[Run]:
        sql, args = "SELECT * FROM runs", []
        if source is not None:
            sql += " WHERE source = ?"
            args.append(source)
        rows = self._connection().execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))
        return [Run(id=r["id"], source=r["source"], started=from_iso(r["started"]),
                    finished=from_iso(r["finished"]), http_status=r["http_status"], new=r["new"],
                    updated=r["updated"], unchanged=r["unchanged"], error=r["error"],
                    warning=r["warning"]) for r in rows]

    # ------------------------------------------------------------ HTTP validators

    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self._connection().execute(
            "SELECT etag, last_modified FROM http_cache WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def set_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO http_cache (url, etag, last_modified, fetched)"
                       " VALUES (?, ?, ?, ?)", (url, etag, last_modified, to_iso(utcnow())))

    # ------------------------------------------------------------ library files

    def library_files(self, library: str) -> dict[str, LibraryFile]:
        rows = self._connection().execute("SELECT * FROM library_files WHERE library = ?", (library,))
        return {r["path"]: LibraryFile(**dict(r)) for r in rows}

    def set_library_file(self, entry: LibraryFile) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO library_files VALUES (?, ?, ?, ?, ?, ?)",
                       (entry.library, entry.path, entry.size, entry.mtime_ns, entry.sha256, entry.doc_id))

    def forget_library_file(self, library: str, path: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM library_files WHERE library = ? AND path = ?", (library, path))
