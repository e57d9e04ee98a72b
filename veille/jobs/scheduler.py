"""`veille run`: each source crawled on its schedule, the index kept up to date after each run.

APScheduler 3.x `BackgroundScheduler` with a persistent SQLite job store in the data
directory. A restart neither loses nor duplicates runs:

- jobs are kept across restarts with their next run time; at start-up `sync_source_jobs`
  keeps a job whose schedule did not change (so a run that fell due while the process was
  down happens once, right away), reschedules one whose schedule changed, adds new sources
  and removes the jobs of sources that left `sources.yaml`;
- `coalesce=True`: several missed runs of a job make one run; `max_instances=1`: a crawl
  still running when the next falls due is not started twice; the misfire grace time is
  unlimited (`None`): a crawl is always worth catching up, once.

A failing source backs off (see `watch.crawler.backoff_delay`): its scheduled runs are
skipped until the backoff ends, so a dead server is asked less and less often, and the
source recovers by itself on the first run that succeeds.

Jobs are stored by reference (`veille.jobs.scheduler:crawl_job` and the source's name), so they
reach the live configuration, catalog and fetcher through the module's `Runtime`. Other jobs
(the digest) are added with `ensure_job` by a function passed to `build_scheduler`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from veille.storage.catalog import Catalog
from veille.core.config import Config
from veille.core.errors import storage_error_message
from veille.core.schedules import schedule_trigger
from watch.crawler import RunReport, backoff_delay, crawl_sources
from veille.core.logs import log_event, timed
from watch.fetcher import Fetcher

log = logging.getLogger(__name__)

CRAWL_PREFIX = "crawl:"
OPTIMIZE_JOB = "index:optimize"
MISFIRE_GRACE_TIME = None   # seconds, None = no limit: a missed crawl is run once, however late


def jobstore_url(config: Config) -> str:
    return f"sqlite:///{config.layout.jobstore}"


# ---------------------------------------------------------------- what jobs run


@dataclass
class Runtime:
    """What stored jobs use: the live configuration and the shared catalog and fetcher."""

    config: Config
    catalog: Catalog
    fetcher: Fetcher
    index_after_crawl: bool = True
    on_report: Callable[[RunReport], None] | None = None
    _index_lock: threading.Lock = field(default_factory=threading.Lock)
    _space: object | None = None

    def index(self) -> None:
        """Index what the crawl added (incrementally); one indexing at a time."""
        from indexer.search.space import DocumentSpace

        with self._index_lock:
            if self._space is None:
                self._space = DocumentSpace(self.config)
            report = self._space.index_pending()
        log_event(log, "index", documents=report.indexed, deleted=report.deleted, duration=report.seconds)

    def optimize(self) -> None:
        """Merge the index's segments (searches keep working; writers wait)."""
        from indexer.search.space import DocumentSpace

        started = time.monotonic()
        with self._index_lock:
            if self._space is None:
                self._space = DocumentSpace(self.config)
            self._space.optimize()
        log_event(log, "optimize", engine=self.config.search.engine,
                  duration=round(time.monotonic() - started, 1))

    def close(self) -> None:
        if self._space is not None:
            self._space.close()
            self._space = None
        self.fetcher.close()


_runtime: Runtime | None = None


def crawl_job(source_name: str) -> None:
    """The stored job of one source: crawl it (unless backing off), then index."""
    runtime = _runtime
    if runtime is None:
        log.error("crawl job %s ran without a runtime", source_name)
        return
    try:
        source = runtime.config.source(source_name)
    except KeyError:
        log.warning("crawl job for unknown source %s ignored", source_name)
        return
    with timed() as clock:
        [report] = crawl_sources(runtime.config, runtime.catalog, runtime.fetcher, [source],
                                 respect_backoff=True)
    log_event(log, "crawl", logging.WARNING if report.error else logging.INFO, source=source_name,
              duration=clock["duration"], new=report.new, updated=report.updated,
              unchanged=report.unchanged, http_status=report.http_status,
              skipped=True if report.skipped else None, error=report.error)
    if runtime.on_report is not None:
        runtime.on_report(report)
    if report.changed and runtime.index_after_crawl:
        try:
            runtime.index()
        except Exception as exc:  # the crawl is stored; indexing is retried after the next run
            _log_failure(f"indexation après le relevé de {source_name}", exc)


