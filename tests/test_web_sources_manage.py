"""Managing the sources from /sources: add a feed or a listing page after trying it, change a
source, pause and resume it, « Relever maintenant ». sources.yaml is edited in place (its
comments and order kept), validated first, and nothing is written for a try."""

from __future__ import annotations

import textwrap

import pytest
from bs4 import BeautifulSoup

from tests.conftest import FIXTURES
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from veille.storage.catalog import Catalog

WATCH = FIXTURES / "watch"

CONFIG = """\
# Sources du centre — gardées à la main aussi
data_dir: data
http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}

sources:
  # l'agence, relevée deux fois par jour
  - name: agence
    title: "Agence — actualités"
    kind: feed
    url: "{base}/rss.xml"
    schedule: 12h   # assez
    tags: [actualité]
"""


@pytest.fixture
def app(tmp_path, httpserver):
    from web import create_app

    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    httpserver.add("/liste.html", (WATCH / "liste.html").read_bytes(), content_type="text/html; charset=utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(CONFIG.format(base=httpserver.url("").rstrip("/")), encoding="utf-8")
    app = create_app(load_config(path), {"TESTING": True})
    yield app
    app.close()


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def test_the_pages_are_the_team_s(app):
    client = app.test_client()
    for url in ("/sources/nouvelle", "/sources/agence/modifier"):
        assert client.get(url).status_code == 302
    for url in ("/sources/agence/pause", "/sources/agence/relever"):
        assert client.post(url).status_code in (302, 400)   # no session: login, or no CSRF token
    assert load_config(app.state.config.path).source("agence").enabled


def test_a_feed_is_tried_then_added_with_the_file_kept(app, login_staff, httpserver):
    staff = login_staff(app)
    path = app.state.config.path
    before = path.read_text(encoding="utf-8")
    form = {"title": "Préfecture — avis", "kind": "feed", "url": httpserver.url("/rss.xml").replace("rss", "rss"),
            "schedule": "1d", "nature": "publication", "tags": "Martinique, préfecture", "visibility": "public"}
    httpserver.add("/avis.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    form["url"] = httpserver.url("/avis.xml")
    tried = staff.post("/sources/nouvelle", data={**form, "action": "essayer"})
    assert tried.status_code == 200
    preview = soup_of(tried).select_one("section.preview")
    assert "3 documents" in preview.select_one(".count").get_text()
    assert len(preview.select("li.result")) == 3
    assert path.read_text(encoding="utf-8") == before                   # a try writes nothing
    assert Catalog.open(app.state.config.layout).documents.count() == 0  # and stores nothing

    saved = staff.post("/sources/nouvelle", data={**form, "action": "enregistrer"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("#source-prefecture-avis")
    text = path.read_text(encoding="utf-8")
    assert text.startswith(before)                # comments, order and layout kept; appended
    assert "  - name: prefecture-avis\n    title: Préfecture — avis\n    kind: feed\n" in text
    assert "tags: [publication, Martinique, préfecture]" in text
    source = load_config(path).source("prefecture-avis")
    assert (source.schedule, source.tags) == ("1d", ("publication", "Martinique", "préfecture"))
    page = soup_of(staff.get(saved.headers["Location"]))
    assert "La source a été ajoutée" in page.select_one("p.notice").get_text()
    assert page.select_one("#source-prefecture-avis th a").get_text() == "Préfecture — avis"   # config re-read


def test_a_listing_page_is_tried_with_its_selectors(app, login_staff, httpserver):
    staff = login_staff(app)
    form = {"title": "Liste des publications", "kind": "page", "url": httpserver.url("/liste.html"),
            "schedule": "6h", "select_item": "li.pub", "select_link": "a", "select_date": ".date",
            "action": "essayer"}
    preview = soup_of(staff.post("/sources/nouvelle", data=form)).select_one("section.preview")
    titles = [li.h3.get_text(strip=True) for li in preview.select("li.result")]
    assert titles and "Rien n'a pu être lu" not in preview.get_text()
    wrong = soup_of(staff.post("/sources/nouvelle", data={**form, "select_item": "li.absent"}))
    assert "aucun élément trouvé avec le sélecteur « li.absent »" in wrong.select_one("section.preview").get_text()
    missing = staff.post("/sources/nouvelle", data={**form, "select_link": ""})
    assert missing.status_code == 400
    assert "nécessaire" in soup_of(missing).select_one("#select_link-error").get_text()


def test_what_the_configuration_refuses_is_said_beside_the_field(app, login_staff):
    staff = login_staff(app)
    path = app.state.config.path
    before = path.read_text(encoding="utf-8")
    refused = staff.post("/sources/nouvelle", data={"title": "Mauvaise", "kind": "feed", "url": "ftp://x.example/f",
                                                   "schedule": "toutes les heures", "action": "enregistrer"})
    assert refused.status_code == 400
    soup = soup_of(refused)
    assert soup.select_one("#url-error").get_text() == "adresse http(s) invalide"
    assert "ni un intervalle" in soup.select_one("#schedule-error").get_text()
    assert soup.select_one("#url")["aria-invalid"] == "true"
    assert path.read_text(encoding="utf-8") == before


def test_a_source_is_changed_paused_and_resumed_in_place(app, login_staff):
    staff = login_staff(app)
    path = app.state.config.path
    form = soup_of(staff.get("/sources/agence/modifier"))
    assert form.select_one("#title")["value"] == "Agence — actualités"
    assert form.select_one("#nature option[selected]")["value"] == "actualité"
    changed = staff.post("/sources/agence/modifier", data={"title": "Agence — actualités", "schedule": "30m",
                                                          "nature": "actualité", "tags": "ANCT"})
    assert changed.status_code == 303
    text = path.read_text(encoding="utf-8")
    assert "schedule: 30m   # assez" in text and "# l'agence, relevée deux fois par jour" in text
    assert "tags: [actualité, ANCT]" in text
    assert staff.post("/sources/agence/pause").status_code == 303
    assert load_config(path).source("agence").enabled is False
    row = soup_of(staff.get("/sources")).select_one("#source-agence")
    assert row.select_one(".badge").get_text() == "en pause" and "Reprendre" in row.get_text()
    assert staff.post("/sources/agence/reprise").status_code == 303
    assert load_config(path).source("agence").enabled is True
    assert "enabled" not in path.read_text(encoding="utf-8")
    assert staff.post("/sources/absente/pause").status_code == 404


def test_crawl_now_leaves_a_request_for_the_scheduler(app, login_staff):
    staff = login_staff(app)
    response = staff.post("/sources/agence/relever")
    assert response.status_code == 303
    requests = Catalog.open(app.state.config.layout).crawl_requests.all()
    assert list(requests) == ["agence"] and requests["agence"].by == "equipe@example.org"
    page = soup_of(staff.get(response.headers["Location"]))
    assert "Relevé demandé" in page.select_one("p.notice").get_text()
    assert "relevé demandé le" in page.select_one("#source-agence").get_text()
    # this app runs without a scheduler (veille serve): the page says who will do it
    assert "sans planificateur" in page.get_text()


def test_a_file_broken_by_hand_is_not_overwritten(app, login_staff):
    staff = login_staff(app)
    path = app.state.config.path
    broken = path.read_text(encoding="utf-8").replace("schedule: 12h", "schedule: souvent")
    path.write_text(broken, encoding="utf-8")
    response = staff.post("/sources/agence/pause")
    assert response.status_code == 409
    assert "schedule" in response.get_data(as_text=True)
    assert path.read_text(encoding="utf-8") == broken


def test_the_scheduler_follows_the_file_and_the_requests(tmp_path, httpserver):
    """In one process: a source added to the file is crawled, a request is served."""
    import time

    from veille.core.config_write import append_source, edit_config
    from veille.jobs.scheduler import CRAWL_PREFIX, build_scheduler

    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent("""\
        data_dir: data
        http: {delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}
        sources: []
        """), encoding="utf-8")
    config = load_config(path)
    scheduler = build_scheduler(config, index_after_crawl=False, watch_interval=0.2)
    catalog = Catalog.open(config.layout)
    try:
        scheduler.resume()
        edit_config(path, lambda document: append_source(document, {
            "name": "agence", "kind": "feed", "url": httpserver.url("/rss.xml"), "schedule": "1d"}))
        deadline = time.monotonic() + 30
        while catalog.documents.count() < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert catalog.documents.count() == 3
        assert scheduler.get_job(CRAWL_PREFIX + "agence") is not None
        catalog.crawl_requests.add("agence", by="equipe@example.org")
        while catalog.crawl_requests.all() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert catalog.crawl_requests.all() == {}
        assert len(catalog.runs.recent("agence")) == 2
    finally:
        scheduler.close()
        catalog.close()
