"""`veille run`'s scheduler: persistent jobs, restart without lost or duplicated runs, backoff,
indexing after each crawl. Real APScheduler, real SQLite job store, real HTTP server."""

from __future__ import annotations

import textwrap
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from veille.storage.catalog import Catalog
from tests.conftest import FIXTURES
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from veille.jobs import scheduler as sched
from veille.core.schedules import schedule_trigger

WATCH = FIXTURES / "watch"


def write_config(tmp_path, server, schedule: str = "1h", extra: str = "") -> object:
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        timezone: America/Martinique
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - {{name: agence, kind: feed, url: "{server.url('/rss.xml')}", schedule: "{schedule}"}}
          - {{name: arrete, kind: feed, url: "{server.url('/rss.xml')}", schedule: "0 7 * * mon-fri",
              enabled: false}}
        """) + textwrap.indent(textwrap.dedent(extra), "  "), encoding="utf-8")
    return load_config(path)


def wait_for(condition, timeout: float = 30.0) -> None:
    """Poll until `condition()` holds (the scheduler runs jobs in its own threads)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


@pytest.fixture
def feed(httpserver):
    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    return httpserver


def test_triggers_from_schedules():
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    interval = schedule_trigger("6h", "America/Martinique")
    assert isinstance(interval, IntervalTrigger) and interval.interval == timedelta(hours=6)
    cron = schedule_trigger("0 7 * * mon", "America/Martinique")
    assert isinstance(cron, CronTrigger)
    after = datetime(2025, 3, 12, 12, 0, tzinfo=timezone.utc)  # a Wednesday
    fire = cron.get_next_fire_time(None, after)
    assert (fire.weekday(), fire.hour, str(fire.tzinfo)) == (0, 7, "America/Martinique")


def test_jobs_are_stored_and_a_restart_keeps_them(tmp_path, feed):
    config = write_config(tmp_path, feed)
    first = sched.build_scheduler(config, index_after_crawl=False)
    try:
        jobs = first.get_jobs()
        assert [job.id for job in jobs] == ["crawl:agence", "index:optimize"]  # the disabled source has no job
        job = jobs[0]
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        planned = job.next_run_time
    finally:
        sched.shutdown(first)
    assert config.layout.jobstore.is_file()
    assert sched.stored_next_runs(config) == {"agence": planned}
    second = sched.build_scheduler(config, index_after_crawl=False)
    try:
        assert sched.sync_source_jobs(second, config) == {"agence": "kept"}
        assert [(j.id, j.next_run_time) for j in second.get_jobs()
                if j.id.startswith(sched.CRAWL_PREFIX)] == [("crawl:agence", planned)]
    finally:
        sched.shutdown(second)
    assert feed.requests == []  # nothing was due: nothing ran


def test_changed_schedule_and_removed_source(tmp_path, feed):
    config = write_config(tmp_path, feed, extra="""\
          - {name: ancienne, kind: feed, url: "http://127.0.0.1:9/x"}
        """)
    scheduler = sched.build_scheduler(config, index_after_crawl=False)
    sched.shutdown(scheduler)
    config = write_config(tmp_path, feed, schedule="2h")
    scheduler = sched.build_scheduler(config, index_after_crawl=False)
    try:
        assert sched.sync_source_jobs(scheduler, config) == {"agence": "kept"}
        assert [j.id for j in scheduler.get_jobs()] == ["crawl:agence", "index:optimize"]
        assert scheduler.get_job("crawl:agence").trigger.interval == timedelta(hours=2)
    finally:
        sched.shutdown(scheduler)


