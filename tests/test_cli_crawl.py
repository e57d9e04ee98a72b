"""`veille crawl` end to end: a subprocess against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from tests.conftest import FIXTURES
from tests.httpserver import httpserver  # noqa: F401 (fixture)

WATCH = FIXTURES / "watch"


def _config(write_config, server):
    return write_config(f"""
        data_dir: data
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - {{name: agence, title: Agence, kind: feed, url: "{server.url('/rss.xml')}"}}
          - {{name: cassee, kind: feed, url: "{server.url('/absent.xml')}"}}
        """)


def test_crawl_all_reports_each_source(write_config, httpserver, run_cli):
    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    path = _config(write_config, httpserver)
    result = run_cli("--config", str(path), "crawl")
    assert result.returncode == 1, result.stderr          # one source failed: a timer must know
    lines = result.stdout.splitlines()
    assert any("agence: 3 nouveau(x), 0 mis à jour, 0 inchangé(s)" in line for line in lines)
    assert any("cassee: ÉCHEC [http_error] HTTP 404" in line for line in lines)
    assert lines[-1] == "2 source(s) : 3 nouveau(x), 0 mis à jour, 0 inchangé(s), 1 en échec"
    again = run_cli("--config", str(path), "crawl", "--source", "agence")
    assert again.returncode == 0
    assert "agence: 0 nouveau(x), 0 mis à jour, 3 inchangé(s)" in again.stdout


def test_crawl_named_source_failure_exits_1(write_config, httpserver, run_cli):
    path = _config(write_config, httpserver)
    result = run_cli("--config", str(path), "crawl", "--source", "cassee")
    assert result.returncode == 1
    assert "ÉCHEC" in result.stdout and "Traceback" not in result.stderr
    unknown = run_cli("--config", str(path), "crawl", "--source", "nope")
    assert unknown.returncode == 1
    assert "aucune source ne s'appelle « nope »" in unknown.stderr
