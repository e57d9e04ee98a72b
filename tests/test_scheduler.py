"""`veille run`'s scheduler: jobs recorded in the catalog, restart without lost or duplicated
runs, backoff, indexing after each crawl. Real APScheduler, real catalog, real HTTP server."""

from __future__ import annotations

import shutil
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
        first.close()
    catalog = Catalog.open(config.layout)
    assert sched.next_run_times(config, catalog) == {"agence": planned}
    assert not config.layout.old_jobstore.exists()
    second = sched.build_scheduler(config, index_after_crawl=False)
    try:
        assert sched.sync_source_jobs(second, config) == {"agence": "kept"}
        assert [(j.id, j.next_run_time) for j in second.get_jobs()
                if j.id.startswith(sched.CRAWL_PREFIX)] == [("crawl:agence", planned)]
    finally:
        second.close()
    assert feed.requests == []  # nothing was due: nothing ran


def test_changed_schedule_and_removed_source(tmp_path, feed):
    config = write_config(tmp_path, feed, extra="""\
          - {name: ancienne, kind: feed, url: "http://127.0.0.1:9/x"}
        """)
    scheduler = sched.build_scheduler(config, index_after_crawl=False)
    scheduler.close()
    config = write_config(tmp_path, feed, schedule="2h")
    scheduler = sched.build_scheduler(config, index_after_crawl=False)
    try:
        assert sched.sync_source_jobs(scheduler, config) == {"agence": "kept"}
        assert [j.id for j in scheduler.get_jobs()] == ["crawl:agence", "index:optimize"]
        assert scheduler.get_job("crawl:agence").trigger.interval == timedelta(hours=2)
    finally:
        scheduler.close()


def test_missed_runs_during_a_stop_run_once_after_restart(tmp_path, feed):
    config = write_config(tmp_path, feed, schedule="1h")
    first = sched.build_scheduler(config, index_after_crawl=False)
    # the process stops; meanwhile three runs fall due (3 h ago, 2 h ago, 1 h ago)
    first.modify_job("crawl:agence", next_run_time=datetime.now(timezone.utc) - timedelta(hours=3, seconds=5))
    first.close()
    catalog = Catalog.open(config.layout)
    assert catalog.runs.recent("agence") == []
    second = sched.build_scheduler(config, index_after_crawl=False)
    second.resume()
    try:
        wait_for(lambda: catalog.runs.recent("agence") and catalog.runs.recent("agence")[0].finished is not None)
        wait_for(lambda: second.get_job("crawl:agence").next_run_time > datetime.now(timezone.utc))
    finally:
        second.close()
    runs = catalog.runs.recent("agence")
    assert len(runs) == 1 and runs[0].new == 3  # coalesced: one run, not three, and not zero
    assert len(feed.hits("/rss.xml")) == 1
    # the next run is one interval after the missed one, in the future
    third = sched.build_scheduler(config, index_after_crawl=False)
    try:
        assert sched.sync_source_jobs(third, config) == {"agence": "kept"}
        assert third.get_job("crawl:agence").next_run_time > datetime.now(timezone.utc)
    finally:
        third.close()
    assert len(catalog.runs.recent("agence")) == 1


def test_crawl_job_indexes_what_it_found(tmp_path, feed):
    from indexer.search.request import SearchRequest
    from indexer.search.space import DocumentSpace

    config = write_config(tmp_path, feed)
    scheduler = sched.build_scheduler(config, index_after_crawl=True)
    try:
        scheduler.jobs.crawl("agence")   # what the scheduler calls when the job is due
    finally:
        scheduler.close()
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
        scheduler.jobs.crawl("agence")
        scheduler.jobs.crawl("agence")   # second failure: backs off for 30 min
        state = catalog.source_state.get("agence")
        assert state.consecutive_failures == 2 and state.backoff_until is not None
        scheduler.jobs.crawl("agence")   # due again, but backing off: the server is left alone
        assert len(httpserver.hits("/rss.xml")) == 2 and len(catalog.runs.recent("agence")) == 2
        # the backoff ends: the next scheduled run succeeds and the source recovers
        catalog.source_state.set_backoff("agence", datetime.now(timezone.utc) - timedelta(seconds=1))
        scheduler.jobs.crawl("agence")
    finally:
        scheduler.close()
    assert catalog.source_state.get("agence").consecutive_failures == 0
    assert catalog.runs.recent("agence")[0].new == 3