def test_missed_runs_during_a_stop_run_once_after_restart(tmp_path, feed):
    config = write_config(tmp_path, feed, schedule="1h")
    first = sched.build_scheduler(config, index_after_crawl=False)
    # the process stops; meanwhile three runs fall due (3 h ago, 2 h ago, 1 h ago)
    first.modify_job("crawl:agence", next_run_time=datetime.now(timezone.utc) - timedelta(hours=3, seconds=5))
    sched.shutdown(first)
    catalog = Catalog.open(config.layout)
    assert catalog.runs.recent("agence") == []
    second = sched.build_scheduler(config, index_after_crawl=False)
    second.resume()
    try:
        wait_for(lambda: catalog.runs.recent("agence") and catalog.runs.recent("agence")[0].finished is not None)
        wait_for(lambda: second.get_job("crawl:agence").next_run_time > datetime.now(timezone.utc))
    finally:
        sched.shutdown(second)
    runs = catalog.runs.recent("agence")
    assert len(runs) == 1 and runs[0].new == 3  # coalesced: one run, not three, and not zero
    assert len(feed.hits("/rss.xml")) == 1
    # the next run is one interval after the missed one, in the future
    third = sched.build_scheduler(config, index_after_crawl=False)
    try:
        assert sched.sync_source_jobs(third, config) == {"agence": "kept"}
        assert third.get_job("crawl:agence").next_run_time > datetime.now(timezone.utc)
    finally:
        sched.shutdown(third)
    assert len(catalog.runs.recent("agence")) == 1


def test_crawl_job_indexes_what_it_found(tmp_path, feed):
    from indexer.search.request import SearchRequest
    from indexer.search.space import DocumentSpace

    config = write_config(tmp_path, feed)
    scheduler = sched.build_scheduler(config, index_after_crawl=True)
    try:
        sched.crawl_job("agence")   # what the scheduler calls when the job is due
    finally:
        sched.shutdown(scheduler)
    catalog = Catalog.open(config.layout)
    assert catalog.documents.count() == 3 and catalog.queue.pending_count() == 0
    space = DocumentSpace(config)
    try:
        results = space.search(SearchRequest(q="renovation urbaine"))
        assert results.total >= 1
        assert results.hits[0].title.startswith("Rénovation urbaine")
    finally:
        space.close()


def test_crawl_job_skips_a_source_in_backoff_and_recovers(tmp_path, httpserver):
    from tests.httpserver import Reply

    httpserver.sequence("/rss.xml", [Reply(503, b"", {}), Reply(503, b"", {}),
                                     Reply(200, (WATCH / "actualites.rss").read_bytes(),
                                           {"Content-Type": "application/rss+xml"})])
    config = write_config(tmp_path, httpserver)
    scheduler = sched.build_scheduler(config, index_after_crawl=False)
    catalog = Catalog.open(config.layout)
    try:
        sched.crawl_job("agence")
        sched.crawl_job("agence")   # second failure: backs off for 30 min
        state = catalog.source_state.get("agence")
        assert state.consecutive_failures == 2 and state.backoff_until is not None
        sched.crawl_job("agence")   # due again, but backing off: the server is left alone
        assert len(httpserver.hits("/rss.xml")) == 2 and len(catalog.runs.recent("agence")) == 2
        # the backoff ends: the next scheduled run succeeds and the source recovers
        catalog.source_state.set_backoff("agence", datetime.now(timezone.utc) - timedelta(seconds=1))
        sched.crawl_job("agence")
    finally:
        sched.shutdown(scheduler)
    assert catalog.source_state.get("agence").consecutive_failures == 0
    assert catalog.runs.recent("agence")[0].new == 3


def test_extra_jobs_are_kept_across_restarts(tmp_path, feed):
    """How another job (the digest) plugs in: a function given to build_scheduler."""
    config = write_config(tmp_path, feed)

    def add_weekly(scheduler, config):
        sched.ensure_job(scheduler, "weekly", "veille.jobs.scheduler:crawl_job",
                         schedule_trigger("0 7 * * mon", config.tz), args=("agence",),
                         misfire_grace_time=6 * 3600)

    first = sched.build_scheduler(config, index_after_crawl=False, extra_jobs=[add_weekly])
    job = first.get_job("weekly")
    planned, grace = job.next_run_time, job.misfire_grace_time
    sched.shutdown(first)
    assert grace == 6 * 3600 and planned.hour == 7 and planned.weekday() == 0
    second = sched.build_scheduler(config, index_after_crawl=False, extra_jobs=[add_weekly])
    try:
        assert second.get_job("weekly").next_run_time == planned
        assert sorted(j.id for j in second.get_jobs()) == ["crawl:agence", "index:optimize", "weekly"]
    finally:
        sched.shutdown(second)


