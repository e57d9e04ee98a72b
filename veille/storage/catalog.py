"""The document catalog: every SQL statement of Veille lives here.

One SQLite file in the data directory (WAL mode, so the web's readers never wait for the
crawler's writer). It holds the documents (crawled and library), which of them still need
indexing, the crawl run log, per-source state, HTTP validators and library file signatures,
the alerts created in the web UI and the digest archive with each recipient's last period.
Datetimes are stored as ISO 8601 strings in UTC.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Iterator, Mapping

from veille.core.records import Document

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
    indexed INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 0   -- bumped by every change, so indexing a stale copy
                                          -- never marks the newer one indexed
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

-- legal keys of each document (indexer.enrich.legal): those naming the document itself ('self')
-- and those it cites ('cites'); kept in step with documents.extra by put() and delete()
CREATE TABLE IF NOT EXISTS legal_keys (
    doc_id TEXT NOT NULL,
    key TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (doc_id, role, key)
);
CREATE INDEX IF NOT EXISTS legal_keys_key ON legal_keys(key, role);

-- per-source crawl state: failures and backoff, shown by `veille sources`
CREATE TABLE IF NOT EXISTS source_state (
    source TEXT PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_attempt TEXT,
    last_success TEXT,
    last_error TEXT,
    last_error_code TEXT,
    last_error_at TEXT,
    backoff_until TEXT
);

-- the last text seen of each watched page (`change` sources), to diff the next version against
CREATE TABLE IF NOT EXISTS page_snapshots (
    source TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    seen TEXT NOT NULL
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

-- alerts created by staff in the web UI (the YAML ones live in sources.yaml)
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    query TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{}',
    recipients TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);

-- end of the last period delivered to each recipient: the next digest starts there
CREATE TABLE IF NOT EXISTS digest_periods (
    recipient TEXT PRIMARY KEY,
    period_end TEXT NOT NULL,
    digest_id TEXT NOT NULL
);

-- every digest composed for sending, whatever became of it:
-- status sending (recorded before SMTP) -> sent | failed -> superseded (by a later sent one)
CREATE TABLE IF NOT EXISTS digests (
    id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    created TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    sent TEXT,
    message_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    documents INTEGER NOT NULL DEFAULT 0,
    html TEXT NOT NULL,
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS digests_recipient ON digests(recipient, created);
CREATE INDEX IF NOT EXISTS digests_created ON digests(created);

-- which alert matched which document in a digest (the Atom feed per alert reads it)
CREATE TABLE IF NOT EXISTS digest_items (
    digest_id TEXT NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    alert TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    date TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (digest_id, alert, doc_id)
);
CREATE INDEX IF NOT EXISTS digest_items_alert ON digest_items(alert);

-- alert '*' means every alert of that recipient
CREATE TABLE IF NOT EXISTS unsubscriptions (
    recipient TEXT NOT NULL,
    alert TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (recipient, alert)
);

-- staff accounts (web/auth.py): the password only as a salted KDF hash (scrypt)
CREATE TABLE IF NOT EXISTS staff_users (
    email TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL,
    last_login TEXT
);

-- random keys generated once per data directory (signed links, sessions)
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

SCHEMA_OBJECTS = frozenset(re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", SCHEMA))

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
class StaffUser:
    email: str
    password_hash: str
    created: datetime
    last_login: datetime | None


@dataclass(frozen=True)
class SavedAlert:
    """An alert created in the web UI."""

    id: int
    name: str
    query: str
    filters: Mapping[str, tuple[str, ...]]
    recipients: tuple[str, ...]
    created: datetime
    updated: datetime


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


@dataclass(frozen=True)
class DigestItem:
    """A document an alert matched in a digest."""

    alert: str
    doc_id: str
    title: str
    link: str
    date: datetime
    summary: str = ""


@dataclass(frozen=True)
class SourceState:
    source: str
    consecutive_failures: int = 0
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_code: str | None = None
    last_error_at: datetime | None = None
    backoff_until: datetime | None = None


@dataclass(frozen=True)
class PageSnapshot:
    source: str
    url: str
    content_hash: str
    text: str
    seen: datetime


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


def _set_legal_keys(db: sqlite3.Connection, doc: Document) -> None:
    extra = doc.extra or {}
    own = [str(k) for k in extra.get("legal_ids", ())]
    cited = [str(k) for k in extra.get("legal_refs", ()) if k not in own]
    db.execute("DELETE FROM legal_keys WHERE doc_id = ?", (doc.id,))
    db.executemany("INSERT OR IGNORE INTO legal_keys (doc_id, key, role) VALUES (?, ?, ?)",
                   [(doc.id, k, "self") for k in own] + [(doc.id, k, "cites") for k in cited])


def _row_to_run(r: sqlite3.Row) -> Run:
    return Run(id=r["id"], source=r["source"], started=from_iso(r["started"]),
               finished=from_iso(r["finished"]), http_status=r["http_status"], new=r["new"],
               updated=r["updated"], unchanged=r["unchanged"], error=r["error"], warning=r["warning"])


def _row_to_state(row: sqlite3.Row) -> SourceState:
    return SourceState(
        source=row["source"], consecutive_failures=row["consecutive_failures"],
        last_attempt=from_iso(row["last_attempt"]), last_success=from_iso(row["last_success"]),
        last_error=row["last_error"], last_error_code=row["last_error_code"],
        last_error_at=from_iso(row["last_error_at"]), backoff_until=from_iso(row["backoff_until"]))


def _document_to_row(doc: Document) -> dict:
    # not asdict(): it deep-copies, and the MappingProxyType of `extra` cannot be copied
    values = {name: getattr(doc, name) for name in _DOC_COLUMNS}
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
        db = self._connection()
        existing = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        # Only write when something is missing: a catalog on a full or read-only disk must
        # still open for reading (search keeps answering). executescript manages its own
        # transaction; the IF NOT EXISTS make it idempotent.
        if not SCHEMA_OBJECTS <= existing:
            db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
        if "revision" not in columns:  # a catalog made before revisions existed
            db.execute("ALTER TABLE documents ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")

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

    def text_of(self, doc_id: str) -> str:
        """A document's text (its summary when it has none), without decoding the whole row:
        what search snippets read for each hit shown."""
        row = self._connection().execute(
            "SELECT content, summary FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return (row[0] or row[1]) if row else ""

    def get_many(self, ids: Iterable[str]) -> dict[str, Document]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._connection().execute(f"SELECT * FROM documents WHERE id IN ({marks})", ids)
        return {row["id"]: _row_to_document(row) for row in rows}

    def cards(self, ids: Iterable[str]) -> dict[str, Document]:
        """Documents without their text (content empty): what a list of search hits shows."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        columns = ", ".join("'' AS content" if name == "content" else name for name in _DOC_COLUMNS)
        rows = self._connection().execute(f"SELECT {columns} FROM documents WHERE id IN ({marks})", ids)
        return {row["id"]: _row_to_document(row) for row in rows}

    def extras_of(self, ids: Iterable[str]) -> dict[str, dict]:
        """doc id -> its `extra` mapping, without reading the rest of the rows: the search
        page asks for the legal ids of every hit it shows, and decoding whole documents
        (text included) cost more than the search when its page was cached."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._connection().execute(f"SELECT id, extra FROM documents WHERE id IN ({marks})", ids)
        return {row[0]: json.loads(row[1]) for row in rows}

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
            values["revision"] = (old["revision"] + 1) if old is not None else 1
            db.execute(f"INSERT OR REPLACE INTO documents ({columns}, indexed, revision)"
                       f" VALUES ({marks}, 0, :revision)", values)
            db.execute("DELETE FROM index_deletions WHERE id = ?", (doc.id,))
            _set_legal_keys(db, doc)
        return "new" if old is None else "updated"

    def delete(self, doc_id: str) -> bool:
        with self.transaction() as db:
            gone = db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount
            if gone:
                db.execute("INSERT OR IGNORE INTO index_deletions (id) VALUES (?)", (doc_id,))
                db.execute("DELETE FROM legal_keys WHERE doc_id = ?", (doc_id,))
        return bool(gone)

    # ------------------------------------------------------------ legal keys

    def legal_key_documents(self, keys: Iterable[str], role: str) -> dict[str, list[str]]:
        """For each key, the ids of the documents it names (`role="self"`) or that cite it
        (`role="cites"`); keys no document has are left out."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, list[str]] = {}
        for start in range(0, len(keys), 500):  # SQLite caps the number of parameters
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._connection().execute(
                f"SELECT key, doc_id FROM legal_keys WHERE role = ? AND key IN ({marks})"
                " ORDER BY key, doc_id", (role, *chunk))
            for row in rows:
                found.setdefault(row["key"], []).append(row["doc_id"])
        return found

    def legal_key_prefix_documents(self, patterns: Iterable[str], role: str) -> list[str]:
        """Ids of documents with a key matching one of the LIKE `patterns` (`article:%:loi:2014-173`)."""
        ids: set[str] = set()
        for pattern in patterns:
            rows = self._connection().execute(
                "SELECT DISTINCT doc_id FROM legal_keys WHERE role = ? AND key LIKE ?", (role, pattern))
            ids.update(row[0] for row in rows)
        return sorted(ids)

    def refresh_legal_keys(self) -> int:
        """Rebuild the legal_keys table from every document's extra (after an upgrade)."""
        count = 0
        with self.transaction() as db:
            db.execute("DELETE FROM legal_keys")
            for doc in self.iter_documents():
                _set_legal_keys(db, doc)
                count += 1
        return count

    def ids(self) -> Iterator[str]:
        for row in self._connection().execute("SELECT id FROM documents"):
            yield row[0]

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

    def pending_batch(self, limit: int = 500) -> tuple[list[Document], dict[str, int]]:
        """Documents waiting for the index, with the revision read at the same moment."""
        rows = self._connection().execute(
            "SELECT * FROM documents WHERE indexed = 0 ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [_row_to_document(row) for row in rows], {row["id"]: row["revision"] for row in rows}

    def revisions(self) -> dict[str, int]:
        return dict(self._connection().execute("SELECT id, revision FROM documents"))

    def pending_count(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM documents WHERE indexed = 0").fetchone()[0]

    def pending_deletions(self) -> list[str]:
        return [row[0] for row in self._connection().execute("SELECT id FROM index_deletions")]

    def mark_indexed(self, ids: Iterable[str], deleted: Iterable[str] = (),
                     revisions: Mapping[str, int] | None = None) -> None:
        """Record that the index holds these documents. With `revisions` (as read when the
        documents were), a document changed since then stays pending."""
        with self.transaction() as db:
            if revisions is None:
                db.executemany("UPDATE documents SET indexed = 1 WHERE id = ?", [(i,) for i in ids])
            else:
                db.executemany("UPDATE documents SET indexed = 1 WHERE id = ? AND revision = ?",
                               [(i, revisions[i]) for i in ids if i in revisions])
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
        return [_row_to_run(r) for r in rows]

    def last_successful_crawl(self) -> datetime | None:
        """When the most recent crawl run without error finished (any source)."""
        row = self._connection().execute(
            "SELECT MAX(finished) FROM runs WHERE finished IS NOT NULL AND error IS NULL").fetchone()
        return from_iso(row[0]) if row else None

    def last_runs(self) -> dict[str, Run]:
        """The latest run of every source that ran at least once."""
        rows = self._connection().execute(
            "SELECT * FROM runs WHERE id IN (SELECT MAX(id) FROM runs GROUP BY source)")
        return {r["source"]: _row_to_run(r) for r in rows}

    # ------------------------------------------------------------ source state

    def source_state(self, source: str) -> SourceState:
        row = self._connection().execute(
            "SELECT * FROM source_state WHERE source = ?", (source,)).fetchone()
        return _row_to_state(row) if row else SourceState(source=source)

    def source_states(self) -> dict[str, SourceState]:
        rows = self._connection().execute("SELECT * FROM source_state")
        return {row["source"]: _row_to_state(row) for row in rows}

    def record_success(self, source: str, when: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO source_state (source, consecutive_failures, last_attempt, last_success)"
                " VALUES (?, 0, ?, ?) ON CONFLICT(source) DO UPDATE SET consecutive_failures = 0,"
                " last_attempt = excluded.last_attempt, last_success = excluded.last_success,"
                " backoff_until = NULL", (source, to_iso(when), to_iso(when)))

    def record_failure(self, source: str, when: datetime, error: str, code: str,
                       backoff_until: datetime | None) -> int:
        """Count one more consecutive failure; returns the new count."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO source_state (source, consecutive_failures, last_attempt, last_error,"
                " last_error_code, last_error_at, backoff_until) VALUES (?, 1, ?, ?, ?, ?, ?)"
                " ON CONFLICT(source) DO UPDATE SET"
                " consecutive_failures = consecutive_failures + 1, last_attempt = excluded.last_attempt,"
                " last_error = excluded.last_error, last_error_code = excluded.last_error_code,"
                " last_error_at = excluded.last_error_at, backoff_until = excluded.backoff_until",
                (source, to_iso(when), error, code, to_iso(when), to_iso(backoff_until)))
            return db.execute("SELECT consecutive_failures FROM source_state WHERE source = ?",
                              (source,)).fetchone()[0]

    def set_backoff(self, source: str, until: datetime | None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE source_state SET backoff_until = ? WHERE source = ?", (to_iso(until), source))

    # ------------------------------------------------------------ watched pages

    def page_snapshot(self, source: str) -> PageSnapshot | None:
        row = self._connection().execute(
            "SELECT * FROM page_snapshots WHERE source = ?", (source,)).fetchone()
        if row is None:
            return None
        return PageSnapshot(source=row["source"], url=row["url"], content_hash=row["content_hash"],
                            text=row["text"], seen=from_iso(row["seen"]))

    def set_page_snapshot(self, snapshot: PageSnapshot) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO page_snapshots VALUES (?, ?, ?, ?, ?)",
                       (snapshot.source, snapshot.url, snapshot.content_hash, snapshot.text,
                        to_iso(snapshot.seen)))

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

    def library_names(self) -> list[str]:
        """Libraries that have files recorded (configured or not any more)."""
        rows = self._connection().execute("SELECT DISTINCT library FROM library_files ORDER BY library")
        return [row[0] for row in rows]

    # ------------------------------------------------------------ alerts (web UI)

    def saved_alerts(self) -> list[SavedAlert]:
        rows = self._connection().execute("SELECT * FROM alerts ORDER BY name COLLATE NOCASE, id")
        return [_row_to_alert(r) for r in rows]

    def saved_alert(self, alert_id: int) -> SavedAlert | None:
        row = self._connection().execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return _row_to_alert(row) if row else None

    def save_alert(self, name: str, query: str, filters: Mapping[str, Iterable[str]],
                   recipients: Iterable[str], alert_id: int | None = None) -> int:
        """Create an alert (alert_id None) or replace one; returns its id.

        Raises ValueError when another alert already has that name.
        """
        now = to_iso(utcnow())
        values = (name, query, json.dumps({k: list(v) for k, v in filters.items()}, ensure_ascii=False),
                  json.dumps(list(recipients), ensure_ascii=False))
        try:
            with self.transaction() as db:
                if alert_id is None:
                    cur = db.execute("INSERT INTO alerts (name, query, filters, recipients, created, updated)"
                                     " VALUES (?, ?, ?, ?, ?, ?)", (*values, now, now))
                    return int(cur.lastrowid)
                cur = db.execute("UPDATE alerts SET name = ?, query = ?, filters = ?, recipients = ?,"
                                 " updated = ? WHERE id = ?", (*values, now, alert_id))
                if not cur.rowcount:
                    raise KeyError(alert_id)
                return alert_id
        except sqlite3.IntegrityError:
            raise ValueError(f"an alert named {name!r} already exists") from None

    def delete_alert(self, alert_id: int) -> bool:
        with self.transaction() as db:
            return bool(db.execute("DELETE FROM alerts WHERE id = ?", (alert_id,)).rowcount)

    # ------------------------------------------------------------ digests

    def digest_period_end(self, recipient: str) -> datetime | None:
        row = self._connection().execute(
            "SELECT period_end FROM digest_periods WHERE recipient = ?", (recipient,)).fetchone()
        return from_iso(row[0]) if row else None

    def sent_documents(self, recipient: str, since: datetime) -> set[str]:
        """Ids of documents in digests delivered to `recipient` whose period ended after `since`."""
        rows = self._connection().execute(
            "SELECT DISTINCT i.doc_id FROM digest_items i JOIN digests d ON d.id = i.digest_id"
            " WHERE d.recipient = ? AND d.status = 'sent' AND d.period_end > ?", (recipient, to_iso(since)))
        return {row[0] for row in rows}

    def first_unsent_start(self, recipient: str) -> datetime | None:
        """Start of the earliest digest to `recipient` that never got through, if any."""
        row = self._connection().execute(
            "SELECT MIN(period_start) FROM digests WHERE recipient = ? AND status IN ('failed', 'sending')",
            (recipient,)).fetchone()
        return from_iso(row[0]) if row and row[0] else None

    def add_digest(self, digest: DigestRecord, items: Iterable[DigestItem] = ()) -> None:
        """Archive a digest (before it is sent: status 'sending') with its matched items."""
        values = asdict(digest)
        for name in ("period_start", "period_end", "created", "sent"):
            values[name] = to_iso(values[name])
        with self.transaction() as db:
            columns = ", ".join(values)
            db.execute(f"INSERT INTO digests ({columns}) VALUES ({', '.join(f':{k}' for k in values)})", values)
            db.executemany(
                "INSERT OR IGNORE INTO digest_items (digest_id, alert, doc_id, title, link, date, summary)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(digest.id, i.alert, i.doc_id, i.title, i.link, to_iso(i.date), i.summary) for i in items])

    def digest_sent(self, digest_id: str, sent: datetime) -> None:
        """Mark a digest delivered and move its recipient's period to its end, atomically."""
        with self.transaction() as db:
            row = db.execute("SELECT recipient, period_end FROM digests WHERE id = ?", (digest_id,)).fetchone()
            if row is None:
                raise KeyError(digest_id)
            db.execute("UPDATE digests SET status = 'sent', sent = ?, error = NULL, attempts = attempts + 1"
                       " WHERE id = ?", (to_iso(sent), digest_id))
            # a failed digest always started at or after the recipient's last period end, as
            # this one did: this one carries its documents
            db.execute("UPDATE digests SET status = 'superseded' WHERE recipient = ? AND status = 'failed'",
                       (row["recipient"],))
            db.execute("INSERT INTO digest_periods (recipient, period_end, digest_id) VALUES (?, ?, ?)"
                       " ON CONFLICT(recipient) DO UPDATE SET period_end = excluded.period_end,"
                       " digest_id = excluded.digest_id WHERE excluded.period_end > digest_periods.period_end",
                       (row["recipient"], row["period_end"], digest_id))

    def digest_failed(self, digest_id: str, error: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE digests SET status = 'failed', error = ?, attempts = attempts + 1"
                       " WHERE id = ?", (error, digest_id))

    def get_digest(self, digest_id: str) -> DigestRecord | None:
        row = self._connection().execute("SELECT * FROM digests WHERE id = ?", (digest_id,)).fetchone()
        return _row_to_digest(row) if row else None

    def digests(self, *, status: str | None = None, recipient: str | None = None,
                limit: int = 50, offset: int = 0) -> list[DigestRecord]:
        sql, args = "SELECT * FROM digests WHERE 1 = 1", []
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if recipient is not None:
            sql += " AND recipient = ?"
            args.append(recipient)
        rows = self._connection().execute(sql + " ORDER BY created DESC, id LIMIT ? OFFSET ?",
                                          (*args, limit, offset))
        return [_row_to_digest(r) for r in rows]

    def count_digests(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM digests").fetchone()[0]

    def digest_items(self, digest_id: str) -> list[DigestItem]:
        rows = self._connection().execute(
            "SELECT * FROM digest_items WHERE digest_id = ? ORDER BY alert, date DESC", (digest_id,))
        return [_row_to_item(r) for r in rows]

    def alert_feed_items(self, alert: str, limit: int = 50) -> list[DigestItem]:
        """Documents an alert matched in delivered digests, newest first, each once."""
        rows = self._connection().execute(
            "SELECT i.alert, i.doc_id, i.title, i.link, MAX(i.date) AS date, i.summary"
            " FROM digest_items i JOIN digests d ON d.id = i.digest_id"
            " WHERE i.alert = ? AND d.status = 'sent' GROUP BY i.doc_id ORDER BY date DESC, i.doc_id LIMIT ?",
            (alert, limit))
        return [_row_to_item(r) for r in rows]

    # ------------------------------------------------------------ unsubscriptions

    def unsubscribe(self, recipient: str, alert: str = "*") -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO unsubscriptions (recipient, alert, created) VALUES (?, ?, ?)",
                       (recipient, alert, to_iso(utcnow())))

    def unsubscriptions(self) -> set[tuple[str, str]]:
        rows = self._connection().execute("SELECT recipient, alert FROM unsubscriptions")
        return {(r[0], r[1]) for r in rows}

    # ------------------------------------------------------------ secrets

    def secret(self, name: str) -> str:
        """A random key created on first use and kept with the data (signed links stay valid)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
                       (name, secrets.token_urlsafe(32)))
            return db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0]


    # ------------------------------------------------------------ staff accounts

    def add_staff_user(self, email: str, password_hash: str) -> bool:
        """Create an account; False (and nothing changed) when the address already has one."""
        with self.transaction() as db:
            cur = db.execute("INSERT OR IGNORE INTO staff_users (email, password_hash, created)"
                             " VALUES (?, ?, ?)", (email, password_hash, to_iso(utcnow())))
            return cur.rowcount == 1

    def set_staff_password(self, email: str, password_hash: str) -> bool:
        with self.transaction() as db:
            cur = db.execute("UPDATE staff_users SET password_hash = ? WHERE email = ?",
                             (password_hash, email))
            return cur.rowcount == 1

    def staff_user(self, email: str) -> StaffUser | None:
        row = self._connection().execute("SELECT * FROM staff_users WHERE email = ?", (email,)).fetchone()
        return _row_to_staff(row) if row else None

    def staff_users(self) -> list[StaffUser]:
        rows = self._connection().execute("SELECT * FROM staff_users ORDER BY email")
        return [_row_to_staff(row) for row in rows]

    def remove_staff_user(self, email: str) -> bool:
        with self.transaction() as db:
            return db.execute("DELETE FROM staff_users WHERE email = ?", (email,)).rowcount == 1

    def staff_logged_in(self, email: str, when: datetime | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE staff_users SET last_login = ? WHERE email = ?",
                       (to_iso(when or utcnow()), email))


def _row_to_staff(row: sqlite3.Row) -> StaffUser:
    return StaffUser(email=row["email"], password_hash=row["password_hash"],
                     created=from_iso(row["created"]), last_login=from_iso(row["last_login"]))


def _row_to_alert(row: sqlite3.Row) -> SavedAlert:
    filters = {k: tuple(v) for k, v in json.loads(row["filters"]).items()}
    return SavedAlert(id=row["id"], name=row["name"], query=row["query"],
                      filters=MappingProxyType(filters), recipients=tuple(json.loads(row["recipients"])),
                      created=from_iso(row["created"]), updated=from_iso(row["updated"]))


def _row_to_digest(row: sqlite3.Row) -> DigestRecord:
    values = {f.name: row[f.name] for f in fields(DigestRecord)}
    for name in ("period_start", "period_end", "created", "sent"):
        values[name] = from_iso(values[name])
    values["raw"] = bytes(values["raw"])
    return DigestRecord(**values)


def _row_to_item(row: sqlite3.Row) -> DigestItem:
    return DigestItem(alert=row["alert"], doc_id=row["doc_id"], title=row["title"], link=row["link"],
                      date=from_iso(row["date"]), summary=row["summary"])


# ---------------------------------------------------------------- whole-file operations (backup)

SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite_file(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def snapshot_sqlite(source: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (WAL included), via the backup API."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
        finally:
            out.close()
    finally:
        src.close()


def sqlite_problem(path: Path) -> str | None:
    """None when the database passes SQLite's integrity check, else what is wrong."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        return str(exc)
    return None if result == "ok" else result
