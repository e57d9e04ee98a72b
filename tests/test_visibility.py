"""Internal documents stay internal: an anonymous visitor never learns that one exists.

The data directory holds, beside public documents, internal ones carrying a canary word
and a unique title: a library file (the folder's default), a file of a sub-folder holding
nothing public, a crawled item of a source marked internal, and a public file made internal
by staff. An anonymous client walks every link reachable from the home page, the library
and search results, and asks every API route, feed and suggestion with queries that would
match the canaries (misspelt too): no canary, internal id, title or file name anywhere.
Then a staff member finds them all, with their badge. Both engines.

Sources reached with credentials (a password in the address, an API key in its query, a
token taken from the environment) are crawled with them, and no credential appears on any
anonymous route either.
"""

from __future__ import annotations

import re
import textwrap
from collections import deque
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup

from indexer.library.sync import sync_library
from tests.httpserver import Reply, httpserver  # noqa: F401 (fixture)
from indexer.search.space import DocumentSpace
from veille.core.config import load_config
from veille.core.records import document_id
from veille.storage.catalog import Catalog
from veille.storage.digests import DigestItem, DigestRecord
from watch.crawler import crawl_sources
from watch.fetcher import Fetcher
from web import create_app

CANARY = "zorglubquartz"
CANARY_FEED = "xylophragme"
INTERNAL_TITLE = "Note confidentielle du comité Zorglub"
HIDDEN_FOLDER_TITLE = "Relevé secret des arbitrages budgétaires"
FEED_TITLE = "Échange interne xylophragme avec la préfecture"
MADE_INTERNAL_TITLE = "Projet de délibération quartier Bellevue"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
SOURCE_PASSWORD = "motdepasse-canari"
SOURCE_API_KEY = "cle-canari-1234"
SOURCE_TOKEN = "jeton-canari-5678"           # from the environment, never in sources.yaml


