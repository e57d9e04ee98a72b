"""« Modifier la notice »: staff edit any document's description; it wins over what was
extracted, survives re-syncs and re-crawls, and exports back to the folder's metadata.csv.
And the library page: folders with counts, recent additions, types, facets, staff actions."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from bs4 import BeautifulSoup

from indexer.library.sidecar import parse_csv
from indexer.library.sync import sync_library
from indexer.search.request import SearchRequest
from indexer.search.space import DocumentSpace
from veille.core.config import load_config
from veille.core.records import Document, document_id
from veille.storage.catalog import Catalog

GUIDE = document_id("library:Archives/guides/guide-participation.txt")
COPIL = document_id("library:Archives/copil-2024.txt")
NEWS = document_id("https://www.vie-publique.fr/actu-1")


@pytest.fixture
def site(tmp_path):
    library = tmp_path / "archives"
    (library / "guides").mkdir(parents=True)
    (library / "guides" / "guide-participation.txt").write_text(
        "Guide de la participation\n\nLes conseils citoyens des quartiers prioritaires.", encoding="utf-8")
    (library / "copil-2024.txt").write_text("Compte rendu du COPIL\n\nRelevé de décisions du comité.", encoding="utf-8")
    (library / "metadata.csv").write_text(
        "fichier;titre;auteurs;commentaire interne\n"
        "guides/guide-participation.txt;Guide de la participation;Ville de Fort-de-France;à relire\n"
        "copil-2024.txt;COPIL du contrat de ville;;\n", encoding="utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent("""
        data_dir: data
        search: {engine: tantivy}
        library:
          - {name: Archives, path: archives, visibility: public}
        sources:
          - {name: vie-publique, title: Vie publique, kind: feed, url: "https://www.vie-publique.fr/rss.xml"}
        web: {base_url: "http://veille.example.org"}
        """), encoding="utf-8")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    sync_library(config, catalog)
    catalog.documents.put(Document(id=NEWS, title="Actualité de la politique de la ville", source="vie-publique",
                                   kind="actualité", url="https://www.vie-publique.fr/actu-1",
                                   first_seen=datetime(2025, 3, 1, tzinfo=timezone.utc),
                                   # still the 22nd in Martinique: the stated date is the 23rd
                                   published=datetime(2020, 12, 23, 1, 0, tzinfo=timezone(timedelta(hours=1))),
                                   content="Les quartiers prioritaires et le logement."))
    catalog.edits.record(COPIL, {"visibility": "interne"}, by="equipe@example.org")
    catalog.documents.apply_edits(COPIL)
    catalog.close()
    space = DocumentSpace(config)
    space.index_pending()
    space.close()
    from web import create_app

    return create_app(config, {"TESTING": True}), config, library


def form_fields(html: str) -> dict:
    soup = BeautifulSoup(html, "html.parser")
    fields: dict = {}
    for tag in soup.select("form.notice-form input[name], form.notice-form textarea, form.notice-form select"):
        if tag.name == "select":
            option = tag.find("option", selected=True) or tag.find("option")
            value = option["value"]
        elif tag.name == "textarea":
            value = tag.get_text()
        else:
            value = tag.get("value", "")
        fields.setdefault(tag["name"], []).append(value)
    return fields


def edit(client, doc_id: str, **changes):
    fields = form_fields(client.get(f"/documents/{doc_id}/modifier").get_data(as_text=True))
    fields.update({k: (v if isinstance(v, list) else [v]) for k, v in changes.items()})
    return client.post(f"/documents/{doc_id}/modifier", data=fields)


def test_the_form_shows_the_document_and_completes_from_the_thesaurus(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    page = staff.get(f"/documents/{GUIDE}").get_data(as_text=True)
    assert f'href="/documents/{GUIDE}/modifier"' in page
    html = staff.get(f"/documents/{GUIDE}/modifier").get_data(as_text=True)
    fields = form_fields(html)
    assert fields["title"] == ["Guide de la participation"]
    assert fields["authors"][0] == "Ville de Fort-de-France"
    assert fields["visibility"] == ["public"]
    soup = BeautifulSoup(html, "html.parser")
    assert "Fort-de-France" in [o["value"] for o in soup.select("datalist#territories-list option")]
    assert "guide" in [o["value"] for o in soup.select("datalist#doc-types-list option")]
    assert all(i.get("list") == "themes-list" for i in soup.select("input[name=themes]"))


def test_an_edit_wins_over_extraction_and_survives_a_resync(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    response = edit(staff, GUIDE, title="Guide pratique de la participation citoyenne",
                    themes=["participation des habitants", "Santé", ""], territories=["Le Lamentin"],
                    published="2022-09-15", doc_type="guide", summary="Un guide pour animer les conseils.")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/documents/{GUIDE}?enregistre=notice")
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Notice enregistrée." in page and "Guide pratique de la participation citoyenne" in page
    catalog = Catalog.open(config.layout)
    doc = catalog.documents.get(GUIDE)
    assert doc.themes == ("Participation des habitants", "Santé") and doc.territories == ("Le Lamentin",)
    assert doc.published.date().isoformat() == "2022-09-15" and doc.doc_type == "guide"
    # only what staff changed is kept as an edit; the authors still follow the metadata file
    assert set(catalog.edits.of(GUIDE)) == {"title", "themes", "territories", "published", "summary"}
    # the index was told at once
    space = DocumentSpace(config)
    assert [h.id for h in space.search(SearchRequest(q="participation citoyenne")).hits] == [GUIDE]
    space.close()
    # the file and its metadata change: the staff's description still wins
    (library / "guides" / "guide-participation.txt").write_text("Guide de la participation, version 2.", encoding="utf-8")
    (library / "metadata.csv").write_text((library / "metadata.csv").read_text(encoding="utf-8").replace(
        "Guide de la participation;", "Autre titre;"), encoding="utf-8")
    report = sync_library(config, catalog)
    assert report.updated == 1
    again = catalog.documents.get(GUIDE)
    assert again.title == "Guide pratique de la participation citoyenne" and again.content.endswith("version 2.")
    assert again.themes == ("Participation des habitants", "Santé")
    catalog.close()


def test_the_form_shows_the_date_its_source_stated(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    fields = form_fields(staff.get(f"/documents/{NEWS}/modifier").get_data(as_text=True))
    assert fields["published"] == ["2020-12-23"]
    # saved untouched, the date is no edit: it keeps following the source
    assert edit(staff, NEWS, summary="Une actualité.").status_code == 302
    catalog = Catalog.open(config.layout)
    assert set(catalog.edits.of(NEWS)) == {"summary"}
    assert catalog.documents.get(NEWS).published.isoformat() == "2020-12-23T01:00:00+01:00"
    catalog.close()


def test_a_crawled_document_keeps_its_edit_over_a_recrawl(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    assert edit(staff, NEWS, title="Politique de la ville : l'actualité", themes=["Emploi et insertion"]).status_code == 302
    catalog = Catalog.open(config.layout)
    crawled = Document(id=NEWS, title="Actualité de la politique de la ville (mise à jour)", source="vie-publique",
                       kind="actualité", url="https://www.vie-publique.fr/actu-1",
                       first_seen=datetime(2025, 3, 2, tzinfo=timezone.utc), content="Nouveau texte.")
    assert catalog.documents.put(crawled) == "updated"
    doc = catalog.documents.get(NEWS)
    assert doc.title == "Politique de la ville : l'actualité" and doc.themes == ("Emploi et insertion",)
    assert doc.content == "Nouveau texte."            # what staff did not touch follows the source
    catalog.close()


def test_bad_input_is_refused_in_french_and_nothing_is_recorded(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    for changes, message in (({"title": "  "}, "Le titre est obligatoire."),
                             ({"published": "15/09/2022"}, "n'est pas une date"),
                             ({"visibility": "secret"}, "Visibilité inconnue"),
                             ({"summary": "x" * 6000}, "Le résumé est trop long")):
        response = edit(staff, GUIDE, **changes)
        text = BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text()
        assert response.status_code == 400 and message in text, changes
    catalog = Catalog.open(config.layout)
    assert catalog.edits.of(GUIDE) == {}
    catalog.close()
    anonymous = app.test_client()
    assert anonymous.get(f"/documents/{GUIDE}/modifier").status_code == 302
    assert anonymous.post(f"/documents/{GUIDE}/modifier", data={"title": "x"}).status_code in (302, 400)
    assert f"/documents/{GUIDE}/modifier" not in anonymous.get(f"/documents/{GUIDE}").get_data(as_text=True)


def test_edits_export_back_to_the_folders_metadata_csv(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    edit(staff, GUIDE, title="Guide pratique de la participation", authors=["Ville de Fort-de-France", "CACEM"],
         themes=["Participation des habitants"], published="2022-09-15")
    before = (library / "metadata.csv").read_bytes()
    download = staff.get("/bibliotheque/Archives/metadonnees")
    assert download.status_code == 200 and download.headers["Content-Disposition"] == 'attachment; filename="metadata.csv"'
    assert (library / "metadata.csv").read_bytes() == before           # a download writes nothing
    response = staff.post("/bibliotheque/Archives/metadonnees")
    assert response.status_code == 302
    assert "2 notices modifiées exportées dans metadata.csv" in staff.get("/bibliotheque").get_data(as_text=True)
    written = (library / "metadata.csv").read_bytes()
    assert written == download.data
    assert (library / ".metadata.csv.precedent").read_bytes() == before     # the old file kept, hidden
    sidecar = parse_csv(written)
    assert sidecar.problems == ("metadata.csv:1 : colonne inconnue « commentaire interne » (ignorée)",)
    lines = written.decode("utf-8-sig").splitlines()
    assert lines[0] == "fichier;titre;auteurs;commentaire interne;date;thèmes;visibilité"   # their columns kept
    assert lines[1] == ("guides/guide-participation.txt;Guide pratique de la participation;"
                        "Ville de Fort-de-France|CACEM;à relire;2022-09-15;Participation des habitants;")
    guide = sidecar.entries["guides/guide-participation.txt"]
    assert guide.title == "Guide pratique de la participation" and guide.authors == ("Ville de Fort-de-France", "CACEM")
    assert guide.published.date().isoformat() == "2022-09-15"
    assert sidecar.entries["copil-2024.txt"].visibility == "interne"     # set on its page earlier
    assert sidecar.entries["copil-2024.txt"].title == "COPIL du contrat de ville"   # the rest as it was
    # the folder and the catalog agree: a sync changes nothing the staff typed and reports no problem
    catalog = Catalog.open(config.layout)
    report = sync_library(config, catalog)
    assert list(report.problems) == list(sidecar.problems)
    assert catalog.documents.get(GUIDE).title == "Guide pratique de la participation"
    catalog.close()
    assert app.test_client().post("/bibliotheque/Archives/metadonnees").status_code in (302, 400)
    assert app.test_client().get("/bibliotheque/Archives/metadonnees").status_code == 302


def test_the_library_page_counts_what_the_reader_may_see(site, login_staff):
    app, config, library = site
    anonymous = BeautifulSoup(app.test_client().get("/bibliotheque").get_data(as_text=True), "html.parser")
    folders = anonymous.select("ul.folders li")
    assert len(folders) == 1 and "1 document" in folders[0].get_text(" ", strip=True)
    assert [a.get_text() for a in anonymous.select("ul.recent-additions > li > a:first-child")] == ["Guide de la participation"]
    assert not anonymous.select("a[href*='deposer']") and not anonymous.select("form[action*='metadonnees']")
    assert "COPIL" not in str(anonymous)
    facet_links = [a["href"] for a in anonymous.select("aside.facets a")]
    assert facet_links and all("kind=biblioth%C3%A8que" in href for href in facet_links)

    staff = BeautifulSoup(login_staff(app).get("/bibliotheque").get_data(as_text=True), "html.parser")
    assert "2 documents" in staff.select_one("ul.folders li").get_text(" ", strip=True)
    assert {a.get_text() for a in staff.select("ul.recent-additions > li > a:first-child")} == {
        "Guide de la participation", "COPIL du contrat de ville"}
    assert staff.select_one("a[href='/bibliotheque/Archives/deposer']")
    assert staff.select_one("form[action='/bibliotheque/Archives/metadonnees']")
    assert "Visibilité" in [h.get_text() for h in staff.select("aside.facets h3")]


def test_the_library_page_lists_document_types(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    soup = BeautifulSoup(app.test_client().get("/bibliotheque").get_data(as_text=True), "html.parser")
    types = {a.get_text(): a["href"] for a in soup.select("ul.doc-types a")}
    assert types == {"guide": "/search?kind=biblioth%C3%A8que&doc_type=guide"}     # guessed from the title
    edit(staff, GUIDE, doc_type="vadémécum")
    soup = BeautifulSoup(app.test_client().get("/bibliotheque").get_data(as_text=True), "html.parser")
    types = {a.get_text(): a["href"] for a in soup.select("ul.doc-types a")}
    assert types == {"vadémécum": "/search?kind=biblioth%C3%A8que&doc_type=vad%C3%A9m%C3%A9cum"}


def test_an_export_the_folder_cannot_take_says_why_and_loses_nothing(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    edit(staff, GUIDE, title="Guide révisé")
    (library / "metadata.csv").unlink()
    (library / "metadata.csv").mkdir()          # something in the way that cannot be replaced
    response = staff.post("/bibliotheque/Archives/metadonnees")
    assert response.status_code == 302
    text = BeautifulSoup(staff.get("/bibliotheque").get_data(as_text=True), "html.parser").get_text()
    assert "impossible d'écrire metadata.csv dans « Archives »" in text and "téléchargé" in text
    assert (library / "metadata.csv").is_dir() and not [p for p in library.iterdir() if p.name.endswith(".tmp")]
    catalog = Catalog.open(config.layout)
    assert catalog.documents.get(GUIDE).title == "Guide révisé"      # the edit is still there
    catalog.close()