def test_extra_jobs_are_kept_across_restarts(tmp_path, feed):
    """How another job (the digest) plugs in: a function given to build_scheduler."""
    config = write_config(tmp_path, feed)

    def add_weekly(scheduler, config):
        scheduler.ensure_job("weekly", scheduler.jobs.crawl, schedule_trigger("0 7 * * mon", config.tz),
                             args=("agence",), misfire_grace_time=6 * 3600)

    first = sched.build_scheduler(config, index_after_crawl=False, extra_jobs=[add_weekly])
    job = first.get_job("weekly")
    planned, grace = job.next_run_time, job.misfire_grace_time
    first.close()
    assert grace == 6 * 3600 and planned.hour == 7 and planned.weekday() == 0
    second = sched.build_scheduler(config, index_after_crawl=False, extra_jobs=[add_weekly])
    try:
        assert second.get_job("weekly").next_run_time == planned
        assert sorted(j.id for j in second.get_jobs()) == ["crawl:agence", "index:optimize", "weekly"]
    finally:
        second.close()


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
        scheduler.jobs.crawl("agence")
        space = DocumentSpace(config)
        space.index_pending()
        space.catalog.queue.mark_all_unindexed()
        space.index_pending()                # a second commit: a second segment
        segments = lambda: space.backend().segment_count()  # noqa: E731
        assert segments() == 2
        scheduler.jobs.optimize()            # what the scheduler calls when the job is due
        # Whoosh merges everything; tantivy merges by its own policy (by size) and collects
        # the files merges replaced
        assert segments() == (1 if engine == "whoosh" else 2)
        assert space.search(SearchRequest(q="rénovation")).total
        space.close()
    finally:
        scheduler.close()


def test_index_optimisation_can_be_turned_off(tmp_path, feed):
    config = write_config(tmp_path, feed)
    sched.build_scheduler(config, index_after_crawl=False).close()
    catalog = Catalog.open(config.layout)
    assert sched.OPTIMIZE_JOB in catalog.schedule.all()
    off = replace(config, search=replace(config.search, optimize="off"))
    scheduler = sched.build_scheduler(off, index_after_crawl=False)
    try:
        assert scheduler.get_job(sched.OPTIMIZE_JOB) is None
        assert sched.OPTIMIZE_JOB not in catalog.schedule.all()   # and its record is dropped
    finally:
        scheduler.close()


# ---------------------------------------------------------------- the job store of earlier releases

OLD_JOB_STORE = FIXTURES / "scheduler-v0.sqlite3"   # made by fixtures/make_scheduler_v0.py
OLD_NEXT_RUNS = {
    "crawl:agence": datetime(2025, 3, 12, 18, 0, tzinfo=timezone.utc),
    "crawl:arrete": datetime(2025, 3, 13, 11, 0, tzinfo=timezone.utc),
    "veille-digest": datetime(2025, 3, 17, 11, 0, tzinfo=timezone.utc),
    "index:optimize": datetime(2025, 3, 16, 7, 0, tzinfo=timezone.utc),
}


