"""Watched pages: a change between two versions becomes a document with a readable diff."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from veille.storage.catalog import Catalog
from tests.httpserver import Reply, httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from watch.crawler import crawl_source
from watch.errors import ParseError
from watch.fetcher import Fetcher
from watch.sources.change import page_text, unified_diff

T0 = datetime(2025, 3, 12, 12, 0, tzinfo=timezone.utc)

V1 = """<html><head><title>Appels à projets</title></head><body>
<nav>Accueil | Contact | Visite du jour 1</nav>
<div id="aap"><h2>Appels à projets en cours</h2>
<ul><li>Quartiers d'été 2025 : dépôt avant le 30 avril</li>
<li>Cités éducatives : dépôt avant le 15 mai</li></ul></div>
</body></html>"""
V2 = V1.replace("Visite du jour 1", "Visite du jour 2")  # noise outside the watched part
V3 = V2.replace("<li>Cités éducatives : dépôt avant le 15 mai</li>",
                "<li>Cités éducatives : dépôt avant le 31 mai (prolongé)</li>\n"
                "<li>Fonds de cohésion outre-mer : dépôt avant le 1er juin</li>")


def test_page_text_of_a_selected_part():
    title, text = page_text(V1.encode(), "#aap")
    assert title == "Appels à projets"
    assert text.splitlines()[0] == "Appels à projets en cours"
    assert "Visite du jour" not in text
    with pytest.raises(ParseError):
        page_text(V1.encode(), "#absent")


def test_unified_diff_is_readable():
    diff = unified_diff("a\nb\nc", "a\nB\nc", "version du 01/03/2025 08:00", "version du 12/03/2025 08:00")
    assert diff.splitlines() == ["--- version du 01/03/2025 08:00", "+++ version du 12/03/2025 08:00",
                                 "@@ -1,3 +1,3 @@", " a", "-b", "+B", " c"]


def _env(tmp_path, server, selector: str | None):
    path = tmp_path / "sources.yaml"
    extra = f"\n    selector: '{selector}'" if selector else ""
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - name: anct-aap
            title: ANCT — appels à projets
            kind: change
            url: {server.url('/aap')}""") + extra + "\n", encoding="utf-8")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    return config, catalog, Fetcher(config.http, catalog.validators)


def test_change_between_two_versions_is_stored_with_its_diff(tmp_path, httpserver):
    html = lambda text: Reply(200, text.encode(), {"Content-Type": "text/html; charset=utf-8"})  # noqa: E731
    httpserver.sequence("/aap", [html(V1), html(V2), html(V3), html(V3)])
    config, catalog, fetcher = _env(tmp_path, httpserver, "#aap")
    source = config.source("anct-aap")
    first = crawl_source(config, source, catalog, fetcher, now=T0)
    assert first.ok and first.new == 0 and catalog.documents.count() == 0  # the reference version
    second = crawl_source(config, source, catalog, fetcher, now=T0 + timedelta(hours=6))
    assert second.ok and (second.new, second.unchanged) == (0, 1)  # noise outside the selector
    third = crawl_source(config, source, catalog, fetcher, now=T0 + timedelta(hours=12))
    assert third.ok and third.new == 1
    [doc] = list(catalog.documents.iter_all())
    assert doc.kind == "page modifiée"
    assert doc.url == httpserver.url("/aap")
    assert doc.title == "ANCT — appels à projets — page modifiée le 12 mars 2025"
    assert "Fonds de cohésion outre-mer" in doc.content
    assert doc.summary.startswith("Ajouté : Cités éducatives : dépôt avant le 31 mai (prolongé)")
    diff = doc.extra["diff"].splitlines()
    assert diff[0] == "--- version du 12 mars 2025 à 8 h 00"
    assert diff[1] == "+++ version du 12 mars 2025 à 20 h 00"
    assert "-Cités éducatives : dépôt avant le 15 mai" in diff
    assert "+Fonds de cohésion outre-mer : dépôt avant le 1er juin" in diff
    fourth = crawl_source(config, source, catalog, fetcher, now=T0 + timedelta(hours=18))
    assert fourth.new == 0 and catalog.documents.count() == 1


def test_whole_page_watched_without_selector(tmp_path, httpserver):
    html = lambda text: Reply(200, text.encode(), {"Content-Type": "text/html; charset=utf-8"})  # noqa: E731
    httpserver.sequence("/aap", [html(V1), html(V2), html(V3)])
    config, catalog, fetcher = _env(tmp_path, httpserver, None)
    source = config.source("anct-aap")
    crawl_source(config, source, catalog, fetcher, now=T0)
    # the page's main text is compared: a change in the navigation bar is no change
    assert crawl_source(config, source, catalog, fetcher, now=T0 + timedelta(days=1)).unchanged == 1
    report = crawl_source(config, source, catalog, fetcher, now=T0 + timedelta(days=2))
    assert report.new == 1
    [doc] = list(catalog.documents.iter_all())
    assert "+Fonds de cohésion outre-mer : dépôt avant le 1er juin" in doc.extra["diff"]


def test_selector_that_matches_nothing_is_an_error(tmp_path, httpserver):
    httpserver.add("/aap", "<html><body><p>Refonte du site</p></body></html>")
    config, catalog, fetcher = _env(tmp_path, httpserver, "#aap")
    report = crawl_source(config, config.source("anct-aap"), catalog, fetcher, now=T0)
    assert report.error_code == "parse_error"
    assert catalog.source_state.get("anct-aap").consecutive_failures == 1