@pytest.mark.parametrize("engine", ["tantivy", "whoosh"])
def test_index_optimisation_is_scheduled_and_merges_segments(tmp_path, feed, engine):
    from indexer.search.request import SearchRequest
    from indexer.search.space import DocumentSpace

    config = write_config(tmp_path, feed)
    config = replace(config, search=replace(config.search, engine=engine))
    scheduler = sched.build_scheduler(config, index_after_crawl=False)
    try:
        job = scheduler.get_job(sched.OPTIMIZE_JOB)
        after = datetime(2025, 3, 12, 12, 0, tzinfo=timezone.utc)   # a Wednesday
        fire = job.trigger.get_next_fire_time(None, after)
        assert (fire.weekday(), fire.hour, str(fire.tzinfo)) == (6, 3, "America/Martinique")
        sched.crawl_job("agence")
        space = DocumentSpace(config)
        space.index_pending()
        space.catalog.queue.mark_all_unindexed()
        space.index_pending()                # a second commit: a second segment
        segments = lambda: space.backend().segment_count()  # noqa: E731
        assert segments() == 2
        sched.optimize_job()                 # what the scheduler calls when the job is due
        # Whoosh merges everything; tantivy merges by its own policy (by size) and collects
        # the files merges replaced
        assert segments() == (1 if engine == "whoosh" else 2)
        assert space.search(SearchRequest(q="rénovation")).total
        space.close()
    finally:
        sched.shutdown(scheduler)


def test_index_optimisation_can_be_turned_off(tmp_path, feed):
    config = write_config(tmp_path, feed)
    sched.shutdown(sched.build_scheduler(config, index_after_crawl=False))
    off = replace(config, search=replace(config.search, optimize="off"))
    scheduler = sched.build_scheduler(off, index_after_crawl=False)
    try:
        assert scheduler.get_job(sched.OPTIMIZE_JOB) is None   # the stored job is removed
    finally:
        sched.shutdown(scheduler)


def test_a_crawl_that_kills_the_process_is_backed_off_not_looped(tmp_path, feed):
    """A crawl killed mid-way (the process died under it) is redone once at once, then backed
    off like any failing source: restarts never loop on a crawl that kills the process."""
    config = write_config(tmp_path, feed, schedule="6h")
    catalog = Catalog.open(config.layout)
    sched.shutdown(sched.build_scheduler(config, index_after_crawl=False))
    in_an_hour = datetime.now(timezone.utc) + timedelta(hours=1)
    redone_at = []
    for restart in range(4):
        catalog.runs.start("agence")              # the crawl starts... and the process dies
        scheduler = sched.build_scheduler(config, index_after_crawl=False)
        try:
            redone_at.append(scheduler.get_job("crawl:agence").next_run_time)
        finally:
            sched.shutdown(scheduler)
    state = catalog.source_state.get("agence")
    assert state.consecutive_failures == 4 and state.last_error_code == "interrupted"
    assert "interrompu" in state.last_error
    assert redone_at[0] <= datetime.now(timezone.utc)           # the first time: redone at once
    assert all(when > in_an_hour - timedelta(minutes=31) for when in redone_at[1:])
    assert redone_at[1] < redone_at[2] < redone_at[3]           # then later and later
    assert state.backoff_until >= redone_at[3] - timedelta(seconds=1)
    assert all(run.finished is not None for run in catalog.runs.recent("agence"))
    assert feed.requests == []
