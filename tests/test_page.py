"""Listing pages read with CSS selectors: French dates, relative links, pagination, follow."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from veille.storage.catalog import Catalog
from veille.core.records import document_id
from tests.conftest import FIXTURES
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from watch.crawler import crawl_source
from watch.dates import parse_french_date
from watch.errors import ParseError
from watch.fetcher import Fetcher
from watch.sources.page import parse_listing

WATCH = FIXTURES / "watch"
MQ = ZoneInfo("America/Martinique")
SELECT = {"item": "li.pub", "link": "a.lien", "title": "a.lien", "date": ".date", "summary": ".resume"}
BASE = "https://www.prefecture.example/publications/liste.html"


def test_listing_items_with_resolved_links_and_french_dates():
    listing = parse_listing((WATCH / "liste.html").read_bytes(), BASE, SELECT, next_selector="a.suivant")
    assert [(i.url, i.title, i.published) for i in listing.items] == [
        ("https://www.prefecture.example/publications/arrete-habitat-indigne.html",
         "Arrêté préfectoral sur l'habitat indigne", datetime(2025, 3, 12, tzinfo=MQ)),
        ("https://www.prefecture.example/publications/recueil/raa-2025-03.pdf",
         "Recueil des actes administratifs de mars", datetime(2025, 3, 3, tzinfo=MQ)),
        ("https://www.prefecture.example/consultations/plu-schoelcher.html",
         "Consultation : PLU de Schœlcher", datetime(2025, 2, 1, tzinfo=MQ)),
    ]
    assert listing.items[0].summary == "Mesures de lutte contre l'habitat indigne à Fort-de-France."
    assert listing.warnings == ("1 élément(s) sans lien ignoré(s)",)
    assert listing.next_url == "https://www.prefecture.example/publications/liste.html?page=2"
    assert listing.title == "Préfecture — Publications"


def test_base_href_and_links_inside_items():
    body = b"""<html><head><base href="https://cdn.example/docs/"></head><body>
      <div class="r"><h3>Rapport annuel</h3><p>Voir <a href="rapport.pdf">le rapport</a></p></div>
      <div class="r"><h3>Sans lien javascript</h3><a href="javascript:void(0)">x</a></div>
    </body></html>"""
    listing = parse_listing(body, "https://site.example/", {"item": "div.r", "link": "p", "title": "h3"})
    assert [(i.url, i.title) for i in listing.items] == [("https://cdn.example/docs/rapport.pdf", "Rapport annuel")]


def test_time_datetime_attribute_and_unreadable_dates():
    body = """<ul><li><a href="/a">A</a><time datetime="2025-03-12T09:30:00-04:00">hier</time></li>
              <li><a href="/b">B</a><time>bientôt</time></li></ul>""".encode()
    listing = parse_listing(body, "https://s.example/", {"item": "li", "link": "a", "date": "time"})
    assert listing.items[0].published == datetime(2025, 3, 12, 9, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert listing.items[1].published is None
    assert listing.warnings == ("1 date(s) illisible(s)",)


def test_invalid_selector_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_listing(b"<p>x</p>", "https://s.example/", {"item": "li[[", "link": "a"})


@pytest.mark.parametrize("text, expected", [
    ("12 mars 2025", datetime(2025, 3, 12, tzinfo=MQ)),
    ("Publié le 1er février 2025", datetime(2025, 2, 1, tzinfo=MQ)),
    ("mardi 12 déc. 2025 à 14h30", datetime(2025, 12, 12, 14, 30, tzinfo=MQ)),
    ("12 decembre 2025", datetime(2025, 12, 12, tzinfo=MQ)),
    ("12/03/2025", datetime(2025, 3, 12, tzinfo=MQ)),
    ("03.02.25", datetime(2025, 2, 3, tzinfo=MQ)),
    ("2025-03-12", datetime(2025, 3, 12, tzinfo=MQ)),
    ("2025-03-12T10:00:00Z", datetime(2025, 3, 12, 10, 0, tzinfo=timezone.utc)),
    ("août 2024", datetime(2024, 8, 1, tzinfo=MQ)),
    ("31/02/2025", None),
    ("sans date", None),
    ("", None),
])
def test_french_dates(text, expected):
    assert parse_french_date(text) == expected


def _env(tmp_path, server, options: str):
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - name: prefecture
            kind: page
            url: {server.url('/publications/liste.html')}
            tags: [juridique]
        """) + textwrap.indent(textwrap.dedent(options), "    "), encoding="utf-8")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    return config, catalog, Fetcher(config.http, catalog.validators)


SELECT_YAML = """\
select: {item: li.pub, link: a.lien, title: a.lien, date: .date, summary: .resume}
"""


def test_page_crawl_with_pagination_bounded_by_max_pages(tmp_path, httpserver):
    httpserver.add("/publications/liste.html", (WATCH / "liste.html").read_bytes(), etag='"p1"')
    httpserver.add("/publications/liste.html?page=2", (WATCH / "liste-page2.html").read_bytes())
    config, catalog, fetcher = _env(tmp_path, httpserver, SELECT_YAML + "next: a.suivant\nmax_pages: 2\n")
    report = crawl_source(config, config.source("prefecture"), catalog, fetcher)
    assert report.ok and report.new == 4
    assert "pagination arrêtée après 2 page(s) (max_pages)" in report.warnings
    assert httpserver.hits("/publications/liste.html?page=3") == []
    doc = catalog.documents.get(document_id(httpserver.url("/publications/arrete-ancien.html")))
    assert doc.kind == "juridique" and doc.published == datetime(2024, 12, 15, tzinfo=MQ)
    # the first page did not change: a 304, nothing else fetched
    again = crawl_source(config, config.source("prefecture"), catalog, fetcher)
    assert again.not_modified and again.new == 0
    assert len(httpserver.hits("/publications/liste.html?page=2")) == 1


def test_page_crawl_follow_stores_linked_documents(tmp_path, httpserver):
    httpserver.add("/publications/liste.html", (WATCH / "liste.html").read_bytes())
    httpserver.add("/publications/arrete-habitat-indigne.html",
                   "<html><body><article><p>Article 1er : l'immeuble est déclaré insalubre.</p>"
                   "</article></body></html>")
    httpserver.add("/publications/recueil/raa-2025-03.pdf", (WATCH / "guide.pdf").read_bytes(),
                   content_type="application/pdf")
    config, catalog, fetcher = _env(tmp_path, httpserver, SELECT_YAML + "follow: true\n")
    report = crawl_source(config, config.source("prefecture"), catalog, fetcher)
    assert report.ok and report.new == 3
    assert any("404" in w for w in report.warnings)  # the consultation page is missing
    arrete = catalog.documents.get(document_id(httpserver.url("/publications/arrete-habitat-indigne.html")))
    assert "déclaré insalubre" in arrete.content
    pdf = catalog.documents.get(document_id(httpserver.url("/publications/recueil/raa-2025-03.pdf")))
    assert "renouvellement urbain" in pdf.content and pdf.page_count == 1
    assert (config.data_dir / "files" / pdf.stored_file).is_file()


def test_page_whose_structure_changed_is_an_error(tmp_path, httpserver):
    httpserver.add("/publications/liste.html", "<html><body><p>Nouvelle maquette</p></body></html>")
    config, catalog, fetcher = _env(tmp_path, httpserver, SELECT_YAML)
    report = crawl_source(config, config.source("prefecture"), catalog, fetcher)
    assert report.error_code == "parse_error" and "li.pub" in report.error
