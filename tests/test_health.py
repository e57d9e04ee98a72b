"""`/healthz`: 200 with JSON when the service works, 503 naming what does not."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from veille.storage.catalog import Catalog
from veille.core.records import Document
from indexer.search.space import DocumentSpace
from veille.core.config import load_config
from web import create_app
from web.health import crawl_stale_after


@pytest.fixture
def config(write_config, monkeypatch):
    monkeypatch.delenv("VEILLE_SECRET_KEY", raising=False)
    config = load_config(write_config("""
        data_dir: data
        sources:
          - {name: journal, kind: feed, url: "https://example.org/rss", schedule: 6h}
        """))
    catalog = Catalog.open(config.layout)
    catalog.documents.put(Document(id="d1", title="Rénovation", source="journal", kind="actualité",
                         first_seen=datetime.now(timezone.utc), extra={}))
    space = DocumentSpace(config)
    space.index_pending()
    space.close()
    return config


def health(config, scheduler=None):
    app = create_app(config, {"TESTING": True})
    app.state.scheduler = scheduler
    response = app.test_client().get("/healthz")
    return response.status_code, response.json


def test_healthy_service_answers_200_with_its_state(config):
    status, body = health(config)
    assert status == 200 and body["ok"] is True and body["problems"] == []
    assert body["index"] == {"ok": True, "documents": 1}
    assert body["storage"]["writable"] is True and body["storage"]["free_bytes"] > 0
    assert body["scheduler"]["running"] is None
    assert body["crawl"]["last_success"] is None and body["digest"]["last_sent"] is None


def test_stopped_scheduler_is_named(config):
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler()
    scheduler.start()
    try:
        assert health(config, scheduler)[1]["scheduler"] == {"running": True}
    finally:
        scheduler.shutdown()
    status, body = health(config, scheduler)
    assert status == 503 and body["problems"] == ["planificateur : arrêté"]


def test_stale_crawl_is_named_and_a_recent_one_is_fine(config):
    catalog = Catalog.open(config.layout)
    now = datetime.now(timezone.utc)
    run = catalog.runs.start("journal", started=now - timedelta(days=3))
    catalog.runs.finish(run, http_status=200, new=1, finished=now - timedelta(days=3))
    status, body = health(config)
    assert status == 503 and body["problems"] == ["relevés : aucun relevé réussi depuis 72 h"]
    failed = catalog.runs.start("journal")
    catalog.runs.finish(failed, error="HTTP 500")          # a failed run does not count
    assert health(config)[0] == 503
    run = catalog.runs.start("journal")
    catalog.runs.finish(run, http_status=304)
    status, body = health(config)
    assert status == 200 and body["crawl"]["age_seconds"] < 3600


def test_unreadable_index_is_named(config):
    current = (config.data_dir / "search" / "CURRENT").read_text().strip()
    for path in (config.data_dir / "search" / current).iterdir():
        path.write_bytes(b"\x00garbage")
    status, body = health(config)
    assert status == 503 and body["index"]["ok"] is False
    assert body["problems"][0].startswith("index : illisible")


def test_stale_threshold_follows_the_slowest_schedule(write_config):
    config = load_config(write_config("""
        sources:
          - {name: a, kind: feed, url: "https://a.fr/rss", schedule: 30m}
          - {name: b, kind: feed, url: "https://b.fr/rss", schedule: 2d}
          - {name: c, kind: feed, url: "https://c.fr/rss", schedule: 30d, enabled: false}
        """, name="s2.yaml"))
    assert crawl_stale_after(config) == timedelta(days=4)
    weekly = load_config(write_config("""
        sources: [{name: a, kind: feed, url: "https://a.fr/rss", schedule: "0 7 * * mon"}]
        """, name="s3.yaml"))
    assert crawl_stale_after(weekly) == timedelta(days=8)


def _many_documents(config, count: int = 300) -> None:
    catalog = Catalog.open(config.layout)
    with catalog.transaction():
        for i in range(count):
            catalog.documents.put(Document(id=f"n{i}", title=f"Note {i} sur la rénovation", source="journal",
                                           kind="actualité", first_seen=datetime.now(timezone.utc),
                                           content="Texte de la note. " * 40, extra={}))
    catalog.close()


def test_a_damaged_catalog_is_reported(config):
    import sqlite3

    _many_documents(config)
    db = sqlite3.connect(config.layout.catalog)        # every page in the file itself, none in the WAL
    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0
    db.close()
    data = bytearray(config.layout.catalog.read_bytes())
    page = 4096
    for offset in range(page * 3, len(data) - page, page * 2):    # scribble over table pages
        data[offset + 100: offset + 400] = b"\xff" * 300
    config.layout.catalog.write_bytes(bytes(data))
    status, body = health(config)
    assert status == 503 and body["catalog"]["ok"] is False
    assert any(p.startswith(("catalogue : endommagé", "catalogue : illisible")) for p in body["problems"]), body
    assert any("veille restore" in p for p in body["problems"])


@pytest.mark.parametrize("engine", ["tantivy", "whoosh"])
def test_a_deleted_index_segment_is_reported_and_veille_index_says_what_to_run(write_config, run_cli,
                                                                               monkeypatch, engine):
    monkeypatch.delenv("VEILLE_SECRET_KEY", raising=False)
    path = write_config(f"data_dir: data\nsearch: {{engine: {engine}}}\n")
    config = load_config(path)
    _many_documents(config, 50)
    assert run_cli("--config", str(path), "index").returncode == 0
    status, body = health(config)
    assert status == 200, body
    index_dir = config.layout.search / config.layout.search_current.read_text().strip()
    victims = sorted(p for p in index_dir.iterdir()
                     if p.suffix in (".store", ".seg", ".trm", ".pst") or p.name.endswith(".seg"))
    assert victims, sorted(p.name for p in index_dir.iterdir())
    victims[0].unlink()
    status, body = health(config)
    assert status == 503 and any("fichier(s) manquant(s)" in p or "illisible" in p for p in body["problems"])
    result = run_cli("--config", str(path), "index")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "veille index --rebuild" in result.stderr and "veille restore" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert run_cli("--config", str(path), "index", "--rebuild").returncode == 0
    assert health(config)[0] == 200
