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
