"""`veille run`: each source crawled on its schedule, the index kept up to date after each run.

An APScheduler 3.x `BackgroundScheduler` whose jobs live in memory, bound to the process's
`Jobs` (veille.jobs.work), with each job's schedule and next run time written through to
the catalog (veille.jobs.jobstore). A restart neither loses nor duplicates runs:

- at start-up `ensure_job` finds each job's record in the catalog: a job whose schedule did
  not change keeps its next run time (so a run that fell due while the process was down
  happens once, right away), one whose schedule changed is replanned, a new source is
  crawled at once; the records of sources that left `sources.yaml` are dropped;
- `coalesce=True`: several missed runs of a job make one run; `max_instances=1`: a crawl
  still running when the next falls due is not started twice; the misfire grace time is
  unlimited (`None`): a crawl is always worth catching up, once;
- a crawl the last process left unfinished counts as a failure of its source: it is run
  again at once the first time, then backed off; documents it left unindexed are indexed
  (`resume_interrupted_work`).

A failing source backs off (see `watch.crawler.backoff_delay`): its scheduled runs are
skipped until the backoff ends, so a dead server is asked less and less often, and the
source recovers by itself on the first run that succeeds.

Other jobs (the digest) are added with `VeilleScheduler.ensure_job` by functions passed to
`build_scheduler`. `next_run_times` reads the planned runs from the catalog without a
scheduler, for `veille sources` and the sources page.

A running scheduler follows its configuration file and the team's « Relever maintenant »
without a restart (veille.jobs.watcher): `apply_config` makes the jobs match a new
configuration as the start-up does.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Callable, Iterable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger

from veille.core.config import Config
from veille.core.config_reload import LiveConfig
from veille.core.schedules import schedule_trigger
from veille.jobs.jobstore import CatalogJobStore, import_old_job_store, read_old_job_store
from veille.jobs.watcher import WATCH_INTERVAL, ChangeWatcher
from veille.jobs.work import Jobs
from veille.storage.catalog import Catalog
from watch.crawler import CrawlReport, backoff_delay
from watch.fetcher import Fetcher

log = logging.getLogger(__name__)

CRAWL_PREFIX = "crawl:"
OPTIMIZE_JOB = "index:optimize"
PENDING_JOB = "index:pending"
MISFIRE_GRACE_TIME = None   # seconds, None = no limit: a missed crawl is run once, however late


class VeilleScheduler(BackgroundScheduler):
    """The scheduler of `veille run`: jobs kept by a `CatalogJobStore`, run by `jobs`.

    It does not lose a due run when it is shut down: APScheduler 3 wakes its loop once more
    after `shutdown()` has stopped the executors; a job due at that moment fails to be
    submitted, yet its next run time is advanced and recorded, so the run would be lost. A
    stopped scheduler processes nothing; the job stays due and runs at the next start.
    """

    def __init__(self, store: CatalogJobStore, *, timezone, jobs: Jobs | None = None, threads: int = 2,
                 extra_jobs: Iterable[Callable[["VeilleScheduler", Config], None]] = ()):
        super().__init__(
            jobstores={"default": store},
            executors={"default": ThreadPoolExecutor(max(2, threads))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_TIME},
            timezone=timezone)
        self.store = store
        self.jobs = jobs
        self.extra_jobs = tuple(extra_jobs)
        self.watcher: ChangeWatcher | None = None

    def resume(self):
        super().resume()
        if self.watcher is not None:
            self.watcher.start()

    def _process_jobs(self):
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()

    def ensure_job(self, job_id: str, func: Callable, trigger: BaseTrigger, args: tuple = (),
                   name: str | None = None, run_now: bool = False, **job_options) -> str:
        """Add a job, or keep the one planned before when it is the same; returns
        kept/rescheduled/added.

        Keeping a job keeps its next run time, from this process or recorded by the last
        one: a run that fell due while the process was stopped happens (once) on resume
        instead of being forgotten. A job added with `run_now` runs as soon as the scheduler
        resumes, then on its trigger. `job_options` (misfire_grace_time, coalesce ...)
        override the scheduler's job defaults."""
        existing = self.get_job(job_id)
        if existing is not None and existing.func == func and tuple(existing.args) == tuple(args):
            if str(existing.trigger) == str(trigger):
                return "kept"
            self.reschedule_job(job_id, trigger=trigger)
            return "rescheduled"
        before = self.store.recorded.get(job_id) if existing is None else None
        if before is not None and before.trigger == str(trigger) and before.next_run is not None:
            when, outcome = {"next_run_time": before.next_run}, "kept"
        elif before is not None:
            when, outcome = {}, "rescheduled"
        else:
            when, outcome = ({"next_run_time": datetime.now(timezone.utc)} if run_now else {}), "added"
        self.add_job(func, trigger=trigger, args=list(args), id=job_id, name=name or job_id,
                     replace_existing=True, **when, **job_options)
        return outcome

    def close(self, wait: bool = True) -> None:
        """Stop (waiting for running crawls with `wait`) and release what the jobs hold."""
        if self.watcher is not None:
            self.watcher.stop()
        if self.running:
            self.shutdown(wait=wait)
        if self.jobs is not None:
            self.jobs.close()


