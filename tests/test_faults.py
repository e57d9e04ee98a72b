"""Faults: `kill -9` in the middle of a crawl or of indexing, then a restart.

Real processes (`python -m veille ...`) against a real HTTP server on 127.0.0.1. After the
kill the catalog passes SQLite's integrity check and the index opens; after the restart no
document gathered before the kill is missing, none appears twice, and every document the
feeds hold is catalogued and found exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from veille.storage.catalog import Catalog
from veille.storage.sqlite_files import sqlite_problem
from indexer.search.request import SearchRequest
from veille.core.records import Document, document_id
from indexer.search.space import DocumentSpace
from tests.conftest import ROOT
from tests.httpserver import Reply, httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from veille.core.layout import DataDir

pytestmark = pytest.mark.slow

FEEDS = 6
ITEMS = 30
WORD = "cohésion"


def rss(feed: int, items: int = ITEMS) -> bytes:
    entries = "".join(
        f"<item><title>Actualité {feed}-{i} sur la {WORD} des territoires</title>"
        f"<link>http://news.example/{feed}/{i}</link><guid>http://news.example/{feed}/{i}</guid>"
        f"<description>Résumé {feed}-{i} : {WORD} sociale et renouvellement urbain.</description>"
        f"<pubDate>Mon, 10 Mar 2025 {i % 24:02d}:00:00 +0000</pubDate></item>"
        for i in range(items))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Flux {feed}</title>'
            f"<link>http://news.example/{feed}</link><description>d</description>{entries}</channel></rss>"
            ).encode("utf-8")


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test():
    """A failed wait must not leave `veille run` behind (they run in their own session)."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if not proc.output.closed:
            proc.output.close()


