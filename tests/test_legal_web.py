"""Legal texts in the web pages: one legal text from several sources is one search result,
and a law's page lists the texts citing it (through the real search and catalog)."""

from __future__ import annotations

from datetime import datetime, timezone
from types import MappingProxyType

import pytest

from indexer.enrich.legal import enrich_legal
from veille.core.records import Document
from indexer.search.space import DocumentSpace
from veille.core.config import load_config
from web import create_app


def _doc(doc_id, title, content, source, kind, url=None, **extra):
    when = datetime(2021, 3, 2, 12, tzinfo=timezone.utc)
    return enrich_legal(Document(id=doc_id, title=title, source=source, kind=kind, first_seen=when,
                                 published=when, url=url, content=content, extra=MappingProxyType(extra)))


@pytest.fixture
def client(tmp_path):
    (tmp_path / "sources.yaml").write_text(
        "data_dir: data\n"
        "sources:\n"
        "  - {name: jo, title: \"Journal officiel (API)\", kind: feed, url: \"https://example.org/jo.xml\"}\n"
        "  - {name: legifrss, title: \"Flux JORF\", kind: feed, url: \"https://example.org/jorf.xml\"}\n",
        encoding="utf-8")
    config = load_config(tmp_path / "sources.yaml")
    space = DocumentSpace(config)
    url = "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000043184966"
    title = "Décret n° 2021-214 du 24 février 2021 établissant les limites de la mer territoriale"
    for doc in (
        _doc("api", title, "Le Premier ministre ... Saint-Pierre-et-Miquelon.", "jo", "juridique", url,
             nor="OMEX2101234D"),
        _doc("pdf", "joe_20210226_0049_0012", "JOURNAL OFFICIEL\nDécret n° 2021-214 du 24 février 2021 "
             "établissant les limites de la mer territoriale\nNOR : OMEX2101234D\nSaint-Pierre-et-Miquelon.",
             "Bibliothèque", "bibliothèque"),
        _doc("note", "Note sur la mer territoriale", "Le décret n° 2021-214 fixe les limites au large de "
             "Saint-Pierre-et-Miquelon.", "legifrss", "actualité", "https://example.org/note"),
    ):
        space.catalog.documents.put(doc)
    space.index_pending()
    space.close()
    return create_app(config, {"TESTING": True}).test_client()


def test_one_text_from_several_sources_is_one_result(client):
    page = client.get("/search?q=2021-214").get_data(as_text=True)
    results = page.split('<li class="result">')[1:]
    assert len(results) == 2  # the decree (with its library copy beside it) and the note
    decree = next(r for r in results if "Décret n° 2021-214" in r)
    assert "Même texte, autre source" in decree and "/documents/pdf" in decree
    assert "joe_20210226_0049_0012" not in page


def test_law_page_lists_citing_texts_and_copies(client):
    page = client.get("/documents/api").get_data(as_text=True)
    assert "Cité par" in page and "Note sur la mer territoriale" in page
    assert "Le même texte, d&#39;autres sources" in page or "Le même texte, d'autres sources" in page
