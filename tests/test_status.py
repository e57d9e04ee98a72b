"""`veille sources`: kind, schedule, last success, last error, failures, documents, next run."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta, timezone

from veille.storage.catalog import Catalog
from tests.conftest import FIXTURES
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from veille.jobs import scheduler as sched
from watch.crawler import crawl_source
from watch.fetcher import Fetcher
from watch.status import source_statuses

WATCH = FIXTURES / "watch"
T0 = datetime(2025, 3, 12, 12, 0, tzinfo=timezone.utc)


def _setup(tmp_path, server):
    server.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - {{name: agence, kind: feed, url: "{server.url('/rss.xml')}", schedule: 6h}}
          - {{name: cassee, kind: feed, url: "{server.url('/absent.xml')}", schedule: "0 7 * * *"}}
          - {{name: nouvelle, kind: page, url: "{server.url('/liste')}", select: {{item: li, link: a}}}}
          - {{name: arretee, kind: feed, url: "{server.url('/x')}", enabled: false}}
        """), encoding="utf-8")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    fetcher = Fetcher(config.http, catalog.validators)
    crawl_source(config, config.source("agence"), catalog, fetcher, now=T0)
    for hours in (0, 6, 12):
        crawl_source(config, config.source("cassee"), catalog, fetcher, now=T0 + timedelta(hours=hours))
    return path, config, catalog


def test_statuses_from_the_catalog(tmp_path, httpserver):
    _, config, catalog = _setup(tmp_path, httpserver)
    now = T0 + timedelta(hours=12, minutes=5)
    next_runs = {"agence": T0 + timedelta(hours=18), "cassee": T0 + timedelta(hours=12, minutes=30)}
    statuses = {s.name: s for s in source_statuses(config, catalog, next_runs, now=now)}
    agence = statuses["agence"]
    assert (agence.state, agence.kind, agence.schedule, agence.documents) == ("ok", "feed", "6h", 3)
    assert agence.last_success == T0 and agence.next_run == T0 + timedelta(hours=18)
    assert agence.last_new == 3
    cassee = statuses["cassee"]
    assert cassee.state == "backoff" and cassee.consecutive_failures == 3
    assert cassee.last_error_code == "http_error" and "404" in cassee.last_error
    assert cassee.backoff_until == T0 + timedelta(hours=13)
    # its 07:00 (Martinique) cron run comes after the backoff: the next real run is tomorrow
    assert cassee.next_run == datetime(2025, 3, 13, 11, 0, tzinfo=timezone.utc)
    assert statuses["nouvelle"].state == "never" and statuses["nouvelle"].next_run is None
    assert statuses["arretee"].state == "disabled"


def test_cli_sources_table_and_json(tmp_path, httpserver, run_cli):
    path, config, catalog = _setup(tmp_path, httpserver)
    scheduler = sched.build_scheduler(config, index_after_crawl=False)  # as `veille run` leaves it
    planned = scheduler.get_job("crawl:agence").next_run_time
    scheduler.close()
    result = run_cli("--config", str(path), "sources", "--json")
    assert result.returncode == 0, result.stderr
    data = {s["name"]: s for s in json.loads(result.stdout)["sources"]}
    assert list(data) == ["agence", "cassee", "nouvelle", "arretee"]
    assert data["agence"]["documents"] == 3 and data["agence"]["state"] == "ok"
    assert datetime.fromisoformat(data["agence"]["next_run"]) == planned
    assert data["cassee"]["consecutive_failures"] == 3
    assert data["cassee"]["last_error_code"] == "http_error"
    table = run_cli("--config", str(path), "sources")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split()[:5] == ["SOURCE", "TYPE", "RYTHME", "ÉTAT", "DOCS"]
    assert lines[1].startswith("agence") and "en service" in lines[1]
    assert "[http_error] HTTP 404" in lines[2]
    assert "jamais relevée" in lines[3] and "en pause" in lines[4]