def veille(config_path: Path, *args: str) -> subprocess.Popen:
    """Start `veille ARGS`; its output goes to a file beside the configuration (a pipe
    nobody reads would fill up with log lines and block the process)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    output = open(config_path.parent / f"veille-{'-'.join(args[:1])}-{time.monotonic_ns()}.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "veille", "--config", str(config_path), *args],
                            env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    proc.output = output
    _STARTED.append(proc)
    return proc


def output_of(proc: subprocess.Popen) -> str:
    proc.output.seek(0)
    text = proc.output.read()
    proc.output.close()
    return text


def finish(config_path: Path, *args: str, timeout: float = 300) -> str:
    proc = veille(config_path, *args)
    proc.wait(timeout=timeout)
    out = output_of(proc)
    assert proc.returncode == 0, f"veille {' '.join(args)} failed:\n{out[-3000:]}"
    return out


def kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    output_of(proc)
    assert proc.returncode == -signal.SIGKILL


def catalogued(layout: DataDir) -> dict[str, Document]:
    assert sqlite_problem(layout.catalog) is None
    catalog = Catalog.open(layout)
    try:
        return {doc.id: doc for doc in catalog.documents.iter_all()}
    finally:
        catalog.close()


def found_ids(config, q: str = WORD) -> list[str]:
    space = DocumentSpace(config)
    try:
        results = space.search(SearchRequest(q=q, per_page=100_000, facets=False, highlight=False))
    finally:
        space.close()
    ids = [hit.id for hit in results.hits]
    assert results.total == len(ids)
    return ids


def wait_for(condition, what: str, timeout: float = 120.0, detail=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what} {detail()}")
        time.sleep(0.02)


def test_kill_during_a_crawl_then_restart(httpserver, write_config):  # noqa: F811
    gate_hit, gate_open = threading.Event(), threading.Event()
    for feed in range(FEEDS):
        httpserver.add(f"/feed-{feed}.xml", rss(feed), content_type="application/rss+xml")
    held = httpserver.routes["/feed-3.xml"]

    def gated(request):
        gate_hit.set()           # the crawl is under way: the test kills it now
        gate_open.wait(30)
        return held(request)

    httpserver.route("/feed-3.xml", gated)
    sources = "".join(f'  - {{name: flux-{f}, kind: feed, url: "{httpserver.url(f"/feed-{f}.xml")}"}}\n'
                      for f in range(FEEDS))
    path = write_config(
        "data_dir: data\n"
        "http: {delay_per_host: 0, retries: 0, timeout: 20, allow_private_networks: true, concurrency: 2}\n"
        "sources:\n" + sources)
    config = load_config(path)

    crawl = veille(path, "crawl")
    wait_for(gate_hit.is_set, "the crawl to reach the held feed")
    kill9(crawl)
    before = catalogued(config.layout)

    gate_open.set()
    finish(path, "crawl")
    finish(path, "index")
    after = catalogued(config.layout)

    assert set(before) <= set(after), "documents gathered before the kill went missing"
    assert all(after[i].url == doc.url and after[i].title == doc.title for i, doc in before.items())
    urls = [doc.url for doc in after.values()]
    assert len(urls) == len(set(urls)) == FEEDS * ITEMS            # everything, once
    ids = found_ids(config)
    assert len(ids) == len(set(ids)) == FEEDS * ITEMS              # indexed, once


def _fill_catalog(config, count: int) -> set[str]:
    catalog = Catalog.open(config.layout)
    now = datetime(2025, 3, 10, tzinfo=timezone.utc)
    body = " ".join(f"{WORD} urbaine paragraphe {n} quartiers prioritaires logement" for n in range(12))
    ids = set()
    with catalog.transaction():
        for i in range(count):
            url = f"https://example.org/doc/{i}"
            doc = Document(id=document_id(url), title=f"Document {i} : {WORD}", source="test",
                           kind="actualité", first_seen=now, url=url, content=f"{i} {body}", extra={})
            catalog.documents.put(doc)
            ids.add(doc.id)
    catalog.close()
    return ids


def test_kill_during_indexing_then_restart(write_config):
    path = write_config("data_dir: data\n")
    config = load_config(path)
    ids = _fill_catalog(config, 600)
    finish(path, "index")                           # a first, complete index to damage
    _fill_catalog(config, 2100)                     # 1500 more, pending: three batches
    catalog = Catalog.open(config.layout)
    assert catalog.queue.pending_count() == 1500

    index = veille(path, "index")
    # kill once the first batch is committed and marked, while the next one is being written
    wait_for(lambda: catalog.queue.pending_count() < 1500 or index.poll() is not None, "the first batch")
    assert index.poll() is None, "indexing finished before it could be killed"
    kill9(index)
    pending_at_kill = catalog.queue.pending_count()
    catalog.close()
    assert 0 < pending_at_kill < 1500

    assert set(found_ids(config)) >= ids            # the index opens; nothing indexed before is lost
    finish(path, "index")
    all_ids = found_ids(config)
    assert len(all_ids) == len(set(all_ids)) == 2100
    assert Catalog.open(config.layout).queue.pending_count() == 0


def test_kill_during_a_rebuild_keeps_the_old_index(write_config):
    path = write_config("data_dir: data\n")
    config = load_config(path)
    _fill_catalog(config, 1500)
    finish(path, "index")
    search_dir = config.data_dir / "search"
    current = (search_dir / "CURRENT").read_text()

    rebuild = veille(path, "index", "--rebuild")
    wait_for(lambda: len([p for p in search_dir.iterdir() if p.is_dir()]) > 1 or rebuild.poll() is not None,
             "the rebuild to start its new index")
    assert rebuild.poll() is None, "the rebuild finished before it could be killed"
    kill9(rebuild)
    assert (search_dir / "CURRENT").read_text() == current      # the swap never happened
    ids = found_ids(config)
    assert len(ids) == len(set(ids)) == 1500
    finish(path, "index", "--rebuild")
    assert len(found_ids(config)) == 1500
    assert len([p for p in search_dir.iterdir() if p.is_dir()]) == 1   # the orphan is cleaned up


# ---------------------------------------------------------------- the production process


def _run_config(write_config, server, feeds: list[str]) -> Path:
    sources = "".join(f'  - {{name: {name}, kind: feed, schedule: 1h, url: "{server.url(f"/{name}.xml")}"}}\n'
                      for name in feeds)
    return write_config(
        "data_dir: data\n"
        "http: {delay_per_host: 0, retries: 0, timeout: 20, allow_private_networks: true, concurrency: 2}\n"
        "sources:\n" + sources)


def _healthz(port: int) -> dict | None:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return json.loads(response.read())
    except Exception:
        return None


def _settled(config, expected: int) -> bool:
    catalog = Catalog.open(config.layout)
    try:
        return catalog.documents.count() == expected and catalog.queue.pending_count() == 0
    finally:
        catalog.close()


def test_kill_veille_run_during_a_crawl_and_an_index_commit_then_restart(httpserver, write_config):  # noqa: F811
    from tests.conftest import free_port

    gate_hit, gate_open = threading.Event(), threading.Event()
    for feed in range(3):
        httpserver.add(f"/flux-{feed}.xml", rss(feed), content_type="application/rss+xml")
    httpserver.add("/gros.xml", rss(9, items=1400), content_type="application/rss+xml")
    held = httpserver.routes["/flux-2.xml"]

    def gated(request):
        gate_hit.set()
        gate_open.wait(30)
        return held(request)

    httpserver.route("/flux-2.xml", gated)
    path = _run_config(write_config, httpserver, ["flux-0", "flux-1", "flux-2"])
    config = load_config(path)
    port = free_port()

    # 1. killed while a crawl is in progress
    run = veille(path, "run", "--port", str(port))
    wait_for(gate_hit.is_set, "the crawl to reach the held feed")
    kill9(run)
    before = catalogued(config.layout)
    gate_open.set()

    # 2. restart: the interrupted crawl is run again, everything is indexed, health is green
    run = veille(path, "run", "--port", str(port))
    try:
        wait_for(lambda: _settled(config, 3 * ITEMS), "the interrupted crawl to be redone and indexed")
        wait_for(lambda: (_healthz(port) or {}).get("scheduler") == {"running": True}, "/healthz")
    finally:
        kill9(run)
    after = catalogued(config.layout)
    assert set(before) <= set(after)
    assert sorted(found_ids(config)) == sorted(after)

    # 3. a new, large source: killed while its documents are being indexed (batches of 500)
    path = _run_config(write_config, httpserver, ["flux-0", "flux-1", "flux-2", "gros"])
    catalog = Catalog.open(config.layout)
    run = veille(path, "run", "--port", str(port))
    wait_for(lambda: catalog.documents.count() == 3 * ITEMS + 1400 and 0 < catalog.queue.pending_count() < 1400
             or run.poll() is not None, "the first batch of the large source to be indexed",
             detail=lambda: f"(catalog {catalog.documents.count()}, pending {catalog.queue.pending_count()})")
    assert run.poll() is None
    kill9(run)
    catalog.close()
    indexed_before = set(found_ids(config))              # the index opens after the kill
    assert set(after) <= indexed_before

    # 4. restart: the pending documents are indexed without a new crawl; the schedule stands
    run = veille(path, "run", "--port", str(port))
    try:
        wait_for(lambda: _settled(config, 3 * ITEMS + 1400), "the pending documents to be indexed")
        health = None
        wait_for(lambda: (health := _healthz(port)) is not None and health["ok"], "a healthy service")
    finally:
        kill9(run)
    ids = found_ids(config)
    assert len(ids) == len(set(ids)) == 3 * ITEMS + 1400
    from veille.jobs.scheduler import next_run_times

    nexts = next_run_times(config, Catalog.open(config.layout))
    assert set(nexts) == {"flux-0", "flux-1", "flux-2", "gros"}
    assert all(when > datetime.now(timezone.utc) for when in nexts.values())   # next runs planned
