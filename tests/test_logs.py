"""Operations logs: one `key=value` line per event (crawl, document, index)."""

from __future__ import annotations

import logging

from tests.httpserver import httpserver  # noqa: F401 (fixture)
from veille.core.logs import format_event, log_event, timed


def test_format_event_quotes_what_needs_it_and_skips_none():
    line = format_event("crawl", source="anct", duration=1.234, new=3, error=None,
                        title='Le "contrat" de ville', empty="")
    assert line == 'crawl source=anct duration=1.23s new=3 title="Le \\"contrat\\" de ville" empty=""'
    assert "\n" not in format_event("x", message="deux\nlignes")


def test_timed_measures_and_log_event_respects_the_level(caplog):
    with timed() as clock:
        pass
    assert clock["duration"] >= 0
    logger = logging.getLogger("veille.test")
    with caplog.at_level(logging.INFO, logger="veille.test"):
        log_event(logger, "index", documents=2, duration=0.5)
        log_event(logger, "detail", logging.DEBUG, x=1)
    assert [r.getMessage() for r in caplog.records] == ["index documents=2 duration=0.50s"]


def test_a_scheduled_crawl_logs_the_source_each_document_and_the_duration(httpserver, write_config, caplog):  # noqa: F811
    from tests.test_faults import rss as feed
    from veille.core.config import load_config
    from veille.jobs import scheduler

    httpserver.add("/flux.xml", feed(1, items=3), content_type="application/rss+xml")
    config = load_config(write_config(
        "data_dir: data\nhttp: {delay_per_host: 0, retries: 0, allow_private_networks: true}\n"
        f'sources: [{{name: flux, kind: feed, url: "{httpserver.url("/flux.xml")}"}}]\n'))
    sched = scheduler.build_scheduler(config)
    try:
        with caplog.at_level(logging.INFO):
            sched.jobs.crawl("flux")
    finally:
        sched.close()
    lines = [r.getMessage() for r in caplog.records]
    documents = [line for line in lines if line.startswith("document source=flux document=")]
    assert len(documents) == 3 and all("outcome=new" in line for line in documents)
    crawl = [line for line in lines if line.startswith("crawl source=flux ")]
    assert len(crawl) == 1 and " duration=" in crawl[0] and " new=3 " in crawl[0]
    index = [line for line in lines if line.startswith("index documents=3 ")]
    assert len(index) == 1 and " duration=" in index[0]