def old_release_config(tmp_path, server, arrete_schedule: str = "0 7 * * mon-fri"):
    """The configuration the fixture's jobs were planned for, with its job store in place."""
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        timezone: America/Martinique
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - {{name: agence, kind: feed, url: "{server.url('/rss.xml')}", schedule: 6h}}
          - {{name: arrete, kind: feed, url: "{server.url('/rss.xml')}", schedule: "{arrete_schedule}"}}
        digest:
          schedule: "0 7 * * mon"
          from: Veille <veille@example.org>
          smtp: {{host: 127.0.0.1, port: 9}}
        """), encoding="utf-8")
    config = load_config(path)
    config.layout.root.mkdir(parents=True)
    shutil.copyfile(OLD_JOB_STORE, config.layout.old_jobstore)
    return config


def test_the_old_job_store_is_read_once_then_set_aside(tmp_path, feed):
    from veille.digest.run import register_digest_job

    config = old_release_config(tmp_path, feed)
    catalog = Catalog.open(config.layout)
    # before the first start, `veille sources` already shows what the old process planned
    assert sched.next_run_times(config, catalog) == {"agence": OLD_NEXT_RUNS["crawl:agence"],
                                                     "arrete": OLD_NEXT_RUNS["crawl:arrete"]}
    scheduler = sched.build_scheduler(config, index_after_crawl=False, extra_jobs=[register_digest_job])
    try:
        # every job kept with the run time the old process planned: those in the past fell
        # due while it was down, and run once when the scheduler resumes
        assert {job.id: job.next_run_time for job in scheduler.get_jobs()} == OLD_NEXT_RUNS
    finally:
        scheduler.close()
    assert not config.layout.old_jobstore.exists()
    assert config.layout.old_jobstore.with_name("scheduler.sqlite3.imported").is_file()
    assert {job_id: job.next_run for job_id, job in catalog.schedule.all().items()} == OLD_NEXT_RUNS

    # later starts read the catalog only, even if the old file came back (a restore)
    shutil.copyfile(OLD_JOB_STORE, config.layout.old_jobstore)
    catalog.schedule.save(replace(catalog.schedule.get("crawl:agence"), next_run=T_LATER))
    scheduler = sched.build_scheduler(config, index_after_crawl=False, extra_jobs=[register_digest_job])
    try:
        assert scheduler.get_job("crawl:agence").next_run_time == T_LATER
    finally:
        scheduler.close()
    assert feed.requests == []   # nothing ran: the scheduler was never resumed


T_LATER = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)


def test_a_schedule_changed_during_the_upgrade_is_replanned(tmp_path, feed):
    config = old_release_config(tmp_path, feed, arrete_schedule="0 8 * * mon-fri")
    scheduler = sched.build_scheduler(config, index_after_crawl=False)
    try:
        assert scheduler.get_job("crawl:agence").next_run_time == OLD_NEXT_RUNS["crawl:agence"]
        arrete = scheduler.get_job("crawl:arrete").next_run_time
        assert arrete > datetime.now(timezone.utc) and arrete.hour == 8
    finally:
        scheduler.close()


def test_an_unreadable_old_job_store_only_costs_its_next_runs(tmp_path, feed):
    config = old_release_config(tmp_path, feed)
    config.layout.old_jobstore.write_bytes(b"not a database" * 100)
    scheduler = sched.build_scheduler(config, index_after_crawl=False)
    try:   # planned afresh: a source at once, the optimisation on its schedule
        assert scheduler.get_job("crawl:agence").next_run_time <= datetime.now(timezone.utc)
        assert scheduler.get_job(sched.OPTIMIZE_JOB).next_run_time > datetime.now(timezone.utc)
    finally:
        scheduler.close()


def test_a_pickle_of_anything_but_a_trigger_is_refused(tmp_path):
    import pickle
    import sqlite3

    from veille.jobs.jobstore import read_old_job_store

    path = tmp_path / "scheduler.sqlite3"
    shutil.copyfile(OLD_JOB_STORE, path)
    db = sqlite3.connect(path)
    hostile = pickle.dumps({"trigger": __import__("os").system})   # a callable from os: refused
    db.execute("UPDATE apscheduler_jobs SET job_state = ? WHERE id = 'crawl:agence'", (hostile,))
    db.commit()
    db.close()
    jobs = read_old_job_store(path)
    assert "crawl:agence" not in jobs and set(jobs) == set(OLD_NEXT_RUNS) - {"crawl:agence"}
    assert str(jobs["crawl:arrete"].trigger).startswith("cron[")


# ---------------------------------------------------------------- state owned by each scheduler


def test_two_schedulers_keep_their_own_state(tmp_path, feed):
    """No module-global runtime: each scheduler's jobs use its own catalog and index."""
    from indexer.search.request import SearchRequest
    from indexer.search.space import DocumentSpace

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = sched.build_scheduler(write_config(tmp_path / "a", feed))
    second = sched.build_scheduler(write_config(tmp_path / "b", feed))
    try:
        first.jobs.crawl("agence")
        first.close()                     # closing one leaves the other working
        second.jobs.crawl("agence")
    finally:
        first.close()
        second.close()
    for config in (first.jobs.config, second.jobs.config):
        space = DocumentSpace(config)
        try:
            assert space.search(SearchRequest(q="renovation urbaine")).total >= 1
        finally:
            space.close()