def _log_failure(what: str, exc: Exception) -> None:
    """One line in the journal for a job that failed (a full disk says so plainly); the
    traceback only with --verbose."""
    data_dir = _runtime.config.data_dir if _runtime is not None else None
    reason = storage_error_message(exc, data_dir) or f"{type(exc).__name__}: {exc}"
    log.error("%s impossible : %s", what, reason, exc_info=log.isEnabledFor(logging.DEBUG))


# ---------------------------------------------------------------- building the scheduler


class VeilleScheduler(BackgroundScheduler):
    """BackgroundScheduler that does not lose a due run when it is shut down.

    APScheduler 3 wakes its loop once more after `shutdown()` has stopped the executors:
    a job due at that moment fails to be submitted, yet its next run time is advanced and
    stored, so the run is lost. A stopped scheduler processes nothing; the job stays due
    and runs at the next start.
    """

    def _process_jobs(self):
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()



def build_scheduler(config: Config, *, catalog: Catalog | None = None, fetcher: Fetcher | None = None,
                    index_after_crawl: bool = True,
                    extra_jobs: Iterable[Callable[[BackgroundScheduler, Config], None]] = (),
                    on_report: Callable[[RunReport], None] | None = None) -> BackgroundScheduler:
    """A started but paused scheduler with every source's job in place; `resume()` runs it.

    `extra_jobs` are functions `(scheduler, config)` that add more jobs with `ensure_job`
    (the digest does). Paused, so a caller can inspect or adjust jobs before anything runs.
    """
    global _runtime
    catalog = catalog or Catalog.open(config.layout)
    fetcher = fetcher or Fetcher(config.http, catalog.validators)
    _runtime = Runtime(config=config, catalog=catalog, fetcher=fetcher,
                       index_after_crawl=index_after_crawl, on_report=on_report)
    Path(config.data_dir).mkdir(parents=True, exist_ok=True)
    scheduler = VeilleScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=jobstore_url(config))},
        executors={"default": ThreadPoolExecutor(max(2, config.http.concurrency))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_TIME},
        timezone=config.tz)
    scheduler.start(paused=True)
    sync_source_jobs(scheduler, config)
    sync_optimize_job(scheduler, config)
    resume_interrupted_work(scheduler, catalog)
    for add_jobs in extra_jobs:
        add_jobs(scheduler, config)
    return scheduler


def optimize_job() -> None:
    """The stored periodic job merging the search index's segments (`search.optimize`)."""
    if _runtime is not None:
        try:
            _runtime.optimize()
        except Exception as exc:
            _log_failure("optimisation de l'index", exc)


def sync_optimize_job(scheduler: BackgroundScheduler, config: Config) -> str:
    """Add, keep, reschedule or remove the index optimisation job as `search.optimize` says."""
    if config.search.optimize == "off":
        if scheduler.get_job(OPTIMIZE_JOB):
            scheduler.remove_job(OPTIMIZE_JOB)
            return "removed"
        return "off"
    return ensure_job(scheduler, OPTIMIZE_JOB, optimize_job,
                      schedule_trigger(config.search.optimize, config.tz),
                      name="optimise the search index")


def index_job() -> None:
    """The stored one-off job indexing what an earlier process left pending."""
    if _runtime is not None:
        try:
            _runtime.index()
        except Exception as exc:
            _log_failure("indexation des documents en attente", exc)


