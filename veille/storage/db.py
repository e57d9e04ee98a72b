"""The one SQLite connection helper: a connection per thread, WAL, whole transactions.

WAL mode lets the web's readers go on while the crawler writes. Datetimes are stored as
ISO 8601 strings: instants in UTC (`to_iso`), dates stated by a source with their own offset
(`stated_iso`); `from_iso` reads both.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")

FILE_MODE = 0o600  # the catalog holds password hashes and the unsubscribe key


def to_iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def stated_iso(value: datetime | None) -> str | None:
    """A date-time as its source stated it, its offset kept (a naive one is taken as UTC):
    for dates whose calendar day is the source's, not UTC's (a publication date)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat(timespec="seconds")


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _create_private(path: Path) -> None:
    """Create an empty database file readable by its owner only, before SQLite opens it:
    SQLite gives its -wal and -shm files the mode of the database file."""
    if path.exists():
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:  # another process created it meanwhile
        return
    os.close(fd)


class Database:
    """Thread-safe access to one SQLite file: one connection per thread.

    A thread keeps its connection until `close()` (from that thread) or `close_all()`:
    opening one costs far more than most queries (its page cache starts cold, and closing
    the last connection of a WAL database checkpoints it), so a server's pool threads each
    keep theirs for the life of the app.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(self.path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[sqlite3.Connection] = set()
        self._generation = 0     # bumped by close_all: threads then open a fresh connection
        self._answers: dict[str, object] = {}   # see `remembered`
        self._answers_version: int | None = None
        self._watcher: sqlite3.Connection | None = None

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use), in autocommit outside `transaction()`."""
        db = getattr(self._local, "db", None)
        if db is None or self._local.generation != self._generation:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            with self._lock:
                self._open.add(db)
                self._local.db, self._local.generation = db, self._generation
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed whole, or rolled back and re-raised."""
        db = self.connection()
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

    def remembered(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()`, answered again from memory until anything is committed to the file,
        by any connection of any process: a watching connection's `PRAGMA data_version`
        changes then. For aggregates over the whole catalog that a page shows on every view."""
        if self.connection().in_transaction:   # this thread's own writes are not committed yet
            return compute()
        with self._lock:
            if self._watcher is None:
                self._watcher = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                                check_same_thread=False)
            version = self._watcher.execute("PRAGMA data_version").fetchone()[0]
            if version != self._answers_version:
                self._answers, self._answers_version = {}, version
            if key in self._answers:
                return self._answers[key]
        value = compute()
        with self._lock:
            if self._answers_version == version:
                self._answers[key] = value
        return value

    def end_request(self) -> None:
        """Roll back a transaction this thread's connection left open (a request that
        failed between BEGIN and COMMIT must not keep the write lock)."""
        db = getattr(self._local, "db", None)
        if db is not None and self._local.generation == self._generation and db.in_transaction:
            db.rollback()

    def close(self) -> None:
        """Close this thread's connection (the next use opens a new one)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            with self._lock:
                self._open.discard(db)
            db.close()
            self._local.db = None

    def close_all(self) -> None:
        """Close every thread's connection; call it when no thread uses the database any
        more (a server that stopped). A thread using it later opens a new one."""
        with self._lock:
            self._generation += 1
            connections, self._open = self._open, set()
            if self._watcher is not None:
                connections.add(self._watcher)
            self._watcher, self._answers, self._answers_version = None, {}, None
        for db in connections:
            db.close()
        self._local.db = None
