"""Feed entries without a link are kept, as feed readers keep them: identified by their id, or
by their content when they have none, shown with their text, the feed's page offered."""

from __future__ import annotations

import html as html_module
import json
import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from indexer.search.request import SearchRequest
from indexer.search.space import DocumentSpace
from tests.httpserver import Reply, httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from veille.storage.catalog import Catalog
from watch.crawler import crawl_source
from watch.fetcher import Fetcher
from watch.items import entry_key
from watch.sources.feed import parse_feed

T0 = datetime(2025, 5, 12, 12, 0, tzinfo=timezone.utc)


def notices(third: str = "Fermeture exceptionnelle de la mairie annexe de Volga-Plage le vendredi.",
            base: str = "https://prefecture.example") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>Avis de la préfecture</title><link>https://prefecture.example/avis</link>
  <description>Avis et annonces</description>
  <item><title>Avis d'appel à projets quartiers</title><guid isPermaLink="false">avis-2025-017</guid>
    <description>Les associations des quartiers prioritaires peuvent déposer leur dossier jusqu'au 30 juin.</description>
    <pubDate>Mon, 12 May 2025 09:00:00 -0400</pubDate></item>
  <item><title>Article lié</title><link>{base}/avis/lie</link>
    <description>Un avis avec son lien.</description></item>
  <item><description>{third}</description></item>
</channel></rss>"""


def test_entries_without_a_link_are_kept_with_a_stable_key():
    listing = parse_feed(notices().encode(), "https://prefecture.example/rss.xml")
    assert listing.warnings == ()
    assert listing.link == "https://prefecture.example/avis"
    by_title = {item.title: item for item in listing.items}
    assert len(by_title) == 3
    guid_only = by_title["Avis d'appel à projets quartiers"]
    assert guid_only.url is None and entry_key(guid_only) == "avis-2025-017"
    assert by_title["Article lié"].url == "https://prefecture.example/avis/lie"
    bare = next(item for item in listing.items if item.url is None and not item.guid)
    assert bare.title.startswith("Fermeture exceptionnelle de la mairie annexe")
    assert entry_key(bare).startswith("sha256:")
    again = parse_feed(notices().encode(), "https://prefecture.example/rss.xml")
    assert [entry_key(i) for i in again.items] == [entry_key(i) for i in listing.items]


@pytest.fixture
def env(tmp_path, httpserver):
    body = {"text": notices(base=httpserver.url("").rstrip("/"))}
    httpserver.route("/rss.xml", lambda request: Reply(200, body["text"].encode(),
                                                       {"Content-Type": "application/rss+xml"}))
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - {{name: avis, title: "Avis de la préfecture", kind: feed, url: "{httpserver.url('/rss.xml')}", fetch_full: true}}
        """), encoding="utf-8")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    fetcher = Fetcher(config.http, catalog.validators)
    yield config, catalog, fetcher, body, httpserver
    fetcher.close()
    catalog.close()


def test_a_crawl_keeps_them_and_knows_them_again(env):
    config, catalog, fetcher, body, server = env
    server.add("/avis/lie", "<html><body><p>Le texte de l'article lié.</p></body></html>")
    report = crawl_source(config, config.source("avis"), catalog, fetcher, now=T0)
    assert report.ok and report.new == 3 and report.warnings == ()
    docs = {d.title: d for d in catalog.documents.iter_all()}
    notice = docs["Avis d'appel à projets quartiers"]
    assert notice.url is None and notice.extra["site_url"] == "https://prefecture.example/avis"
    assert notice.summary.startswith("Les associations des quartiers prioritaires")
    assert notice.published.date().isoformat() == "2025-05-12"
    assert docs["Article lié"].content.strip() == "Le texte de l'article lié."   # fetch_full followed it
    # the same feed again: nothing new, nothing fetched for the link-less entries
    again = crawl_source(config, config.source("avis"), catalog, fetcher, now=T0 + timedelta(hours=6))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    # an entry with neither link nor id is known by its text: new text, new entry
    body["text"] = notices("Fermeture exceptionnelle de la mairie annexe de Volga-Plage le samedi.",
                           base=server.url("").rstrip("/"))
    third = crawl_source(config, config.source("avis"), catalog, fetcher, now=T0 + timedelta(hours=12))
    assert (third.new, third.unchanged) == (1, 2)


def test_search_the_document_page_and_the_api_handle_them(env, login_staff):
    from web import create_app

    config, catalog, fetcher, body, server = env
    crawl_source(config, config.source("avis"), catalog, fetcher, now=T0)
    space = DocumentSpace(config)
    space.index_pending()
    found = space.search(SearchRequest(q="appel à projets quartiers"))
    space.close()
    hit = next(h for h in found.hits if h.title == "Avis d'appel à projets quartiers")
    assert hit.url is None
    app = create_app(config, {"TESTING": True})
    try:
        client = app.test_client()
        html = client.get(f"/documents/{hit.id}").get_data(as_text=True)
        assert "Les associations des quartiers prioritaires peuvent déposer leur dossier" in html
        assert 'href="https://prefecture.example/avis"' in html and "Voir la page de la source" in html
        assert "Voir l'original" not in html and "Aucun texte" not in html
        api = client.get(f"/api/documents/{hit.id}").get_json()
        assert api["url"] is None and api["title"] == "Avis d'appel à projets quartiers"
        results = client.get("/api/search?q=dossier+associations").get_json()["results"]
        assert [r["url"] for r in results if r["id"] == hit.id] == [None]
        atom = client.get("/search.atom?q=dossier+associations")
        assert atom.status_code == 200 and hit.id.encode() in atom.data
        page = html_module.unescape(client.get("/search?q=dossier+associations").get_data(as_text=True))
        assert "Avis d'appel à projets quartiers" in page
        assert json.loads(client.get("/api/sources").data)["sources"][0]["documents"] == 3
    finally:
        app.close()