def test_an_outdated_index_is_one_warning_and_the_crawls_go_on(tmp_path, feed, caplog):
    import logging

    from indexer.search.space import DocumentSpace

    config = write_config(tmp_path, feed)
    whoosh = replace(config, search=replace(config.search, engine="whoosh"))
    space = DocumentSpace(whoosh)
    space.index_pending()                 # an index built by the other engine
    space.close()
    tantivy = replace(config, search=replace(config.search, engine="tantivy"))
    scheduler = sched.build_scheduler(tantivy)
    catalog = Catalog.open(config.layout)
    try:
        with caplog.at_level(logging.WARNING):
            scheduler.jobs.crawl("agence")
    finally:
        scheduler.close()
    assert catalog.runs.recent("agence")[0].new == 3 and catalog.queue.pending_count() == 3
    [warning] = [r for r in caplog.records if r.name.startswith("veille.jobs")]
    assert warning.levelname == "WARNING" and warning.exc_info is None
    assert warning.getMessage().startswith("indexation impossible : l'index de recherche a été construit "
                                           "avec le moteur whoosh")


def test_a_job_removed_then_added_again_starts_afresh(tmp_path, feed):
    config = write_config(tmp_path, feed)
    sched.build_scheduler(config, index_after_crawl=False).close()
    catalog = Catalog.open(config.layout)
    catalog.schedule.save(replace(catalog.schedule.get(sched.OPTIMIZE_JOB), next_run=T_LATER))
    scheduler = sched.build_scheduler(config, index_after_crawl=False)
    try:
        assert scheduler.get_job(sched.OPTIMIZE_JOB).next_run_time == T_LATER   # kept
        off = replace(config, search=replace(config.search, optimize="off"))
        assert sched.sync_optimize_job(scheduler, off) == "removed"
        assert sched.sync_optimize_job(scheduler, config) == "added"
        assert scheduler.get_job(sched.OPTIMIZE_JOB).next_run_time < T_LATER    # planned anew
    finally:
        scheduler.close()


def test_a_crawl_that_kills_the_process_is_backed_off_not_looped(tmp_path, feed):
    """A crawl killed mid-way (the process died under it) is redone once at once, then backed
    off like any failing source: restarts never loop on a crawl that kills the process."""
    config = write_config(tmp_path, feed, schedule="6h")
    catalog = Catalog.open(config.layout)
    sched.build_scheduler(config, index_after_crawl=False).close()
    in_an_hour = datetime.now(timezone.utc) + timedelta(hours=1)
    redone_at = []
    for restart in range(4):
        catalog.runs.start("agence")              # the crawl starts... and the process dies
        scheduler = sched.build_scheduler(config, index_after_crawl=False)
        try:
            redone_at.append(scheduler.get_job("crawl:agence").next_run_time)
        finally:
            scheduler.close()
    state = catalog.source_state.get("agence")
    assert state.consecutive_failures == 4 and state.last_error_code == "interrupted"
    assert "interrompu" in state.last_error
    assert redone_at[0] <= datetime.now(timezone.utc)           # the first time: redone at once
    assert all(when > in_an_hour - timedelta(minutes=31) for when in redone_at[1:])
    assert redone_at[1] < redone_at[2] < redone_at[3]           # then later and later
    assert state.backoff_until >= redone_at[3] - timedelta(seconds=1)
    assert all(run.finished is not None for run in catalog.runs.recent("agence"))
    assert feed.requests == []
