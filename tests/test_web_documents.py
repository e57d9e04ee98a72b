"""The document page: metadata, text pages, stored copy, diff, references, hostile text."""

from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from conftest import HOSTILE
from veille.core.records import document_id
from test_web_search import assert_no_live_markup, page

RENOVATION = document_id("https://www.vie-publique.fr/renovation")
GUIDE = document_id("https://anct.example/guide.pdf")
CHANGE = document_id("https://www.martinique.gouv.fr/Actualites")
FICHE = document_id("library:Bibliothèque/fiches/fiche-jardins.txt")
EVIL = document_id("https://evil.example/x")
LOI = document_id("https://www.legifrance.gouv.fr/loi/jo/2014/2/21/2014-173")


def test_document_page_shows_metadata_text_and_original(web_client):
    soup = page(web_client, f"/documents/{RENOVATION}")
    assert soup.h1.get_text() == "Rénovation urbaine : le nouveau programme"
    side = soup.select_one(".notice-meta").get_text(" ", strip=True)
    assert "Vie publique — actualités" in side and "communiqué" in side and "Fort-de-France" in side
    assert soup.select_one(".notice-meta time").get_text().split()[-1].isdigit()   # "12 mars 2025"
    original = [a for a in soup.select(".actions a") if a.get_text() == "Voir l'original"][0]
    assert original["href"] == "https://www.vie-publique.fr/renovation"
    assert "noopener" in original["rel"]
    prose = soup.select_one(".prose").get_text()
    assert "quartiers prioritaires de Fort-de-France" in prose and "contrat de ville" in prose
    theme_link = soup.select_one(".notice-meta ul.tags a")["href"]
    assert parse_qs(urlsplit(theme_link).query) == {"theme": ["habitat et renouvellement urbain"]}


def test_similar_documents_are_listed(web_client):
    soup = page(web_client, f"/documents/{RENOVATION}")
    similar = soup.select("#similaires ~ ul a")
    assert similar
    assert all(a["href"].startswith("/documents/") and RENOVATION not in a["href"] for a in similar)


def test_cited_texts_are_search_links_with_local_copy_and_legifrance(web_client):
    soup = page(web_client, f"/documents/{RENOVATION}")
    ref = soup.select_one("#cite ~ ul.refs li")
    links = {a.get_text(): a["href"] for a in ref.select("a")}
    label = ref.select_one("a").get_text()
    assert "2014-173" in label
    assert parse_qs(urlsplit(links[label]).query) == {"q": [label]}
    assert links["copie locale"] == f"/documents/{LOI}"
    assert links["Légifrance"].startswith("https://www.legifrance.gouv.fr/")


def test_cited_by(web_client):
    soup = page(web_client, f"/documents/{LOI}")
    citing = [a["href"] for a in soup.select("#cite-par ~ ul a")]
    assert citing == [f"/documents/{RENOVATION}"]
    assert "documents qui le citent" not in soup.select_one("#cite-par").parent.get_text()


def test_cited_by_beyond_the_list_links_to_a_search_of_them_all(web_client, monkeypatch):
    from indexer.search import space

    monkeypatch.setattr(space, "CITED_BY_SHOWN", 0)
    section = page(web_client, f"/documents/{LOI}").select_one("#cite-par").parent
    link = section.find("a", string="Le document qui le cite")
    assert link is not None and section.select("ul a") == []
    found = page(web_client, link["href"])
    assert [a["href"] for a in found.select("ol.results li.result h3 a")] == [f"/documents/{RENOVATION}"]


def test_pdf_text_is_paginated_by_its_own_pages(web_client):
    soup = page(web_client, f"/documents/{GUIDE}")
    assert "page 1 sur 3" in soup.select_one("#texte").get_text()
    assert "participation des habitants" in soup.select_one(".prose").get_text()
    nxt = soup.select_one(".text nav.pagination a[rel=next]")["href"]
    second = page(web_client, nxt)
    assert "page 2 sur 3" in second.select_one("#texte").get_text()
    assert "conseils citoyens" in second.select_one(".prose").get_text()
    # out-of-range and junk page numbers are clamped, not errors
    assert "page 3 sur 3" in page(web_client, f"/documents/{GUIDE}?p=99").select_one("#texte").get_text()
    assert "page 1 sur 3" in page(web_client, f"/documents/{GUIDE}?p=x").select_one("#texte").get_text()


def test_long_text_is_cut_in_parts():
    from web.documents import TEXT_PAGE_CHARS, text_pages

    paragraphs = [f"Paragraphe {i} " + "mot " * 300 for i in range(40)]
    pages = text_pages("\n\n".join(paragraphs))
    assert len(pages) > 3
    assert all(len(p) <= TEXT_PAGE_CHARS + 1300 for p in pages)
    assert "\n\n".join(pages) == "\n\n".join(paragraphs)     # nothing lost, nothing repeated
    assert text_pages("   ") == []
    assert text_pages("un\fdeux") == ["un", "deux"]


