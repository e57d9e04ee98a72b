"""What the pages say: titles rather than slugs, French labels rather than configuration
values, one date style, a menu reaching every page, summaries as the text of items that
came without one."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from bs4 import BeautifulSoup

from test_web_search import page

# Dates as people must not read them beside « 12 mai 2025 »: 2025-05-12, 4/7/2018, 06/12/2026.
NUMERIC_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{4}\b")


def visible_text(html: str) -> str:
    """The text a reader sees: no attributes (datetime="...", href), no code examples."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup.select("code, script, style"):
        hidden.decompose()
    return soup.get_text(" ")


def test_the_menu_reaches_every_public_page_and_the_team_s(web_client, login_staff):
    soup = page(web_client, "/bibliotheque")
    links = {a.get_text(): a["href"] for a in soup.select("nav.site-nav a")}
    assert links == {"Accueil": "/", "Recherche": "/search", "Bibliothèque": "/bibliotheque",
                     "Lettres de veille": "/lettres-de-veille", "S'abonner": "/abonnement"}
    assert [a.get_text() for a in soup.select('nav.site-nav a[aria-current="page"]')] == ["Bibliothèque"]
    staff = login_staff(web_client.application)
    soup = page(staff, "/lettres")
    links = {a.get_text(): a["href"] for a in soup.select("nav.site-nav a")}
    assert links == {"Accueil": "/", "Recherche": "/search", "Bibliothèque": "/bibliotheque",
                     "Lettres de veille": "/lettres-de-veille", "À trier": "/lettre/a-trier", "Lettre": "/lettre",
                     "Abonnés": "/abonnes", "Alertes": "/alertes", "Envois des alertes": "/lettres",
                     "Sources": "/sources"}
    assert [a.get_text() for a in soup.select('nav.site-nav a[aria-current="page"]')] == ["Envois des alertes"]
    for url in links.values():            # every entry opens a page
        assert staff.get(url).status_code == 200, url


def test_the_menu_leaves_out_a_page_the_app_does_not_have(web_config):
    from web import create_app
    from web.menu import MENU, MenuEntry, menu_links

    app = create_app(web_config, {"TESTING": True})
    try:
        extended = (*MENU, MenuEntry("Agenda", "agenda.index"))
        with app.test_request_context("/"):
            import web.menu

            original, web.menu.MENU = web.menu.MENU, extended
            try:
                labels = [link.label for link in menu_links()]
            finally:
                web.menu.MENU = original
        assert labels == ["Accueil", "Recherche", "Bibliothèque", "Lettres de veille", "S'abonner"]
    finally:
        app.close()


LIBRARY_CONFIG = """
data_dir: data
library:
  - {name: Bibliothèque du centre, path: library/, visibility: public}
sources:
  - {name: anct-flux, title: "Agence nationale de la cohésion des territoires", kind: feed, url: "https://anct.example/rss.xml", schedule: 1d}
  - {name: prefecture, title: "Préfecture", kind: change, url: "https://prefecture.example/", schedule: "0 7 * * mon"}
"""


@pytest.fixture
def library_app(tmp_path_factory):
    from indexer.enrich.legal import enrich_legal
    from indexer.search.space import DocumentSpace
    from veille.core.config import load_config
    from veille.core.records import Document
    from web import create_app

    tmp_path = tmp_path_factory.mktemp("centre")
    (tmp_path / "sources.yaml").write_text(textwrap.dedent(LIBRARY_CONFIG), encoding="utf-8")
    (tmp_path / "library").mkdir()
    config = load_config(tmp_path / "sources.yaml")
    space = DocumentSpace(config)
    now = datetime.now(timezone.utc)
    space.catalog.documents.put(enrich_legal(Document(
        id="guide", title="Guide du conseil citoyen", source="Bibliothèque du centre", kind="bibliothèque",
        path="guide.txt", first_seen=now, published=datetime(2024, 10, 1, tzinfo=timezone.utc),
        content="Animer un conseil citoyen pas à pas, comme le prévoit l'arrêté du 4 juillet 2018.")))
    space.catalog.documents.put(Document(
        id="annonce", title="Appel à projets quartiers", source="anct-flux", kind="actualité", url=None,
        first_seen=now - timedelta(hours=2), published=datetime(2025, 5, 12, 9, tzinfo=timezone.utc),
        summary="Un appel à projets pour les conseils citoyens des quartiers prioritaires, ouvert jusqu'en juin."))
    space.index_pending()
    space.close()
    app = create_app(config, {"TESTING": True})
    yield app
    app.close()