def rss(items: list[tuple[str, str, str]]) -> str:
    body = "".join(f"<item><title>{t}</title><link>{link}</link><description>{d}</description>"
                   f"<pubDate>Mon, 01 Dec 2026 10:00:00 +0000</pubDate></item>" for t, link, d in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>{body}</channel></rss>'


@pytest.fixture(params=["tantivy", "whoosh"])
def site(request, tmp_path, httpserver, monkeypatch):
    library = tmp_path / "library"
    (library / "confidentiel").mkdir(parents=True)
    (library / "publics").mkdir()
    (library / "note-zorglub.txt").write_text(
        f"{INTERNAL_TITLE}\n\nLe comité a examiné le dossier {CANARY} du quartier prioritaire. "
        "Rénovation urbaine, contrat de ville, loi n° 2014-173 du 21 février 2014.", encoding="utf-8")
    (library / "confidentiel" / "arbitrages.txt").write_text(
        f"{HIDDEN_FOLDER_TITLE}\n\nArbitrages {CANARY} sur la rénovation urbaine.", encoding="utf-8")
    (library / "publics" / "guide-renovation.txt").write_text(
        "Guide de la rénovation urbaine\n\nLe contrat de ville et la rénovation urbaine des quartiers "
        "prioritaires, loi n° 2014-173 du 21 février 2014.", encoding="utf-8")
    (library / "publics" / "bellevue.txt").write_text(
        f"{MADE_INTERNAL_TITLE}\n\nRénovation urbaine du quartier Bellevue, {CANARY}.", encoding="utf-8")
    (library / "metadata.csv").write_text(
        "fichier;titre;visibilité\n"
        f"note-zorglub.txt;{INTERNAL_TITLE};\n"
        f"confidentiel/arbitrages.txt;{HIDDEN_FOLDER_TITLE};\n"
        "publics/guide-renovation.txt;Guide de la rénovation urbaine;public\n"
        f"publics/bellevue.txt;{MADE_INTERNAL_TITLE};public\n", encoding="utf-8")
    httpserver.add("/public.xml", rss([("Loi n° 2014-173 du 21 février 2014 de programmation pour la ville",
                                         httpserver.url("/loi"), "Programmation pour la ville et la cohésion urbaine.")]),
                   content_type="application/rss+xml")
    httpserver.add("/interne.xml", rss([(FEED_TITLE, httpserver.url("/echange"),
                                         f"Compte rendu {CANARY_FEED} de la rénovation urbaine.")]),
                   content_type="application/rss+xml")
    import base64

    subscribed = rss([("Lettre des abonnés sur la rénovation", httpserver.url("/abonnes-1"), "Rénovation.")]).encode()
    expected_auth = "Basic " + base64.b64encode(f"abonne:{SOURCE_PASSWORD}".encode()).decode()
    httpserver.route(f"/abonnes.xml?apikey={SOURCE_API_KEY}&lang=fr", lambda request: Reply(
        200, subscribed, {"Content-Type": "application/rss+xml"})
        if request.headers.get("authorization") == expected_auth else Reply(401, b"who are you?"))
    httpserver.add(f"/jeton.xml?token={SOURCE_TOKEN}",
                   rss([("Bulletin à jeton", httpserver.url("/jeton-1"), "Contrat de ville.")]),
                   content_type="application/rss+xml")
    monkeypatch.setenv("VEILLE_TEST_FEED_TOKEN", SOURCE_TOKEN)
    with_password = httpserver.url(f"/abonnes.xml?apikey={SOURCE_API_KEY}&lang=fr").replace(
        "http://", f"http://abonne:{SOURCE_PASSWORD}@")
    failing = httpserver.url(f"/absent.xml?api_key={SOURCE_API_KEY}").replace(
        "http://", f"http://abonne:{SOURCE_PASSWORD}@")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""
        data_dir: data
        search: {{engine: {request.param}}}
        http: {{delay_per_host: 0, retries: 0, allow_private_networks: true}}
        library:
          - {{name: Bibliothèque, path: library}}
        sources:
          - {{name: journal, title: Journal public, kind: feed, url: "{httpserver.url('/public.xml')}"}}
          - {{name: echanges, title: Échanges avec la préfecture, kind: feed, visibility: interne,
              url: "{httpserver.url('/interne.xml')}"}}
          - {{name: abonnes, kind: feed, url: "{with_password}"}}
          - {{name: jeton, kind: feed, url: "{httpserver.url('/jeton.xml')}?token=${{VEILLE_TEST_FEED_TOKEN}}"}}
          - {{name: perdue, kind: feed, url: "{failing}"}}
        alerts:
          - {{name: Rénovation, query: rénovation, recipients: [equipe@example.org]}}
        web: {{base_url: "http://veille.example.org"}}
        """), encoding="utf-8")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    sync_library(config, catalog)
    with Fetcher(config.http, catalog.validators) as fetcher:
        reports = {r.source: r for r in crawl_sources(config, catalog, fetcher, config.sources)}
    assert reports["abonnes"].new == 1 and reports["jeton"].new == 1, reports   # credentials were sent
    assert not reports["perdue"].ok and SOURCE_PASSWORD not in reports["perdue"].error
    made_internal = document_id("library:Bibliothèque/publics/bellevue.txt")
    catalog.edits.record(made_internal, {"visibility": "interne"}, by="equipe@example.org")
    catalog.documents.apply_edits(made_internal)
    space = DocumentSpace(config)
    space.index_pending()
    space.close()
    internal = {document_id("library:Bibliothèque/note-zorglub.txt"),
                document_id("library:Bibliothèque/confidentiel/arbitrages.txt"), made_internal}
    internal |= {doc.id for doc in catalog.documents.iter_all() if doc.source == "echanges"}
    # a digest sent to the team with an internal document: the alert's public feed reads it
    digest_id = "d1"
    catalog.digests.add(DigestRecord(id=digest_id, recipient="equipe@example.org", period_start=NOW - timedelta(days=7),
                                     period_end=NOW, created=NOW, status="sending", message_id="<m@x>",
                                     subject="s", documents=1, html="", raw=b""),
                        [DigestItem(alert="yaml-renovation", doc_id=sorted(internal)[0], title=INTERNAL_TITLE,
                                    link="http://veille.example.org/documents/x", date=NOW, summary=CANARY)])
    catalog.digests.mark_sent(digest_id, sent=NOW)
    catalog.close()
    app = create_app(config, {"TESTING": True})
    return app, config, internal


FORBIDDEN_WORDS = (CANARY, CANARY_FEED, INTERNAL_TITLE, HIDDEN_FOLDER_TITLE, FEED_TITLE, MADE_INTERNAL_TITLE,
                   "note-zorglub", "arbitrages.txt", "confidentiel", "bellevue.txt", "Bellevue", "Zorglub",
                   "Échanges avec la préfecture", "echanges", SOURCE_PASSWORD, SOURCE_API_KEY, SOURCE_TOKEN)
START = ["/", "/bibliotheque", "/search?q=rénovation+urbaine", "/search?q=", "/search?q=comité",
         "/search?q=quartier+prioritaire+comité", "/search?q=arbitrages+budgétaires", "/search?q=loi+2014-173",
         "/search?visibility=interne", "/search?q=r%C3%A9novation&visibility=interne",
         "/api/search?q=rénovation&per_page=100", "/api/search?q=&per_page=100", "/api/sources",
         "/api/search?q=comité+examiné", "/search.atom?q=rénovation", "/search.atom?q=",
         "/alertes/yaml-renovation/atom", "/static/openapi.json", "/healthz",
         "/search.ris?q=rénovation", "/search.bib?q=", "/search.csv?q=", "/search.ris?q=comité+examiné",
         "/search.bib?q=rénovation&visibility=interne", "/search.csv?q=arbitrages+budgétaires"]
# Searches for a canary (exact or misspelt) echo the word typed: such a page must be exactly
# the page of a word found nowhere, the same length, once the two words are swapped.
ECHO = ["/search?q={w}", "/search?q={w}+rénovation", "/api/search?q={w}", "/search.atom?q={w}",
        "/search?q=title:{w}", "/api/search?q={w}&per_page=100", "/search.ris?q={w}",
        "/search.bib?q={w}+rénovation", "/search.csv?q={w}"]
PROBES = [CANARY, CANARY[:-1] + "z", CANARY[1:], CANARY_FEED, CANARY_FEED[:-1] + "s", "Zorglub", "Bellevue"]


def undated(body: str) -> str:
    """A feed of nothing is dated the moment it is asked for: leave that out."""
    return re.sub(r"<updated>[^<]*</updated>", "", body)


def nowhere(word: str) -> str:
    return ("qxjw" * 10)[:len(word)]


def walk(client, internal: set[str], limit: int = 400) -> dict[str, str]:
    """Every page reachable from START by links and forms' GET targets: url -> body."""
    seen: dict[str, str] = {}
    queue = deque(START + [f"/documents/{i}" for i in internal] + [f"/api/documents/{i}" for i in internal]
                  + [f"/documents/{i}/copie" for i in internal]
                  + ["/bibliotheque/Biblioth%C3%A8que/note-zorglub.txt",
                     "/bibliotheque/Biblioth%C3%A8que/confidentiel/arbitrages.txt",
                     "/bibliotheque/Biblioth%C3%A8que?dossier=confidentiel",
                     "/bibliotheque/Biblioth%C3%A8que/publics/bellevue.txt",
                     # staff only: the metadata file with edits, the upload form
                     "/bibliotheque/Biblioth%C3%A8que/metadonnees", "/bibliotheque/Biblioth%C3%A8que/deposer"])
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        body = response.get_data(as_text=True) if response.status_code != 304 else ""
        seen[url] = body
        if "html" in (response.content_type or ""):
            soup = BeautifulSoup(body, "html.parser")
            for link in soup.select("a[href]"):
                target = urljoin("http://localhost" + url, link["href"])
                parts = urlsplit(target)
                if parts.netloc in ("localhost", "veille.example.org") and parts.path not in ("/login", "/logout"):
                    queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


def test_anonymous_visitors_never_learn_an_internal_document_exists(site):
    app, config, internal = site
    client = app.test_client()
    for template in ECHO:
        for word in PROBES:
            asked = undated(client.get(template.format(w=word)).get_data(as_text=True))
            control = undated(client.get(template.format(w=nowhere(word))).get_data(as_text=True))
            assert asked == control.replace(nowhere(word), word), template.format(w=word)
    pages = walk(app.test_client(), internal)
    assert len(pages) > 40
    for url, body in pages.items():
        lowered = body.lower()
        for word in FORBIDDEN_WORDS:
            assert word.lower() not in lowered, (url, word)
        for doc_id in internal:
            assert doc_id not in body, (url, doc_id)
    for doc_id in internal:
        for url in (f"/documents/{doc_id}", f"/api/documents/{doc_id}", f"/documents/{doc_id}/copie"):
            assert client.get(url).status_code == 404, url
    for url in ("/bibliotheque/Biblioth%C3%A8que/metadonnees", "/bibliotheque/Biblioth%C3%A8que/deposer"):
        assert client.get(url).status_code == 302, url           # to the login page
    # editing a notice asks for a login first, the same for an internal document as for none
    for doc_id in internal:
        asked = client.get(f"/documents/{doc_id}/modifier")
        control = client.get("/documents/0000000000000000/modifier")
        assert asked.status_code == control.status_code == 302
        assert asked.get_data(as_text=True) == control.get_data(as_text=True).replace("0000000000000000", doc_id)
    library = BeautifulSoup(client.get("/bibliotheque").get_data(as_text=True), "html.parser")
    assert "1 document" in library.select_one("ul.folders li").get_text(" ", strip=True)   # the public guide only
    assert client.get("/documents/0000000000000000").status_code == 404   # the same as nothing
    found = client.get(f"/api/search?q={CANARY[:-1]}x").get_json()
    assert found["total"] == 0 and found["suggestion"] == ""
    facets = client.get("/api/search?q=").get_json()["facets"]
    assert "visibility" not in facets
    assert sum(c["count"] for c in facets["kind"]) == client.get("/api/search?q=").get_json()["total"]


def test_staff_find_internal_documents_with_their_badge_and_filter(site, login_staff):
    app, config, internal = site
    staff = login_staff(app)
    found = staff.get(f"/api/search?q={CANARY}").get_json()
    assert found["total"] == 3
    page = BeautifulSoup(staff.get(f"/search?q={CANARY}").get_data(as_text=True), "html.parser")
    badges = [li for li in page.select("li.result") if li.select_one(".badge.internal")]
    assert len(badges) == 3
    only = staff.get("/api/search?q=rénovation&visibility=interne&per_page=50").get_json()
    assert only["total"] == 4 and {"value": "interne", "count": 4} in only["facets"]["visibility"]
    public = staff.get("/api/search?q=rénovation&visibility=public&per_page=50").get_json()
    assert public["total"] >= 1 and all(r["id"] not in internal for r in public["results"])
    for doc_id in internal:
        assert staff.get(f"/documents/{doc_id}").status_code == 200
    for fmt in ("ris", "bib", "csv"):     # staff take internal references away too
        assert INTERNAL_TITLE in staff.get(f"/search.{fmt}?q={CANARY}").get_data(as_text=True)
    assert staff.get("/bibliotheque/Biblioth%C3%A8que?dossier=confidentiel").status_code == 200
    assert CANARY_FEED.lower() in staff.get("/api/sources").get_data(as_text=True).lower() or \
        "echanges" in staff.get("/api/sources").get_data(as_text=True)


def test_staff_change_takes_effect_at_the_next_request_and_survives_a_sync(site, login_staff):
    app, config, internal = site
    anonymous, staff = app.test_client(), login_staff(app)
    guide = document_id("library:Bibliothèque/publics/guide-renovation.txt")
    assert anonymous.get(f"/documents/{guide}").status_code == 200
    assert guide in {r["id"] for r in anonymous.get("/api/search?q=guide").get_json()["results"]}
    page = staff.get(f"/documents/{guide}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = staff.post(f"/documents/{guide}/visibilite", data={"csrf_token": token, "visibility": "interne"})
    assert response.status_code == 302
    assert anonymous.get(f"/documents/{guide}").status_code == 404
    assert guide not in {r["id"] for r in anonymous.get("/api/search?q=guide").get_json()["results"]}
    assert "Guide de la rénovation" not in anonymous.get("/search.atom?q=guide").get_data(as_text=True)
    catalog = Catalog.open(config.layout)
    sync_library(config, catalog)          # the folder's sidecar says public: the staff's choice holds
    assert catalog.documents.get(guide).visibility == "interne"
    catalog.close()


def test_a_digest_to_an_outside_address_never_carries_an_internal_document(site, login_staff):
    from veille.digest.run import compose_digests, space_matcher

    app, config, internal = site
    login_staff(app, "equipe@example.org")        # a staff account
    catalog = Catalog.open(config.layout)
    catalog.alerts.save("Quartiers", "rénovation", {}, ["equipe@example.org", "elu@commune.example"])
    space = DocumentSpace(config)
    try:
        composed, failed = compose_digests(config, catalog, space_matcher(space, catalog), now=NOW + timedelta(hours=1))
    finally:
        space.close()
    assert not failed
    mails = {item.digest.recipient: item for item in composed}
    outside = mails["elu@commune.example"]
    for word in (CANARY, INTERNAL_TITLE, FEED_TITLE, MADE_INTERNAL_TITLE, HIDDEN_FOLDER_TITLE):
        assert word not in outside.html and word not in outside.text
    assert not {i.doc_id for i in outside.items} & internal
    assert "Guide de la rénovation urbaine" in outside.text
    team = mails["equipe@example.org"]
    assert INTERNAL_TITLE in team.text and {i.doc_id for i in team.items} & internal
    catalog.close()
