"""Citation links in the catalog: cites, cited by, and copies of the same text (indexer.search.citations)."""

from __future__ import annotations

from datetime import datetime, timezone
from types import MappingProxyType

import pytest

from veille.storage.catalog import Catalog
from indexer.search.citations import cited_by, cites, legal_ids, same_as
from indexer.enrich.legal import enrich_legal
from veille.core.records import KIND_LEGAL, KIND_LIBRARY, KIND_NEWS, Document


def _doc(doc_id, title, content="", url=None, kind=KIND_LEGAL, day=1, **extra) -> Document:
    return enrich_legal(Document(
        id=doc_id, title=title, source="test", kind=kind, url=url, content=content,
        first_seen=datetime(2021, 3, day, tzinfo=timezone.utc),
        published=datetime(2021, 3, day, tzinfo=timezone.utc), extra=MappingProxyType(extra)))


LAW_API = _doc("law-api", "LOI n° 2014-173 du 21 février 2014 de programmation pour la ville et la cohésion urbaine (1)",
               "L'Assemblée nationale et le Sénat ont délibéré ...",
               url="https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000028636804", nor="VILX1306039L")
LAW_PDF = _doc("law-pdf", "joe_20140222_0045_0001",
               "JOURNAL OFFICIEL DE LA RÉPUBLIQUE FRANÇAISE\nLOIS\nLOI n° 2014-173 du 21 février 2014 de "
               "programmation pour la ville et la cohésion urbaine (1)\nNOR : VILX1306039L\n...", kind=KIND_LIBRARY)
DECREE = _doc("decree", "Décret n° 2014-1750 du 30 décembre 2014 fixant la liste des quartiers prioritaires",
              "Vu la loi n° 2014-173 du 21 février 2014, notamment son article 5 ;\n"
              "Vu le décret n° 2014-767 du 3 juillet 2014 ;\n"
              "La liste prévue à l'article 5 de la loi n° 2014-173 est annexée.",
              url="https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000030007935", day=2)
GUIDE = _doc("guide", "Guide des contrats de ville", "La loi du 21 février 2014 a réformé la politique de la ville.",
             url="https://example.org/guide", kind=KIND_NEWS, day=3)
ARTICLE_ONLY = _doc("note", "Note", "Au sens de l'article 6 de la loi n° 2014-173, le contrat de ville ...",
                    kind=KIND_NEWS, day=4)
OTHER = _doc("other", "Actualité SRU", "La loi n° 2000-1208 du 13 décembre 2000 impose 25 % de logements sociaux.",
             url="https://example.org/sru", kind=KIND_NEWS)


@pytest.fixture
def catalog(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    for doc in (LAW_API, LAW_PDF, DECREE, GUIDE, ARTICLE_ONLY, OTHER):
        catalog.documents.put(doc)
    yield catalog
    catalog.close()


def test_enrichment_names_the_texts():
    assert LAW_API.extra["legal_id"] == "loi:2014-173"
    assert LAW_PDF.extra["legal_id"] == "loi:2014-173"
    assert LAW_API.doc_type == "loi" and DECREE.doc_type == "décret"
    assert LAW_PDF.extra["nor"] == "VILX1306039L"  # read from the JO print, for the digest
    assert "legal_id" not in GUIDE.extra and GUIDE.doc_type == ""
    # searching the key finds the law itself and the texts citing it
    assert "loi:2014-173" in LAW_API.extra["legal_refs"]
    assert "loi:2014-173" in DECREE.extra["legal_refs"]


def test_same_text_from_two_sources_is_linked(catalog):
    assert [d.id for d in same_as(catalog, LAW_API)] == ["law-pdf"]
    assert [d.id for d in same_as(catalog, LAW_PDF)] == ["law-api"]
    assert same_as(catalog, DECREE) == []
    assert same_as(catalog, GUIDE) == []


def test_cited_by_lists_citing_texts_newest_first(catalog):
    assert [d.id for d in cited_by(catalog, LAW_API)] == ["note", "guide", "decree"]
    # the PDF copy is the same law: cited by the same texts, and not by its twin
    assert [d.id for d in cited_by(catalog, LAW_PDF)] == ["note", "guide", "decree"]
    assert cited_by(catalog, GUIDE) == []


def test_cites_resolves_local_copies_or_links_to_legifrance(catalog):
    citations = {c.key: c for c in cites(catalog, DECREE)}
    law = citations["loi:2014-173"]
    assert law.label == "loi n° 2014-173"
    assert {d.id for d in law.documents} == {"law-api", "law-pdf"}
    article = citations["article:5:loi:2014-173"]
    assert {d.id for d in article.documents} == {"law-api", "law-pdf"}
    missing = citations["decret:2014-767"]
    assert missing.documents == () and missing.local is None
    assert missing.legifrance_url.startswith("https://www.legifrance.gouv.fr/search/")
    assert "decret:2014-1750" not in citations  # itself


def test_legal_ids_of_search_hits(catalog):
    assert legal_ids(catalog, ["law-api", "law-pdf", "guide"]) == {
        "law-api": "loi:2014-173", "law-pdf": "loi:2014-173"}


def test_keys_follow_updates_and_deletions(catalog):
    catalog.documents.delete("guide")
    assert [d.id for d in cited_by(catalog, LAW_API)] == ["note", "decree"]
    catalog.documents.put(enrich_legal(Document(id="decree", title=DECREE.title, source="test", kind=KIND_LEGAL,
                                      first_seen=DECREE.first_seen, content="Texte sans référence.")))
    assert [d.id for d in cited_by(catalog, LAW_API)] == ["note"]
    assert catalog.legal_keys.refresh() == 5
    assert [d.id for d in cited_by(catalog, LAW_API)] == ["note"]
