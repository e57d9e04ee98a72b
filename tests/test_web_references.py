"""References out: a search exported as RIS, BibTeX and CSV, and citation meta tags on every
document page. Exports are read back with the libraries reference managers rely on."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import bibtexparser
import pytest
import rispy
from bs4 import BeautifulSoup

from indexer.search.space import DocumentSpace
from tests.conftest import HOSTILE
from veille.core.records import Document, document_id

TRICKY_TITLE = "Budget {2024} : 100 % & plus_de_x \\input{/etc/passwd} ~ ^ #1"


@pytest.fixture
def client(web_config):
    space = DocumentSpace(web_config)
    space.catalog.documents.put(Document(
        id=document_id("https://anct.example/budget"), title=TRICKY_TITLE, source="anct",
        kind="publication", url="https://anct.example/budget", first_seen=datetime(2025, 5, 2, tzinfo=timezone.utc),
        published=datetime(2025, 4, 30, 12, tzinfo=timezone.utc), authors=("Ville de Fort-de-France", "Jean Dupont"),
        content="Le budget du logement.", summary="=HYPERLINK(\"http://evil.example\")", doc_type="rapport"))
    space.index_pending()
    space.close()
    from web import create_app

    return create_app(web_config, {"TESTING": True}).test_client()


def api_results(client, query: str) -> list[dict]:
    return client.get(f"/api/search?{query}&per_page=100").get_json()["results"]


def test_ris_export_parses_back_with_the_same_titles_dates_and_urls(client):
    response = client.get("/search.ris?q=logement")
    assert response.status_code == 200
    assert response.mimetype == "application/x-research-info-systems"
    assert response.headers["Content-Disposition"] == 'attachment; filename="veille-recherche.ris"'
    assert response.get_data(as_text=True).startswith("TY  - ")
    entries = rispy.loads(response.get_data(as_text=True))
    expected = api_results(client, "q=logement")
    assert len(entries) == len(expected) and len(expected) > 10
    for entry, result in zip(entries, expected):
        assert entry["title"] == result["title"]
        assert entry["date"] == result["published"][:10].replace("-", "/")
        assert entry["year"] == result["published"][:4]
        page = f"http://veille.example.org/documents/{result['id']}"
        assert entry["urls"] == ([result["url"], page] if result["url"].startswith("http") else [page])
    tricky = next(e for e in entries if e["title"] == TRICKY_TITLE)
    assert tricky["authors"] == ["Ville de Fort-de-France", "Jean Dupont"]
    assert tricky["type_of_reference"] == "RPRT" and tricky["date"] == "2025/04/30"


def test_ris_keeps_each_value_on_one_line_and_types_follow_the_documents(client):
    entries = rispy.loads(client.get("/search.ris?q=&sort=date").get_data(as_text=True))
    types = {e["title"]: e["type_of_reference"] for e in entries}
    assert types["LOI n° 2014-173 du 21 février 2014 de programmation pour la ville et la cohésion urbaine"] == "STAT"
    assert types["Rénovation urbaine : le nouveau programme"] == "NEWS"
    assert types["Guide des conseils citoyens"] == "BOOK"
    hostile = next(e for e in entries if e["title"].startswith("Titre piégé"))
    assert hostile["title"] == f"Titre piégé {HOSTILE}"          # data, exactly as it was
    assert hostile["urls"] == [f"http://veille.example.org/documents/{hostile['id']}"]   # no javascript: URL
    guide = next(e for e in entries if e["title"] == "Guide des conseils citoyens")
    assert guide["file_attachments1"].endswith(f"/documents/{guide['id']}/copie")   # its stored PDF


def test_bibtex_export_parses_with_bibtexparser(client):
    response = client.get("/search.bib?q=logement")
    assert response.status_code == 200 and response.mimetype == "application/x-bibtex"
    text = response.get_data(as_text=True)
    database = bibtexparser.loads(text)
    expected = api_results(client, "q=logement")
    assert [e["ID"] for e in database.entries] == [f"veille-{r['id']}" for r in expected]
    for entry, result in zip(database.entries, expected):
        assert entry["year"] == result["published"][:4] and entry["date"] == result["published"][:10]
    tricky = next(e for e in database.entries if e["ID"] == f"veille-{document_id('https://anct.example/budget')}")
    assert tricky["ENTRYTYPE"] == "techreport" and tricky["institution"] == "Agence nationale de la cohésion des territoires"
    assert tricky["title"] == ("Budget (2024) : 100 \\% \\& plus\\_de\\_x /input(/etc/passwd) "
                               "\\textasciitilde{} \\textasciicircum{} \\#1")
    assert tricky["author"] == "{Ville de Fort-de-France} and {Jean Dupont}"
    assert tricky["url"] == "https://anct.example/budget"
    # the whole file is balanced: every entry was read, none swallowed by a stray brace
    assert text.count("@") == len(database.entries) == len(expected)
    everything = bibtexparser.loads(client.get("/search.bib?q=").get_data(as_text=True))
    assert len(everything.entries) == client.get("/api/search?q=").get_json()["total"]


def test_csv_export_opens_in_a_spreadsheet_without_formulas(client):
    response = client.get("/search.csv?q=budget")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert len(rows) == 1
    row = rows[0]
    assert row["titre"] == TRICKY_TITLE and row["date"] == "2025-04-30" and row["catégorie"] == "Publication"
    assert row["résumé"] == "'=HYPERLINK(\"http://evil.example\")"        # text, not a formula
    assert row["auteurs"] == "Ville de Fort-de-France | Jean Dupont"


def test_exports_take_the_same_query_string_as_the_search(client):
    filtered = rispy.loads(client.get("/search.ris?q=logement&kind=publication&sort=date").get_data(as_text=True))
    expected = api_results(client, "q=logement&kind=publication&sort=date")
    assert [e["title"] for e in filtered] == [r["title"] for r in expected] and len(expected) == 13
    dated = rispy.loads(client.get("/search.ris?q=logement&from=2025-04-01&to=2025-05-31").get_data(as_text=True))
    assert [e["title"] for e in dated] == [TRICKY_TITLE]
    assert client.get("/search.ris?q=zzzqqqxxx").get_data(as_text=True) == ""
    page = client.get("/search?q=logement&kind=publication").get_data(as_text=True)
    links = {a.text: a["href"] for a in BeautifulSoup(page, "html.parser").select("p.exports a")}
    assert links == {"RIS": "/search.ris?q=logement&kind=publication",
                     "BibTeX": "/search.bib?q=logement&kind=publication",
                     "CSV": "/search.csv?q=logement&kind=publication"}


def test_every_document_page_carries_citation_meta_tags_escaped(client):
    results = api_results(client, "q=")
    for result in results:
        page = client.get(f"/documents/{result['id']}").get_data(as_text=True)
        head = BeautifulSoup(page, "html.parser").head
        meta = {}
        for tag in head.select("meta[name]"):
            meta.setdefault(tag["name"], []).append(tag["content"])
        assert meta["citation_title"] == [result["title"]] == meta["DC.title"], result["id"]
        assert meta["citation_abstract_html_url"] == [f"http://veille.example.org/documents/{result['id']}"]
        assert meta["DC.date"] == [result["published"][:10]]
    hostile = next(r for r in results if r["title"].startswith("Titre piégé"))
    page = client.get(f"/documents/{hostile['id']}").get_data(as_text=True)
    head_html = page.split("</head>", 1)[0]
    assert "<script>" not in head_html and "<img" not in head_html
    assert 'content="Titre piégé &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;' in head_html
    head = BeautifulSoup(page, "html.parser").head
    assert head.find("meta", attrs={"name": "citation_author"})["content"] == HOSTILE
    assert "DC.source" not in {m["name"] for m in head.select("meta[name]")}    # javascript: URL left out

    tricky = BeautifulSoup(client.get(f"/documents/{document_id('https://anct.example/budget')}").get_data(as_text=True),
                           "html.parser").head
    names = [(m["name"], m["content"]) for m in tricky.select("meta[name]")]
    assert ("citation_publication_date", "2025/04/30") in names
    assert [c for n, c in names if n == "citation_author"] == ["Ville de Fort-de-France", "Jean Dupont"]
    assert ("citation_technical_report_institution", "Agence nationale de la cohésion des territoires") in names
    assert ("DC.source", "https://anct.example/budget") in names
    assert tricky.find("link", rel="schema.DC")["href"] == "http://purl.org/dc/elements/1.1/"


def test_a_library_pdf_page_points_reference_managers_at_the_file(web_config):
    from web import create_app

    library = web_config.library[0].path
    (library / "etude.pdf").write_bytes((web_config.path.parent / "data" / "files" / "ab" / "guide.pdf").read_bytes())
    from indexer.library.sync import sync_library
    from veille.storage.catalog import Catalog

    catalog = Catalog.open(web_config.layout)
    sync_library(web_config, catalog)
    catalog.close()
    client = create_app(web_config, {"TESTING": True}).test_client()
    doc_id = document_id("library:Bibliothèque/etude.pdf")
    head = BeautifulSoup(client.get(f"/documents/{doc_id}").get_data(as_text=True), "html.parser").head
    pdf = head.find("meta", attrs={"name": "citation_pdf_url"})["content"]
    assert pdf == "http://veille.example.org/bibliotheque/Biblioth%C3%A8que/etude.pdf"
    assert client.get(pdf.removeprefix("http://veille.example.org")).mimetype == "application/pdf"