def resume_interrupted_work(scheduler: BackgroundScheduler, catalog: Catalog) -> list[str]:
    """After a crash (kill -9, power cut), redo what the dead process left half done.

    APScheduler advances a job's next run time when it starts the job, so a crawl killed
    mid-way would otherwise wait a whole interval: a source whose last run never finished
    is crawled again right away. The interrupted run counts as a failure of its source, so
    a crawl that itself kills the process (a page that exhausts memory) is backed off like
    any failing source instead of looping through restarts. Documents catalogued but not
    yet indexed are indexed at once rather than after the next crawl that finds something
    new. Returns the sources rescheduled."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    redone = []
    for source, run in catalog.runs.last_per_source().items():
        if run.finished is not None:
            continue
        error = "relevé interrompu : le processus s'est arrêté pendant ce relevé"
        catalog.runs.finish(run.id, error=error, finished=max(now, run.started))
        failures = catalog.source_state.get(source).consecutive_failures + 1
        delay = backoff_delay(failures)
        catalog.source_state.record_failure(source, now, error, "interrupted",
                                            now + delay if delay else None)
        job = scheduler.get_job(CRAWL_PREFIX + source)
        if job is None:
            continue
        if delay:
            log.warning("relevé de %s interrompu (%d échecs de suite) : nouvel essai après %s",
                        source, failures, now + delay)
            scheduler.modify_job(job.id, next_run_time=now + delay)
        else:
            scheduler.modify_job(job.id, next_run_time=now)
            redone.append(source)
            log.info("relevé de %s interrompu (passage %d) : relancé maintenant", source, run.id)
    if catalog.queue.pending_count() or catalog.queue.deletions():
        scheduler.add_job(f"{__name__}:index_job", id="index:pending", name="index pending documents",
                          replace_existing=True, next_run_time=now)
    return redone


def ensure_job(scheduler: BackgroundScheduler, job_id: str, func: str | Callable, trigger: BaseTrigger,
               args: tuple = (), name: str | None = None, run_now: bool = False, **job_options) -> str:
    """Add a job, or keep the stored one when it is the same; returns kept/rescheduled/added.

    Keeping the stored job keeps its next run time: a run that fell due while the process
    was stopped happens (once) on resume instead of being forgotten. A job added with
    `run_now` runs as soon as the scheduler resumes, then on its trigger. `job_options`
    (misfire_grace_time, coalesce ...) override the scheduler's job defaults."""
    func_ref = func if isinstance(func, str) else f"{func.__module__}:{func.__qualname__}"
    existing = scheduler.get_job(job_id)
    if existing is not None and existing.func_ref == func_ref and tuple(existing.args) == tuple(args):
        if str(existing.trigger) == str(trigger):
            return "kept"
        scheduler.reschedule_job(job_id, trigger=trigger)
        return "rescheduled"
    when = {"next_run_time": datetime.now(timezone.utc)} if run_now else {}
    scheduler.add_job(func_ref, trigger=trigger, args=list(args), id=job_id, name=name or job_id,
                      replace_existing=True, **when, **job_options)
    return "added"


def sync_source_jobs(scheduler: BackgroundScheduler, config: Config) -> dict[str, str]:
    """Make the stored crawl jobs match the enabled sources; returns what happened to each.

    A new source is crawled as soon as the scheduler runs (not one interval later)."""
    wanted = {CRAWL_PREFIX + s.name: s for s in config.sources if s.enabled}
    outcome = {}
    for job_id, source in wanted.items():
        outcome[source.name] = ensure_job(scheduler, job_id, crawl_job, schedule_trigger(source.schedule, config.tz),
                                          args=(source.name,), name=f"crawl {source.name}", run_now=True)
    for job in scheduler.get_jobs():
        if job.id.startswith(CRAWL_PREFIX) and job.id not in wanted:
            scheduler.remove_job(job.id)
            outcome[job.id[len(CRAWL_PREFIX):]] = "removed"
    return outcome


def next_runs(scheduler: BackgroundScheduler) -> dict[str, datetime | None]:
    """Next run time of each source's job (None when paused or absent)."""
    return {job.id[len(CRAWL_PREFIX):]: job.next_run_time for job in scheduler.get_jobs()
            if job.id.startswith(CRAWL_PREFIX)}


def stored_next_runs(config: Config) -> dict[str, datetime]:
    """The next run times recorded by `veille run`'s job store, read without starting it."""
    path = config.layout.jobstore
    if not path.is_file():
        return {}
    store = SQLAlchemyJobStore(url=jobstore_url(config))
    try:
        from sqlalchemy import select

        table = store.jobs_t
        with store.engine.begin() as connection:
            rows = connection.execute(select(table.c.id, table.c.next_run_time)).fetchall()
    except Exception as exc:  # an unreadable store only costs the "next run" column
        log.warning("cannot read the scheduler's job store %s: %s", path, exc)
        return {}
    finally:
        store.engine.dispose()
    return {job_id[len(CRAWL_PREFIX):]: datetime.fromtimestamp(ts, timezone.utc)
            for job_id, ts in rows if job_id.startswith(CRAWL_PREFIX) and ts is not None}


def shutdown(scheduler: BackgroundScheduler, wait: bool = True) -> None:
    """Stop the scheduler (waiting for running crawls) and release the runtime."""
    global _runtime
    if scheduler.running:
        scheduler.shutdown(wait=wait)
    if _runtime is not None:
        _runtime.close()
        _runtime = None
