"""Searching a legal reference finds the text itself and every text citing it, however cited;
and the legal links DocumentSpace exposes to the web and digest (cites, cited_by, same_as)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from types import MappingProxyType

import pytest

from indexer.search.request import SearchRequest
from indexer.enrich.legal import enrich_legal
from indexer.search.query import parse_query
from veille.core.records import Document
from indexer.search.space import DocumentSpace
from veille.core.config import parse_config

ENGINE_NAMES = ["whoosh", "tantivy"]


def make_space(tmp_path, engine_name) -> DocumentSpace:
    path = tmp_path / "sources.yaml"
    path.write_text(f"data_dir: data\nsearch: {{engine: {engine_name}}}\n", encoding="utf-8")
    return DocumentSpace(parse_config(path.read_text(encoding="utf-8"), path))


def doc(doc_id, title, content, kind="actualité", url=None, day=1, **extra) -> Document:
    when = datetime(2021, 3, day, 12, tzinfo=timezone.utc)
    return enrich_legal(Document(id=doc_id, title=title, source="test", kind=kind, first_seen=when,
                                 published=when, url=url, content=content, extra=MappingProxyType(extra)))


CORPUS = [
    doc("law", "LOI n° 2014-173 du 21 février 2014 de programmation pour la ville et la cohésion urbaine (1)",
        "L'Assemblée nationale et le Sénat ont délibéré. Article 5. Les quartiers prioritaires ...",
        kind="juridique", url="https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000028636804", nor="VILX1306039L"),
    doc("law-pdf", "joe_20140222_0045_0001",
        "JOURNAL OFFICIEL\nLOI n° 2014-173 du 21 février 2014 de programmation pour la ville (1)\n"
        "NOR : VILX1306039L\nL'Assemblée nationale et le Sénat ont délibéré.", kind="bibliothèque"),
    doc("by-number", "Décret relatif aux quartiers prioritaires",
        "Vu la loi no 2014-173 du 21 février 2014, notamment son article 5 ;", kind="juridique", day=2),
    doc("by-date", "Les contrats de ville en Martinique",
        "Depuis la loi du 21 février 2014, les contrats de ville associent les habitants.", day=3),
    doc("by-nor", "Note de lecture", "Texte de référence : NOR VILX1306039L, sur la géographie prioritaire.", day=4),
    doc("unrelated", "Loi SRU", "La loi n° 2000-1208 du 13 décembre 2000 relative à la solidarité.", day=5),
]


@pytest.fixture(params=ENGINE_NAMES)
def space(tmp_path, request):
    space = make_space(tmp_path, request.param)
    for item in CORPUS:
        space.catalog.documents.put(item)
    space.index_pending()
    yield space
    space.close()


def found(space, q):
    return {hit.id for hit in space.search(SearchRequest(q=q, per_page=50)).hits}


CITING = {"by-number", "by-date", "by-nor"}


@pytest.mark.parametrize("q", ["2014-173", "loi 2014-173", "loi n° 2014-173", "LOI no 2014-173", "VILX1306039L"])
def test_a_reference_finds_the_law_and_every_text_citing_it(space, q):
    assert found(space, q) == {"law", "law-pdf"} | CITING


def test_other_words_stay_required(space):
    # the one text holding both comes first; as it is alone, texts holding one word follow
    results = space.search(SearchRequest(q="2014-173 Martinique", per_page=50))
    assert results.strict_total == 1 and results.hits[0].id == "by-date"
    assert found(space, "loi 2000-1208") == {"unrelated"}


def test_query_syntax_is_taken_as_written(space):
    assert found(space, '"loi du 21 février 2014"') == {"by-date"}
    assert found(space, "ref:loi:2014-173") == {"law", "law-pdf", "by-number"}


def test_parse_query_adds_the_ref_clause():
    parsed = parse_query("rénovation loi 2014-173", {"loi:2014-173": ("nor:VILX1306039L",)})
    assert parsed.text() == "rénovation ((loi 2014-173) OR ref:loi:2014-173 OR ref:nor:VILX1306039L)"
    assert parse_query("logement social").text() == "logement social"


def test_space_exposes_legal_links(space):
    assert [d.id for d in space.same_as("law")] == ["law-pdf"]
    citing = space.cited_by("law")
    assert [d.id for d in citing.documents] == ["by-nor", "by-date", "by-number"] and citing.total == 3
    assert [d.id for d in space.cited_by("law-pdf").documents] == ["by-nor", "by-date", "by-number"]
    cited = {c.key: c for c in space.cites("by-number")}
    assert {d.id for d in cited["loi:2014-173"].documents} == {"law", "law-pdf"}
    assert space.legal_ids(["law", "law-pdf", "by-date"]) == {"law": "loi:2014-173", "law-pdf": "loi:2014-173"}
    assert space.cites("nope") == [] and space.cited_by("nope").total == 0 and space.same_as("nope") == []
    assert space.cited_by("unrelated").documents == ()


def test_a_text_cited_many_times_lists_the_newest_and_counts_them_all(space):
    citing = [doc(f"cite-{i:02d}", f"Arrêté {i}", f"Vu l'article {i % 7 + 1} de la loi n° 2014-173 du 21 "
                  "février 2014 ;", day=i % 28 + 1) for i in range(30)]
    internal = doc("cite-internal", "Compte rendu interne", "Vu la loi n° 2014-173.", day=28)
    for item in [*citing, replace(internal, visibility="interne")]:
        space.catalog.documents.put(item)
    space.index_pending()
    shown = space.cited_by("law", limit=5)
    assert shown.total == 33    # the thirty (by one of its articles), the three above
    newest = sorted([*citing, *(d for d in CORPUS if d.id in CITING)], key=lambda d: (-d.date.timestamp(), d.id))
    assert [d.id for d in shown.documents] == [d.id for d in newest[:5]]
    staff = space.cited_by("law", include_internal=True, limit=50)
    assert staff.total == 34 and "cite-internal" in {d.id for d in staff.documents}
    # every one of them, from the query the page links to
    query = " OR ".join(f"cite:{key}" for key in shown.keys)
    assert found(space, query) == {d.id for d in citing} | CITING


def test_nature_is_a_facet(space):
    # the library PDF says it is a law only in its text: its nature comes from its key
    assert dict(space.search(SearchRequest(q="")).facets["doc_type"]) == {"loi": 2}
    assert dict(space.search(SearchRequest(q="", filters={"doc_type": ("loi",)})).facets["kind"]) == {
        "juridique": 1, "bibliothèque": 1}