def test_stored_copy_pdf_is_served_inline(web_client):
    soup = page(web_client, f"/documents/{GUIDE}")
    link = [a for a in soup.select(".actions a") if "Copie conservée" in a.get_text()][0]["href"]
    response = web_client.get(link)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_stored_copy_missing_is_404(web_client):
    assert web_client.get(f"/documents/{RENOVATION}/copie").status_code == 404   # none stored
    assert web_client.get("/documents/nope/copie").status_code == 404


def test_changed_page_shows_escaped_diff(web_client):
    soup = page(web_client, f"/documents/{CHANGE}")
    pre = soup.select_one(".diff pre")
    assert pre.select_one("span.removed").get_text() == "-Ancien appel <b>clos</b>"
    assert pre.select_one("span.added").get_text() == "+Nouvel appel à projets"
    assert not pre.find("b")                                 # the diff's markup stays text


def test_library_document_links_to_its_file(web_client):
    soup = page(web_client, f"/documents/{FICHE}")
    link = [a for a in soup.select(".actions a") if "Télécharger" in a.get_text()][0]["href"]
    response = web_client.get(link)
    assert response.status_code == 200
    assert response.data == "Les jardins partagés du Lamentin.".encode()
    assert "Centre de ressources" in soup.select_one(".notice-meta").get_text()


def test_hostile_document_is_inert(web_client):
    response = web_client.get(f"/documents/{EVIL}")
    body = response.get_data(as_text=True)
    assert "<script>alert" not in body and "<img src=x" not in body
    soup = BeautifulSoup(body, "html.parser")
    assert_no_live_markup(soup)
    assert HOSTILE in soup.h1.get_text()
    # the javascript: URL is shown as text, never as a link
    assert "javascript:alert(document.cookie)" in soup.select_one(".actions").get_text()
    assert not [a for a in soup.select(".actions a") if "original" in a.get_text()]


def test_unknown_document_is_a_french_404(web_client):
    soup = page(web_client, "/documents/0000000000000000", status=404)
    assert soup.h1.get_text() == "Page introuvable"


def test_safe_http_url():
    from web.present import safe_http_url

    assert safe_http_url("https://a.fr/x?y=1") == "https://a.fr/x?y=1"
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>", "//evil.org",
                "ftp://a.fr", "http://", "", None, "vbscript:x"):
        assert safe_http_url(bad) is None, bad


def test_diff_lines_classify():
    from web.present import diff_lines

    assert diff_lines("--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z") == [
        ("file", "--- a"), ("file", "+++ b"), ("hunk", "@@ -1 +1 @@"), ("removed", "-x"),
        ("added", "+y"), ("context", " z")]
    assert diff_lines(None) == [] and diff_lines(["+a", "-b"]) == [("added", "+a"), ("removed", "-b")]


def test_summary_repeating_the_text_is_not_shown_twice():
    from datetime import datetime, timezone

    from veille.core.records import Document
    from web.documents import SUMMARY_CHARS, summary_to_show

    def doc(summary, content):
        return Document(id="x", title="t", source="s", kind="juridique", summary=summary,
                        content=content, first_seen=datetime(2025, 1, 1, tzinfo=timezone.utc))

    text = "Article 1 En application du décret n° 2019-1441, les réorganisations " * 5
    assert summary_to_show(doc(text, "Article 1\nEn application du décret n° 2019-1441, les réorganisations " * 5)) == ""
    assert summary_to_show(doc("Un résumé propre.", text)) == "Un résumé propre."
    long = summary_to_show(doc("mot " * 1000, "autre chose"))
    assert long.endswith(" …") and len(long) <= SUMMARY_CHARS + 2
    assert summary_to_show(doc("", text)) == ""


def test_document_page_shows_a_distinct_summary(web_client):
    soup = page(web_client, f"/documents/{RENOVATION}")
    assert soup.select_one("#resume ~ p.summary").get_text() == "Le programme de rénovation urbaine des quartiers."


def test_stored_copy_cannot_leave_the_files_folder(web_config, web_client):
    """A catalog entry naming a path outside <data_dir>/files (a bug, or a tampered catalog)
    does not serve that file."""
    from dataclasses import replace

    from veille.storage.catalog import Catalog

    catalog = Catalog.open(web_config.layout)
    guide = catalog.documents.get(GUIDE)
    for i, path in enumerate(("../../secret.txt", "/etc/passwd", "ab/../../catalog.sqlite3")):
        doc_id = f"evil{i}"
        catalog.documents.put(replace(guide, id=doc_id, stored_file=path))
        response = web_client.get(f"/documents/{doc_id}/copie")
        assert response.status_code == 404, path
        assert b"outside the library" not in response.data


def test_stored_html_copy_is_an_inert_attachment(web_config, web_client):
    """A stored web page would run its scripts on our origin if shown inline."""
    from dataclasses import replace

    from veille.storage.catalog import Catalog

    (web_config.data_dir / "files" / "cd").mkdir(parents=True)
    (web_config.data_dir / "files" / "cd" / "page.html").write_text(f"<p>page</p>{HOSTILE}", encoding="utf-8")
    catalog = Catalog.open(web_config.layout)
    catalog.documents.put(replace(catalog.documents.get(CHANGE), id="htmlcopy", stored_file="cd/page.html"))
    response = web_client.get("/documents/htmlcopy/copie")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
