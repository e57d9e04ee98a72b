"""What `veille run`'s jobs do: crawl a source then index what it found, crawl one the
team asked for now, index what an earlier process left pending, merge the index's segments.

One `Jobs` per scheduler holds the live configuration (replaced when the file changes, see
veille.jobs.watcher), catalog, fetcher and search space the jobs share; the scheduler's jobs
are its bound methods. `after_crawl` holds what runs after a crawl and its indexing (the
immediate alerts): functions `(report, jobs)`.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Callable

from indexer.search.space import DocumentSpace
from veille.core.config import Config, Source
from veille.core.errors import VeilleError, storage_error_message
from veille.core.logs import log_event, timed
from veille.storage.catalog import Catalog
from watch.crawler import CrawlReport, crawl_sources
from watch.fetcher import Fetcher

log = logging.getLogger(__name__)


class Jobs:
    """The work of the scheduled jobs and the objects it shares; `close()` releases them."""

    def __init__(self, config: Config, catalog: Catalog, fetcher: Fetcher, *,
                 index_after_crawl: bool = True,
                 on_report: Callable[[CrawlReport], None] | None = None):
        self.config = config
        self.catalog = catalog
        self.fetcher = fetcher
        self.index_after_crawl = index_after_crawl
        self.on_report = on_report
        self.after_crawl: list[Callable[[CrawlReport, "Jobs"], None]] = []
        self._index_lock = threading.Lock()   # one index writer at a time in this process
        self._source_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._space: DocumentSpace | None = None

    def crawl(self, source_name: str) -> None:
        """A source's job: crawl it (unless it is backing off), then index what changed."""
        try:
            source = self.config.source(source_name)
        except KeyError:
            log.warning("tâche de relevé d'une source inconnue ignorée : %s", source_name)
            return
        self._crawl(source, respect_backoff=True)

    def crawl_requested(self, source_name: str, requested: datetime) -> None:
        """« Relever maintenant »: crawl the source now, backing off or paused, then mark the
        request made at `requested` done."""
        try:
            source = self.config.source(source_name)
        except KeyError:
            log.warning("relevé demandé d'une source qui n'est plus dans la configuration : %s", source_name)
        else:
            log.info("relevé demandé de %s", source_name)
            self._crawl(source, respect_backoff=False)
        self.catalog.crawl_requests.done(source_name, requested)

    def _crawl(self, source: Source, respect_backoff: bool) -> None:
        # one crawl of a source at a time: its scheduled run and a requested one wait in turn
        with self._source_lock(source.name):
            with timed() as clock:
                [report] = crawl_sources(self.config, self.catalog, self.fetcher, [source],
                                         respect_backoff=respect_backoff)
        log_event(log, "crawl", logging.WARNING if report.error else logging.INFO, source=source.name,
                  duration=clock["duration"], new=report.new, updated=report.updated,
                  unchanged=report.unchanged, http_status=report.http_status,
                  skipped=True if report.skipped else None, error=report.error)
        if self.on_report is not None:
            self.on_report(report)
        if report.changed and self.index_after_crawl:
            self.index()
        for listener in self.after_crawl:
            try:
                listener(report, self)
            except Exception:   # an alert that cannot be sent must not stop the crawls
                log.exception("après le relevé de %s : échec", source.name)

    def _source_lock(self, name: str) -> threading.Lock:
        with self._locks_lock:
            return self._source_locks.setdefault(name, threading.Lock())

    def index(self) -> None:
        """Index what the catalog holds pending (the job left by an interrupted process, and
        the step after each crawl). Never raises: what fails stays pending for the next run."""
        try:
            with self._index_lock:
                report = self._open_space().index_pending()
        except VeilleError as exc:   # an index to rebuild: one line says so, the crawls go on
            log.warning("indexation impossible : %s", exc)
            return
        except Exception as exc:
            self._log_failure("indexation (les documents restent en attente)", exc)
            return
        log_event(log, "index", documents=report.indexed, deleted=report.deleted, duration=report.seconds)

    def optimize(self) -> None:
        """Merge the index's segments (searches keep working; writers wait)."""
        started = time.monotonic()
        try:
            with self._index_lock:
                self._open_space().optimize()
        except VeilleError as exc:
            log.warning("optimisation de l'index impossible : %s", exc)
            return
        except Exception as exc:
            self._log_failure("optimisation de l'index", exc)
            return
        log_event(log, "optimize", engine=self.config.search.engine,
                  duration=round(time.monotonic() - started, 1))

    def _log_failure(self, what: str, exc: Exception) -> None:
        """One line in the journal for a job that failed (a full disk says so plainly); the
        traceback only with --verbose."""
        reason = storage_error_message(exc, self.config.data_dir) or f"{type(exc).__name__}: {exc}"
        log.error("%s impossible : %s", what, reason, exc_info=log.isEnabledFor(logging.DEBUG))

    def space(self) -> DocumentSpace:
        """The search space the jobs index into (opened on first use), for searches."""
        return self._open_space()

    def _open_space(self) -> DocumentSpace:
        if self._space is None:
            self._space = DocumentSpace(self.config, catalog=self.catalog)
        return self._space

    def close(self) -> None:
        with self._index_lock:
            if self._space is not None:
                self._space.close()
                self._space = None
        self.fetcher.close()
