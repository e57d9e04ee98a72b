"""`veille run`: the production process crawls on schedule, indexes, serves the web UI, and
stops cleanly on SIGTERM. A real subprocess, a real feed server and real HTTP requests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from veille.storage.catalog import Catalog
from tests.conftest import FIXTURES, ROOT, free_port
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config

WATCH = FIXTURES / "watch"


def wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.1)


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return None


def feed_config(tmp_path, httpserver):
    """sources.yaml with one feed of 3 items, served by `httpserver`, every 6 hours."""
    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - {{name: agence, kind: feed, url: "{httpserver.url('/rss.xml')}", schedule: 6h}}
        """), encoding="utf-8")
    return path


@pytest.mark.slow
def test_run_crawls_indexes_serves_and_stops(tmp_path, httpserver):
    path = feed_config(tmp_path, httpserver)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "veille", "--config", str(path), "run",
                                "--port", str(port)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        catalog = Catalog.open(load_config(path).layout)
        # a new source is crawled at start, then its documents are indexed
        wait_for(lambda: catalog.documents.count() == 3 and catalog.queue.pending_count() == 0)
        assert catalog.runs.recent("agence")[0].new == 3
        assert wait_for(lambda: _get(f"http://127.0.0.1:{port}/")) == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "1 source(s) planifiée(s)" in out
    assert "arrêt" in err
    # the digest and the lettre de veille are planned too, their next runs kept for a restart
    assert {"veille-digest", "veille-lettre"} <= set(catalog.schedule.all())
    assert len(httpserver.hits("/rss.xml")) == 1


@pytest.mark.slow
def test_run_with_workers_follows_sources_changed_from_the_web(tmp_path, httpserver):
    """`veille run --workers 2`: the web in other processes than the scheduler. A source
    added from /sources is crawled without a restart; « Relever maintenant » reaches the
    scheduler; a paused source is no longer planned."""
    from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD, WebSession
    from veille.storage.users import hash_password

    path = feed_config(tmp_path, httpserver)
    httpserver.add("/avis.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    catalog.users.add(STAFF_EMAIL, hash_password(STAFF_PASSWORD))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "run.log"   # a file, not a pipe nobody reads while the service logs
    with open(log, "w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "veille", "--config", str(path), "run",
                                    "--port", str(port), "--workers", "2"], cwd=tmp_path, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: catalog.documents.count() == 3)            # the configured feed, crawled at start
        assert wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz") in (200, 503))
        web = WebSession(f"http://127.0.0.1:{port}")
        status, _ = web.post("/login", "/login", {"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
        assert status == 200
        status, page = web.post("/sources/nouvelle", "/sources/nouvelle", {
            "title": "Avis de la préfecture", "kind": "feed", "url": httpserver.url("/avis.xml"),
            "schedule": "1d", "action": "enregistrer"})
        assert status == 200 and "La source a été ajoutée" in page
        # the scheduler, in another process, noticed the file and crawled the new source
        wait_for(lambda: catalog.runs.recent("avis-de-la-prefecture"), timeout=60)
        assert wait_for(lambda: catalog.source_state.get("avis-de-la-prefecture").last_success, timeout=60)
        status, page = web.post("/sources/avis-de-la-prefecture/relever", "/sources", {})
        assert status == 200 and "Relevé demandé" in page
        wait_for(lambda: len(catalog.runs.recent("avis-de-la-prefecture")) == 2, timeout=60)
        wait_for(lambda: not catalog.crawl_requests.all(), timeout=30)
        status, page = web.post("/sources/agence/pause", "/sources", {})
        assert status == 200 and "La source est en pause" in page
        wait_for(lambda: "crawl:agence" not in catalog.schedule.all(), timeout=30)
        assert "crawl:avis-de-la-prefecture" in catalog.schedule.all()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text(encoding="utf-8")
    assert process.returncode == 0, output
    assert "configuration appliquée au planificateur" in output
    assert len(httpserver.hits("/rss.xml")) == 1
