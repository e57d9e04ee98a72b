"""A publication date is the calendar date its source states, on every surface, for every
kind of source; a document without one shows the day it came in, in the configured zone.

Each source kind brings a document whose date a time-zone conversion would move by a day:
a feed entry of `2020-12-23T01:00:00+01:00` (the 22nd at 20:00 in Martinique), a listing
dated `2020-12-24T00:30:00+01:00`, a Légifrance text, a DILA text, a library file, and a
page change seen at 02:00 UTC (still the evening before in Martinique). Each is then looked
at on the search page, the document page, /api/search, /api/documents, the Atom feed and the
digest e-mail delivered to a real SMTP server.
"""

from __future__ import annotations

import io
import re
import textwrap
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import pytest

from conftest import FIXTURES
from indexer.enrich.thesaurus import enrich
from indexer.library.sync import sync_library
from indexer.search.space import DocumentSpace
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from veille.digest.run import run_digest
from veille.storage.catalog import Catalog
from watch.crawler import crawl_source
from watch.fetcher import Fetcher
from watch.sources.jorf_archive import write_archive
from watch.sources.legifrance import parse_jorf_text, to_document

CRAWLED = datetime(2025, 3, 13, 2, 0, tzinfo=timezone.utc)      # 12 March, 22:00 in Martinique
DIGEST_AT = datetime(2025, 3, 14, 11, 0, tzinfo=timezone.utc)
ECOT = "JORFTEXT000054861513"

FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>JO</title><id>urn:jo</id><updated>2020-12-23T01:00:00+01:00</updated>
<entry><title>Arrêté Zéphyrin relatif aux quartiers</title><id>urn:jo:1</id>
<link href="https://jo.example/zephyrin"/><published>2020-12-23T01:00:00+01:00</published>
<updated>2020-12-23T01:00:00+01:00</updated><summary>Un arrêté Zéphyrin.</summary></entry></feed>"""
LISTING = """<html><body><ul>
<li class="item"><a href="/actu/quetzal">Appel à projets Quetzal pour les quartiers</a>
<time datetime="2020-12-24T00:30:00+01:00">24 décembre 2020</time></li></ul></body></html>"""

# (title word searched, calendar date shown in French, ISO date)
EXPECTED = {
    "feed": ("Zéphyrin", "23 décembre 2020", "2020-12-23"),
    "page": ("Quetzal", "24 décembre 2020", "2020-12-24"),
    "legifrance": ("title:sécurité", "15 décembre 2020", "2020-12-15"),
    "dila-jorf": ("Saint-Gaudens", "20 septembre 2026", "2026-09-20"),
    "library": ("Xylophone", "1er octobre 2024", "2024-10-01"),
    "change": ("Mangrove", "12 mars 2025", "2025-03-12"),
}


@pytest.fixture
def everywhere(tmp_path, httpserver, shared_corpus, smtp_server):
    host, port, recorder = smtp_server
    jorf = shared_corpus / "legal" / "dila-jorf-opendata"
    records = [(ECOT, (jorf / "texte" / f"{ECOT}.xml").read_bytes())]
    records += [(p.stem, p.read_bytes()) for p in sorted((jorf / "article").glob("JORFARTI00005486151*.xml"))]
    out = io.BytesIO()
    write_archive(out, "20260920-013012", records)
    httpserver.add("/jorf/JORF_20260920-013012.tar.gz", out.getvalue(), content_type="application/gzip")
    httpserver.add("/jorf/", '<a href="JORF_20260920-013012.tar.gz">JORF_20260920-013012.tar.gz</a>')
    httpserver.add("/feed.xml", FEED, content_type="application/atom+xml")
    httpserver.add("/actualites", LISTING)
    pages = iter(["<html><body><main><p>La mangrove du Lamentin.</p></main></body></html>",
                  "<html><body><main><p>La mangrove du Lamentin.</p><p>Mangrove : nouvel appel.</p></main></body></html>"])
    current = {"body": next(pages)}
    from tests.httpserver import Reply
    httpserver.route("/mangrove", lambda request: Reply(200, current["body"].encode(),
                                                        {"Content-Type": "text/html; charset=utf-8"}))
    library = tmp_path / "library"
    library.mkdir()
    (library / "xylophone.txt").write_text("Le Xylophone, fiche d'expérience du centre.", encoding="utf-8")
    (library / "metadata.csv").write_text("file,title,date\nxylophone.txt,Fiche Xylophone,2024-10-01\n",
                                          encoding="utf-8")
    base = httpserver.url("")
    (tmp_path / "sources.yaml").write_text(textwrap.dedent(f"""\
        data_dir: data
        timezone: America/Martinique
        http: {{user_agent: "VeilleTest/1.0", delay_per_host: 0, timeout: 5, retries: 0,
                allow_private_networks: true}}
        library:
          - {{name: Bibliothèque, path: library/, visibility: public}}
        sources:
          - {{name: jo-feed, kind: feed, url: "{base}/feed.xml", tags: [juridique]}}
          - name: actus
            kind: page
            url: "{base}/actualites"
            select: {{item: li.item, link: a, date: time}}
          - {{name: mangrove, kind: change, url: "{base}/mangrove"}}
          - {{name: jo-dila, kind: dila-jorf, url: "{base}/jorf/", tags: [juridique]}}
          - {{name: legifrance-jo, kind: legifrance, url: "{base}/api", tags: [juridique]}}
        alerts:
          - name: Tout
            query: "Zéphyrin OR Quetzal OR title:sécurité OR Saint-Gaudens OR Xylophone OR Mangrove"
            recipients: [doc@example.org]
        digest:
          from: Veille <veille@example.org>
          smtp: {{host: {host}, port: {port}}}
        web: {{base_url: "https://veille.example.org"}}
        """), encoding="utf-8")
    config = load_config(tmp_path / "sources.yaml")
    catalog = Catalog.open(config.layout)
    with Fetcher(config.http, catalog.validators) as fetcher:
        crawl_source(config, config.source("mangrove"), catalog, fetcher, now=CRAWLED - timedelta(days=1))
        current["body"] = next(pages)
        for name in ("jo-feed", "actus", "mangrove", "jo-dila"):
            report = crawl_source(config, config.source(name), catalog, fetcher, now=CRAWLED)
            assert report.ok and report.new == 1, report.line()
    # the Légifrance API needs PISTE credentials: its text comes through its own parser
    text = parse_jorf_text((FIXTURES / "legifrance" / "JORFTEXT000042665307.json").read_bytes())
    catalog.documents.put(enrich(to_document(text, "legifrance-jo", CRAWLED, tags=("juridique",))))
    sync_library(config, catalog, now=CRAWLED)
    space = DocumentSpace(config)
    space.index_pending()
    yield config, catalog, space, recorder
    space.close()
    catalog.close()


def _doc_of(catalog, kind_source: str):
    name = {"feed": "jo-feed", "page": "actus", "change": "mangrove", "dila-jorf": "jo-dila",
            "legifrance": "legifrance-jo", "library": "Bibliothèque"}[kind_source]
    docs = [d for d in catalog.documents.iter_all() if d.source == name]
    if kind_source == "change":
        docs = [d for d in docs if d.kind == "page modifiée"]
    assert len(docs) == 1, [d.title for d in docs]
    return docs[0]


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_the_stated_date_on_every_surface(everywhere, kind):
    from web import create_app

    config, catalog, space, recorder = everywhere
    word, french, iso = EXPECTED[kind]
    doc = _doc_of(catalog, kind)
    client = create_app(config, {"TESTING": True}).test_client()

    api = client.get(f"/api/search?q={word}").get_json()
    assert [(h["id"], h["published"]) for h in api["results"]] == [(doc.id, iso)]
    year = client.get(f"/api/search?q={word}&year={iso[:4]}").get_json()
    assert year["total"] == 1
    assert client.get(f"/api/search?q={word}&from={iso}&to={iso}").get_json()["total"] == 1

    page = client.get(f"/search?q={word}").get_data(as_text=True)
    assert f'<time datetime="{iso}">{french}</time>' in page

    shown = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert f'<time datetime="{iso}">{french}</time>' in shown

    stated = client.get(f"/api/documents/{doc.id}").get_json()["published"]
    assert stated is not None and stated.startswith(iso)

    feed = ET.fromstring(client.get(f"/search.atom?q={word}").get_data())
    published = feed.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}published").text
    assert published.startswith(iso) and datetime.fromisoformat(published).astimezone(config.tz).date().isoformat() == iso

    report = run_digest(config, catalog, _matcher(space, catalog), now=DIGEST_AT)
    assert report.ok, report
    mails = recorder.messages()
    assert mails, "no digest sent"
    text = mails[-1].get_body(("plain",)).get_content()
    title = " ".join(doc.title.split())[:30]
    assert title in text
    entry = text[text.index(title):]
    assert french in entry[:entry.index("https://")]     # the entry's own lines, before its link


def test_times_are_shown_in_the_configured_zone(everywhere):
    from web import create_app

    config, catalog, space, recorder = everywhere
    doc = _doc_of(catalog, "feed")
    shown = create_app(config, {"TESTING": True}).test_client().get(f"/documents/{doc.id}").get_data(as_text=True)
    # crawled at 02:00 UTC on 13 March: 22 h 00 on the 12th in Martinique
    assert re.search(r"Entré dans la veille</dt><dd><time[^>]*>12 mars 2025 à 22 h 00</time>", shown)


def _matcher(space, catalog):
    from veille.digest.run import space_matcher

    return space_matcher(space, catalog)
