"""The catalog: the one SQLite file of the data directory, and a repository per entity.

    catalog = Catalog.open(config.layout)
    catalog.documents.put(doc)
    with catalog.transaction():        # several writes, committed together
        ...

Opening brings the file to the current schema version (`veille.storage.migrations`). Each
repository holds the SQL of its tables; this class only wires them to one `Database`.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

from veille.core.layout import DataDir
from veille.storage.alerts import AlertRepository
from veille.storage.crawl_requests import CrawlRequestRepository
from veille.storage.cursors import CursorRepository
from veille.storage.db import Database
from veille.storage.digests import DigestRepository
from veille.storage.documents import DocumentRepository
from veille.storage.edits import EditRepository
from veille.storage.legal_keys import LegalKeyRepository
from veille.storage.lettres import LettreRepository
from veille.storage.library_files import LibraryFileRepository
from veille.storage.migrations import migrate
from veille.storage.queue import IndexQueue
from veille.storage.runs import RunRepository
from veille.storage.schedule import ScheduleRepository
from veille.storage.secrets import SecretRepository
from veille.storage.snapshots import SnapshotRepository
from veille.storage.source_state import SourceStateRepository
from veille.storage.subscribers import SubscriberRepository
from veille.storage.triage import TriageRepository
from veille.storage.unsubscriptions import UnsubscriptionRepository
from veille.storage.users import UserRepository
from veille.storage.validators import ValidatorRepository


class Catalog:
    """Thread-safe access to the catalog: one SQLite connection per thread."""

    def __init__(self, path: Path):
        self.db = Database(path)
        migrate(self.db)
        self.documents = DocumentRepository(self.db)
        self.edits = EditRepository(self.db)
        self.queue = IndexQueue(self.db)
        self.legal_keys = LegalKeyRepository(self.db)
        self.runs = RunRepository(self.db)
        self.source_state = SourceStateRepository(self.db)
        self.cursors = CursorRepository(self.db)
        self.snapshots = SnapshotRepository(self.db)
        self.validators = ValidatorRepository(self.db)
        self.library_files = LibraryFileRepository(self.db)
        self.alerts = AlertRepository(self.db)
        self.digests = DigestRepository(self.db)
        self.unsubscriptions = UnsubscriptionRepository(self.db)
        self.secrets = SecretRepository(self.db)
        self.users = UserRepository(self.db)
        self.schedule = ScheduleRepository(self.db)
        self.lettres = LettreRepository(self.db)
        self.triage = TriageRepository(self.db)
        self.subscribers = SubscriberRepository(self.db)
        self.crawl_requests = CrawlRequestRepository(self.db)

    @classmethod
    def open(cls, layout: DataDir) -> "Catalog":
        return cls(layout.catalog)

    @property
    def path(self) -> Path:
        return self.db.path

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One transaction around several repositories' writes (theirs join it)."""
        return self.db.transaction()

    def damage(self, max_errors: int = 1) -> str | None:
        """What SQLite's quick check finds wrong with the catalog (a damaged page, a broken
        index), or None. It reads every page once: call it from time to time, not per
        request."""
        try:
            rows = self.db.connection().execute(f"PRAGMA quick_check({int(max_errors)})").fetchall()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        found = [row[0] for row in rows if row[0] != "ok"]
        return "; ".join(found) or None

    def close(self) -> None:
        """Close this thread's connection."""
        self.db.close()

    def end_request(self) -> None:
        """Roll back a transaction this thread left open (see `Database.end_request`)."""
        self.db.end_request()

    def close_all(self) -> None:
        """Close every thread's connection (nothing may be using the catalog)."""
        self.db.close_all()