def test_a_library_hit_names_its_kind_once(library_app):
    soup = page(library_app.test_client(), "/search?q=conseil+citoyen")
    metas = {r.h3.get_text(strip=True): " ".join(r.select_one("p.meta").get_text().split())
             for r in soup.select("li.result")}
    assert metas["Guide du conseil citoyen"] == "Bibliothèque du centre · 1er octobre 2024"
    assert metas["Appel à projets quartiers"] == (
        "Actualité · Agence nationale de la cohésion des territoires · 12 mai 2025")


def test_an_item_without_full_text_shows_its_summary_as_its_text(library_app):
    soup = page(library_app.test_client(), "/documents/annonce")
    text = soup.select_one("section.text")
    assert "Un appel à projets pour les conseils citoyens" in text.get_text()
    assert "Aucun texte" not in soup.get_text()
    assert not soup.select("#resume")          # shown once, as the text


def test_the_page_link_of_a_hit_says_what_it_shows(web_client):
    soup = page(web_client, "/search?q=conseils+citoyens")
    link = soup.select_one("a.page-ref")
    assert link.get_text() == "p. 2"
    # axe's label-content-name-mismatch: no accessible name hiding the visible one
    assert not link.has_attr("aria-label")


def test_alert_previews_show_titles_and_french_dates(library_app, login_staff):
    staff = login_staff(library_app)
    soup = page(staff, "/alertes/nouvelle")
    token = soup.select_one('input[name="csrf_token"]')["value"]
    response = staff.post("/alertes/nouvelle", data={"csrf_token": token, "name": "Quartiers",
                                                     "query": "conseils citoyens", "action": "apercu"})
    preview = BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one("#apercu").parent
    text = " ".join(preview.get_text().split())
    assert "Agence nationale de la cohésion des territoires" in text and "anct-flux" not in text
    assert "12 mai 2025" in text and not NUMERIC_DATE.search(text)


def test_the_sources_page_says_kinds_and_schedules_in_words(library_app, login_staff):
    staff = login_staff(library_app)
    text = " ".join(page(staff, "/sources").select_one("table.sources").get_text().split())
    assert "Flux RSS/Atom · chaque jour" in text
    assert "Page surveillée · le lundi à 7 h 00" in text
    for raw in ("feed", "change", "1d", "0 7 * * mon"):
        assert not re.search(rf"(?<![\w/-]){re.escape(raw)}(?![\w/-])", text), raw


def test_no_page_shows_a_numeric_date(web_client, library_app, login_staff):
    staff = login_staff(web_client.application)
    for url in ("/", "/search?q=logement", "/search?q=r%C3%A9novation&from=2020-01-01&to=2030-12-31",
                "/bibliotheque", "/bibliotheque/Biblioth%C3%A8que?dossier=fiches", "/sources", "/alertes",
                "/lettres"):
        html = staff.get(url).get_data(as_text=True)
        assert not NUMERIC_DATE.search(visible_text(html)), url
    other = login_staff(library_app)
    for url in ("/documents/annonce", "/documents/guide", "/search?q=appel"):
        assert not NUMERIC_DATE.search(visible_text(other.get(url).get_data(as_text=True))), url
    # a cited text dated by its signature reads as a date too
    assert "arrêté du 4 juillet 2018" in visible_text(other.get("/documents/guide").get_data(as_text=True))
