"""Staff upload files to a library folder from the browser: checked, written, catalogued,
indexed at once; refused with a French reason when they cannot be; never outside the folder,
never over an existing file."""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from indexer.library.sync import sync_library
from indexer.search.request import SearchRequest
from indexer.search.space import DocumentSpace
from tests.scans import ocr_or_skip, scanned_pdf
from veille.core.config import load_config
from veille.core.records import document_id
from veille.storage.catalog import Catalog

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GUIDE_PDF = (FIXTURES / "web" / "guide.pdf").read_bytes()
URL = "/bibliotheque/" + quote("Archives") + "/deposer"


def make_site(tmp_path, extraction: str = ""):
    library = tmp_path / "archives"
    (library / "deliberations").mkdir(parents=True)
    (library / "deliberations" / "existante.txt").write_text("Une délibération déjà là.", encoding="utf-8")
    (tmp_path / "dehors").mkdir()
    (library / "lien-dehors").symlink_to(tmp_path / "dehors")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""
        data_dir: data
        search: {{engine: tantivy}}
        library:
          - {{name: Archives, path: archives, visibility: public}}
        web: {{base_url: "http://veille.example.org"}}
        {extraction}
        """), encoding="utf-8")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    sync_library(config, catalog)
    catalog.close()
    space = DocumentSpace(config)
    space.index_pending()
    space.close()
    from web import create_app

    return create_app(config, {"TESTING": True}), config, library


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path)


def upload(client, files: list[tuple[str, bytes]], **fields):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    data.update(fields)
    return client.post(URL, data=data, content_type="multipart/form-data")


def results(response) -> dict[str, str]:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return {li.find("strong").get_text(): li.get_text(" ", strip=True) for li in soup.select("ul.upload-results li")}


def search_ids(config, q: str) -> list[str]:
    space = DocumentSpace(config)
    try:
        return [hit.id for hit in space.search(SearchRequest(q=q, include_internal=True)).hits]
    finally:
        space.close()


def test_several_files_with_their_description_are_written_catalogued_and_found(site, login_staff, shared_corpus):
    app, config, library = site
    staff = login_staff(app)
    form = BeautifulSoup(staff.get(URL).get_data(as_text=True), "html.parser")
    assert form.select_one("input[type=file][name=files][multiple]")
    assert [o["value"] for o in form.select("select#dossier option")] == ["", "deliberations"]
    assert "Politique de la ville" in [o["value"] for o in form.select("datalist#themes-list option")]
    crazy = (shared_corpus / "pdf" / "pypdf-resources" / "crazyones.pdf").read_bytes()
    response = upload(staff, [("crazyones.pdf", crazy), ("note-jardins.txt", "Les jardins familiaux de Dillon.".encode()),
                              ("guide.pdf", GUIDE_PDF)],
                      dossier="deliberations", authors=["Ville de Fort-de-France", ""],
                      published="2023-05-12", themes=["habitat et renouvellement urbain", ""],
                      territories=["Fort-de-France"], doc_type="étude", summary="Déposé pour le test.",
                      visibility="public", title="Ignoré : plusieurs fichiers")
    assert response.status_code == 200, response.get_data(as_text=True)
    outcome = results(response)
    assert len(outcome) == 3 and all("ajouté" in text for text in outcome.values())
    for name, content in (("crazyones.pdf", crazy), ("guide.pdf", GUIDE_PDF)):
        assert (library / "deliberations" / name).read_bytes() == content
    assert not [p for p in (library / "deliberations").iterdir() if p.name.startswith(".")]   # no temporary left

    catalog = Catalog.open(config.layout)
    doc = catalog.documents.get(document_id("library:Archives/deliberations/crazyones.pdf"))
    assert doc.title == "The Crazy Ones"                      # several files: each keeps its own title
    assert doc.authors == ("Ville de Fort-de-France",) and doc.doc_type == "étude"
    assert doc.published.date().isoformat() == "2023-05-12"
    assert doc.themes[0] == "Habitat et renouvellement urbain" and "Fort-de-France" in doc.territories
    assert doc.summary == "Déposé pour le test."
    assert set(catalog.edits.of(doc.id)) == {"authors", "published", "themes", "territories", "doc_type", "summary"}
    # indexed already, without waiting for `veille index`
    assert search_ids(config, "misfits") == [doc.id]
    assert search_ids(config, "jardins familiaux Dillon") == [document_id("library:Archives/deliberations/note-jardins.txt")]
    # the next sync finds the files as they were catalogued: nothing read again, nothing lost
    report = sync_library(config, catalog)
    assert (report.new, report.updated, report.unchanged) == (0, 0, 4)
    assert catalog.documents.get(doc.id).doc_type == "étude"
    catalog.close()
    assert app.test_client().get(f"/documents/{doc.id}").status_code == 200       # public folder


def test_a_single_file_takes_the_title_and_a_taken_name_is_never_overwritten(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    (library / "guide.pdf").write_bytes(b"%PDF-1.4 the centre's own file")
    response = upload(staff, [("guide.pdf", GUIDE_PDF)], title="Guide des conseils citoyens (dépôt)",
                      visibility="interne")
    assert response.status_code == 200
    assert "enregistré sous « guide (2).pdf »" in results(response)["guide.pdf"]
    assert (library / "guide.pdf").read_bytes() == b"%PDF-1.4 the centre's own file"
    assert (library / "guide (2).pdf").read_bytes() == GUIDE_PDF
    catalog = Catalog.open(config.layout)
    doc = catalog.documents.get(document_id("library:Archives/guide (2).pdf"))
    assert doc.title == "Guide des conseils citoyens (dépôt)" and doc.visibility == "interne"
    catalog.close()
    assert app.test_client().get(f"/documents/{doc.id}").status_code == 404        # made internal


def test_a_duplicate_is_shown_not_added_unless_staff_insist(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    assert upload(staff, [("guide.pdf", GUIDE_PDF)]).status_code == 200
    again = upload(staff, [("copie-du-guide.pdf", GUIDE_PDF)])
    assert again.status_code == 422
    soup = BeautifulSoup(again.get_data(as_text=True), "html.parser")
    assert "déjà dans le catalogue (même contenu)" in soup.select_one("ul.upload-results").get_text()
    first = document_id("library:Archives/guide.pdf")
    assert soup.select_one(f"ul.upload-results a[href='/documents/{first}']")
    assert not (library / "copie-du-guide.pdf").exists()
    forced = upload(staff, [("copie-du-guide.pdf", GUIDE_PDF)], doublons="1")
    assert forced.status_code == 200 and (library / "copie-du-guide.pdf").exists()
    assert "déjà dans le catalogue" in results(forced)["copie-du-guide.pdf"]


def test_files_that_cannot_be_read_are_refused_with_their_reason(site, login_staff, shared_corpus):
    app, config, library = site
    staff = login_staff(app)
    locked = (shared_corpus / "pdf" / "pypdf-resources" / "encryption" / "r2-user-password.pdf").read_bytes()
    real = (shared_corpus / "pdf" / "pypdf-resources" / "crazyones.pdf").read_bytes()
    before = sorted(p.name for p in library.rglob("*"))
    response = upload(staff, [
        ("protege.pdf", locked), ("tronque.pdf", real[: len(real) // 3]), ("programme.exe", b"MZ\x90\x00"),
        ("faux.pdf", b"<html><body>pas un PDF</body></html>"), ("vide.txt", b""),
        (".cache.txt", b"hidden"), ("metadata.csv", b"fichier;titre\n"), ("~$brouillon.docx", b"lock"),
    ])
    outcome = results(response)
    assert response.status_code == 422, outcome
    assert "PDF protégé par un mot de passe" in outcome["protege.pdf"]
    assert "PDF endommagé ou tronqué" in outcome["tronque.pdf"]
    assert "type de fichier non accepté" in outcome["programme.exe"]
    assert "ne correspond pas à un fichier PDF" in outcome["faux.pdf"]
    assert "fichier vide" in outcome["vide.txt"]
    for name in (".cache.txt", "metadata.csv", "~$brouillon.docx"):
        assert "nom de fichier refusé" in outcome[name]
    assert sorted(p.name for p in library.rglob("*")) == before          # nothing written


def test_uploads_stay_inside_the_library_folder(site, login_staff, tmp_path):
    app, config, library = site
    staff = login_staff(app)
    for dossier in ("../..", "/etc", "lien-dehors", "absent", "deliberations/existante.txt"):
        response = upload(staff, [("note.txt", b"une note")], dossier=dossier)
        assert response.status_code == 400 and "Dossier refusé" in response.get_data(as_text=True), dossier
    for new_folder in ("..", ".cache", "~$x"):
        response = upload(staff, [("note.txt", b"une note")], nouveau_dossier=new_folder)
        assert response.status_code == 400, new_folder
    assert not list((tmp_path / "dehors").iterdir())
    # a path in the file name is dropped: only the name counts
    response = upload(staff, [("../../dehors/evil.txt", b"une note"), ("..\\..\\evil2.txt", b"une autre note")],
                      nouveau_dossier="2024/../comptes-rendus")
    assert response.status_code == 200
    assert (library / "comptes-rendus" / "evil.txt").is_file() and (library / "comptes-rendus" / "evil2.txt").is_file()
    assert not list((tmp_path / "dehors").iterdir()) and not (tmp_path / "evil.txt").exists()


def test_only_staff_upload_and_forms_carry_their_token(site, login_staff):
    app, config, library = site
    anonymous = app.test_client()
    assert anonymous.get(URL).status_code == 302
    response = upload(anonymous, [("note.txt", b"une note")])
    assert response.status_code in (302, 400)
    staff = login_staff(app)
    staff.environ_base.pop("HTTP_X_CSRF_TOKEN")
    assert upload(staff, [("note.txt", b"une note")]).status_code == 400
    assert not (library / "note.txt").exists()
    assert app.test_client().get("/bibliotheque/Inconnue/deposer").status_code == 302


def test_size_limits_are_enforced_with_french_messages(tmp_path, login_staff):
    app, config, library = make_site(tmp_path, "extraction: {max_file_mb: 0.01}")
    staff = login_staff(app)
    response = upload(staff, [("gros.txt", b"mot " * 5000), ("petit.txt", b"petit mot")])
    assert response.status_code == 200
    outcome = results(response)
    assert "fichier trop volumineux (limite : 0,01 Mo par fichier)" in outcome["gros.txt"]
    assert not (library / "gros.txt").exists() and (library / "petit.txt").exists()
    # beyond what twenty files may weigh, the request is refused before it is read
    huge = upload(staff, [("enorme.txt", b"x" * (2 * 1024 * 1024))])
    assert huge.status_code == 413 and "dépasse la taille acceptée" in huge.get_data(as_text=True)
    form = staff.get(URL).get_data(as_text=True)
    assert "20 fichiers à la fois" in form
    too_many = upload(staff, [(f"n{i}.txt", b"note") for i in range(21)])
    assert too_many.status_code == 400 and "20 fichiers au plus" in too_many.get_data(as_text=True)


def test_the_page_works_without_script_and_its_script_obeys_the_csp(site, login_staff):
    app, config, library = site
    staff = login_staff(app)
    response = staff.get(URL)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    scripts = soup.find_all("script")
    assert [s["src"] for s in scripts] == ["/static/upload.js"] and not any(s.string for s in scripts)
    form = soup.select_one("form.upload-form")
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data" and form["action"] == URL
    assert staff.get("/static/upload.js").status_code == 200
    assert not re.search(r"\son[a-z]+=", response.get_data(as_text=True))       # no inline handlers


def test_a_scanned_upload_is_read_by_ocr_before_it_is_accepted(site, login_staff):
    ocr_or_skip()
    app, config, library = site
    staff = login_staff(app)
    scan = scanned_pdf([["Arrete municipal du Lamentin", "Reglementation de la zinguerie"]])
    response = upload(staff, [("arrete-2018.pdf", scan)], title="Arrêté municipal de 2018")
    assert response.status_code == 200
    assert "texte obtenu par reconnaissance de caractères" in results(response)["arrete-2018.pdf"]
    assert search_ids(config, "zinguerie") == [document_id("library:Archives/arrete-2018.pdf")]
