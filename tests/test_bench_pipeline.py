"""The benchmark pipeline: each stage resumes where it stopped; the report reads what the
benchmarks wrote and draws its plots."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bench import corpus, fts5, prepare, report
from bench.queries import QUERIES


class Stopped(Exception):
    pass


def batches(n, seed, size, stop_after=None):
    def shards(first):
        for made, start in enumerate(range(first, n, size)):
            if stop_after is not None and made == stop_after:
                raise Stopped
            yield list(corpus.generate(min(size, n - start), seed, start=start))
    return shards


def test_fts5_baseline_goes_on_where_it_stopped(tmp_path):
    path = tmp_path / "fts5.sqlite3"
    with pytest.raises(Stopped):
        fts5.ensure(path, 45, batches(45, 3, 10, stop_after=2))
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM docs").fetchone()[0] == 20
    db.close()
    stats = fts5.ensure(path, 45, batches(45, 3, 10))
    assert stats["docs"] == 45 and stats["seconds"] > 0
    db = fts5.open_db(path)
    assert [r[0] for r in db.execute("SELECT rowid FROM docs ORDER BY rowid")] == list(range(1, 46))
    whole, _, _ = fts5.build(tmp_path / "whole.sqlite3", corpus.generate(45, 3))
    for query in QUERIES[:6]:
        assert fts5.search(db, query)["total"] == fts5.search(whole, query)["total"]
    # done: asked again, it answers from what it wrote
    assert fts5.ensure(path, 45, batches(45, 3, 10, stop_after=0)) == stats


def test_catalog_goes_on_where_it_stopped(tmp_path, monkeypatch):
    real = corpus.documents

    def stopping(n, seed, start=0, **kwargs):
        if start == 10:
            raise Stopped
        return real(n, seed, start=start, **kwargs)

    monkeypatch.setattr(corpus, "documents", stopping)
    with pytest.raises(Stopped):
        prepare.ensure_catalog(25, 5, cache_dir=tmp_path, shard_size=10)
    monkeypatch.setattr(corpus, "documents", real)
    path, stats = prepare.ensure_catalog(25, 5, cache_dir=tmp_path, shard_size=10)
    assert stats["docs"] == 25 and stats["seconds"] > 0
    db = sqlite3.connect(path)
    assert {r[0] for r in db.execute("SELECT id FROM documents")} == {d.id for d in corpus.generate(25, 5)}
    assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'bench_fill'").fetchone()
    db.close()
    assert not (tmp_path / "catalog-5-25.partial").exists()


def _write(folder, name, data):
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")


def test_report_tables_and_plots(tmp_path, capsys):
    results = tmp_path / "results"
    for n, p50, fts in ((10_000, 4.0, 12.0), (100_000, 7.5, 130.0)):
        _write(results, f"search-tantivy-{n}", {
            "docs": n, "engine": "tantivy", "p50_ms": p50, "p95_ms": p50 * 2, "p99_ms": p50 * 3,
            "max_ms": p50 * 4, "fts5_p50_ms": fts, "fts5_p95_ms": fts * 3, "cold_first_query_ms": 50.0,
            "peak_rss_mb": 70.0, "load_average": 1.0})
        _write(results, f"index-tantivy-{n}", {
            "docs": n, "engine": "tantivy", "docs_per_s": 3400.0, "fts5_docs_per_s": 4000.0,
            "incremental_100_s": 0.2, "fts5_incremental_100_s": 0.02, "index_mb": n / 1000,
            "catalog_mb": n / 250, "fts5_index_mb": n / 160, "disk_mb_per_1k_docs": 5.0,
            "fts5_disk_mb_per_1k_docs": 6.2, "peak_rss_mb": 290.0})
        _write(results, f"web-tantivy-{n}", {
            "docs": n, "engine": "tantivy", "workers": 1, "clients": 8, "requests_per_s": 310.5,
            "p50_ms": 20.0, "p95_ms": 40.0, "p99_ms": 60.0, "errors": 0, "web_peak_rss_mb": 130.0,
            "during_commit": {"p95_ms": 55.0, "seconds": 0.4}, "during_crawl": {"p95_ms": 45.0},
            "fts5": {"requests_per_s": 20.25, "p95_ms": 900.0, "web_peak_rss_mb": 60.0, "errors": 0}})
    assert report.main(["--results", str(results), "--plots", str(tmp_path / "plots")]) == 0
    out = capsys.readouterr().out
    assert "| search page p50, ms | 4 (12) | 7.5 (130) |" in out
    assert "| full rebuild, documents/s | 3,400 (4,000) | 3,400 (4,000) |" in out
    assert "| search pages served, 8 clients, 1 process, searches/s | 310.5 (20.25) | 310.5 (20.25) |" in out
    assert "| search pages served, 8 clients, 2 processes, searches/s | – | – |" in out
    pngs = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert "p50_ms.png" in pngs and "searches_per_s.png" in pngs and "searches_per_s_w2.png" not in pngs
    assert all((tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in pngs)