def build_scheduler(config: Config, *, catalog: Catalog | None = None, fetcher: Fetcher | None = None,
                    index_after_crawl: bool = True,
                    extra_jobs: Iterable[Callable[[VeilleScheduler, Config], None]] = (),
                    on_report: Callable[[CrawlReport], None] | None = None,
                    watch_interval: float | None = WATCH_INTERVAL) -> VeilleScheduler:
    """A started but paused scheduler with every job in place; `resume()` runs it, `close()`
    stops it.

    `extra_jobs` are functions `(scheduler, config)` that add more jobs with `ensure_job`
    (the digest does), again whenever the configuration changes. Paused, so a caller can
    inspect or adjust jobs before anything runs. With `watch_interval` (seconds), the
    running scheduler follows the configuration file and the crawl requests
    (veille.jobs.watcher); None leaves it as built.
    """
    catalog = catalog or Catalog.open(config.layout)
    fetcher = fetcher or Fetcher(config.http, catalog.validators)
    import_old_job_store(config.layout.old_jobstore, catalog.schedule)
    jobs = Jobs(config, catalog, fetcher, index_after_crawl=index_after_crawl, on_report=on_report)
    scheduler = VeilleScheduler(CatalogJobStore(catalog.schedule), timezone=config.tz, jobs=jobs,
                                threads=config.http.concurrency, extra_jobs=extra_jobs)
    scheduler.start(paused=True)
    apply_config(scheduler, config)
    resume_interrupted_work(scheduler, catalog)
    for job_id in scheduler.store.forget_unclaimed():
        log.info("tâche %s abandonnée : elle n'est plus dans la configuration", job_id)
    if watch_interval is not None:
        scheduler.watcher = ChangeWatcher(scheduler, LiveConfig(config), apply_config, watch_interval)
    return scheduler


def apply_config(scheduler: VeilleScheduler, config: Config) -> dict[str, str]:
    """Make every job match `config` (at start-up, and when its file changed); returns what
    happened to each source's job (kept, rescheduled, added, removed)."""
    scheduler.jobs.config = config
    outcome = sync_source_jobs(scheduler, config)
    sync_optimize_job(scheduler, config)
    for add_jobs in scheduler.extra_jobs:
        add_jobs(scheduler, config)
    return outcome


def sync_source_jobs(scheduler: VeilleScheduler, config: Config) -> dict[str, str]:
    """Make the crawl jobs match the enabled sources; returns what happened to each.

    A new source is crawled as soon as the scheduler runs (not one interval later)."""
    wanted = {CRAWL_PREFIX + s.name: s for s in config.sources if s.enabled}
    outcome = {}
    for job_id, source in wanted.items():
        outcome[source.name] = scheduler.ensure_job(
            job_id, scheduler.jobs.crawl, schedule_trigger(source.schedule, config.tz),
            args=(source.name,), name=f"crawl {source.name}", run_now=True)
    for job in scheduler.get_jobs():
        if job.id.startswith(CRAWL_PREFIX) and job.id not in wanted:
            scheduler.remove_job(job.id)
            outcome[job.id[len(CRAWL_PREFIX):]] = "removed"
    return outcome


def sync_optimize_job(scheduler: VeilleScheduler, config: Config) -> str:
    """Add, keep, reschedule or remove the index optimisation job as `search.optimize` says."""
    if config.search.optimize == "off":
        if scheduler.get_job(OPTIMIZE_JOB):
            scheduler.remove_job(OPTIMIZE_JOB)
            return "removed"
        return "off"
    return scheduler.ensure_job(OPTIMIZE_JOB, scheduler.jobs.optimize,
                                schedule_trigger(config.search.optimize, config.tz),
                                name="optimise the search index")


def resume_interrupted_work(scheduler: VeilleScheduler, catalog: Catalog) -> list[str]:
    """After a crash (kill -9, power cut), redo what the dead process left half done.

    APScheduler advances a job's next run time when it starts the job, so a crawl killed
    mid-way would otherwise wait a whole interval: a source whose last run never finished
    is crawled again right away. The interrupted run counts as a failure of its source, so
    a crawl that itself kills the process (a page that exhausts memory) is backed off like
    any failing source instead of looping through restarts. Documents catalogued but not
    yet indexed are indexed at once rather than after the next crawl that finds something
    new. Returns the sources rescheduled at once."""
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
            log.info("le relevé de %s a été interrompu (relevé %d) : il est relancé", source, run.id)
    if catalog.queue.pending_count() or catalog.queue.deletions():
        scheduler.add_job(scheduler.jobs.index, id=PENDING_JOB, name="index pending documents",
                          replace_existing=True, next_run_time=now)
    return redone


def next_run_times(config: Config, catalog: Catalog) -> dict[str, datetime]:
    """Each source's next run as `veille run` planned it, read from the catalog (or, before
    the first start of this release, from the old job store)."""
    planned = catalog.schedule.all() or read_old_job_store(config.layout.old_jobstore)
    return {job_id[len(CRAWL_PREFIX):]: job.next_run for job_id, job in planned.items()
            if job_id.startswith(CRAWL_PREFIX) and job.next_run is not None}
