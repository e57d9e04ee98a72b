"""The data directory's layout, in one place: every file Veille keeps and where.

    <data_dir>/
        catalog.sqlite3        documents, queue, runs, alerts, digests, accounts, the
                               scheduler's next run times (veille.storage)
        search/CURRENT         names the index in use; search/<engine>-<stamp>/ the indexes
        search/.write.lock     held by every index write and backup copy
        files/                 stored copies of fetched files, content-addressed
        scheduler.sqlite3      the job store of releases before the scheduler's state moved
                               into the catalog: read once on the first start, then renamed
                               scheduler.sqlite3.imported (veille.jobs.jobstore)
        secret_key             the session key (0600), unless $VEILLE_SECRET_KEY is set
        digest.lock            one digest run at a time

Nothing here touches the disk: the floors that own each file open it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.sqlite3"

    @property
    def search(self) -> Path:
        return self.root / "search"

    @property
    def search_current(self) -> Path:
        return self.search / "CURRENT"

    @property
    def search_write_lock(self) -> Path:
        return self.search / ".write.lock"

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def old_jobstore(self) -> Path:
        return self.root / "scheduler.sqlite3"

    @property
    def secret_key(self) -> Path:
        return self.root / "secret_key"

    @property
    def digest_lock(self) -> Path:
        return self.root / "digest.lock"
