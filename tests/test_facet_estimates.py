"""A search matching very many documents has its facets counted on one part of the
collection in sixteen and scaled (an estimate, said so); below that, counts are exact."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import corpus
from indexer.search import facet_counts
from indexer.search.fields import SAMPLE_PARTS, SAMPLED_PART, sample_part
from indexer.search.request import SearchRequest
from indexer.search.space import DocumentSpace
from veille.core.config import parse_config

DOCS = list(corpus.generate(600, seed=21))


@pytest.fixture(params=["whoosh", "tantivy"], scope="module")
def space(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp(request.param)
    path = tmp_path / "sources.yaml"
    path.write_text(f"data_dir: data\nsearch: {{engine: {request.param}}}\n", encoding="utf-8")
    space = DocumentSpace(parse_config(path.read_text(encoding="utf-8"), path))
    with space.catalog.transaction():
        for doc in DOCS:
            space.catalog.documents.put(doc)
    space.index_pending()
    yield space
    space.close()


def estimate(count: int) -> int:
    return facet_counts._estimate(count)


def test_the_parts_are_even_enough():
    sizes = Counter(sample_part(doc.id) for doc in DOCS)
    assert len(sizes) == SAMPLE_PARTS and max(sizes.values()) < 3 * min(sizes.values())


def test_below_the_threshold_counts_are_exact(space):
    found = space.search(SearchRequest(q=""))
    assert not found.facets_estimated and not found.total_estimated and found.total == 600
    assert dict(found.facets["kind"]) == dict(Counter(doc.kind for doc in DOCS))


def test_above_it_facets_come_from_the_sampled_part(space, monkeypatch):
    monkeypatch.setattr(facet_counts, "FACETS_SAMPLED_ABOVE", 100)
    found = space.search(SearchRequest(q="", page=2))   # a page no other test asked for
    assert found.facets_estimated and found.total_estimated
    part = [doc for doc in DOCS if sample_part(doc.id) == SAMPLED_PART]
    assert found.total == estimate(len(part) * SAMPLE_PARTS)      # the total from the same part
    assert dict(found.facets["kind"]) == {kind: estimate(n * SAMPLE_PARTS)
                                          for kind, n in Counter(doc.kind for doc in part).items()}
    themes = Counter(theme for doc in part for theme in doc.themes)
    assert dict(found.facets["theme"]) == {t: estimate(n * SAMPLE_PARTS) for t, n in themes.items()}
    # a filtered search: the filtered facet's own counts leave its selection out, estimated too
    kind = DOCS[0].kind
    narrowed = space.search(SearchRequest(q="", filters={"kind": (kind,)}, page=3))
    exact = sum(doc.kind == kind for doc in DOCS)
    in_part = sum(doc.kind == kind for doc in part)
    assert narrowed.total == (estimate(in_part * SAMPLE_PARTS) if narrowed.total_estimated else exact)
    assert dict(narrowed.facets["kind"])[kind] == estimate(sum(d.kind == kind for d in part) * SAMPLE_PARTS)


@pytest.mark.parametrize("q", ["logement", "renovation urbaine", '"contrat de ville"', "habitat OR logement",
                               "logement -social", "title:rapport", "urba*", "-logement", "theme:éducation"])
def test_words_restricted_to_the_part_count_as_the_whole_query_intersected_with_it(space, monkeypatch, q):
    """The part's words are compiled restricted one by one (cheaper for the engines): the
    counts are those of the query intersected with the part as a whole."""
    from indexer.search.compile import Compiler

    monkeypatch.setattr(facet_counts, "FACETS_SAMPLED_ABOVE", 10)
    restricted = space.search(SearchRequest(q=q, page=4))
    real = Compiler.compile
    monkeypatch.setattr(Compiler, "compile", lambda self, node, within=None: real(self, node))
    whole = space.search(SearchRequest(q=q, page=5))
    assert restricted.facets_estimated == whole.facets_estimated
    assert (restricted.total, restricted.facets) == (whole.total, whole.facets)
    assert restricted.total > 0


def test_estimates_keep_two_significant_digits():
    assert [estimate(n) for n in (7, 99, 100, 192, 12_345, 675_432)] == [7, 99, 100, 190, 12_000, 680_000]


def test_an_index_built_before_the_parts_existed_still_answers_and_takes_documents(tmp_path, monkeypatch):
    from functools import partial

    from indexer.search import tantivy_backend
    from indexer.search.fields import KEYWORD_FIELDS

    path = tmp_path / "sources.yaml"
    path.write_text("data_dir: data\nsearch: {engine: tantivy}\n", encoding="utf-8")
    config = parse_config(path.read_text(encoding="utf-8"), path)
    older = partial(tantivy_backend.build_schema, [f for f in KEYWORD_FIELDS if f != "sample"])
    with monkeypatch.context() as patch:     # the index as the previous release built it
        patch.setattr(tantivy_backend, "build_schema", older)
        space = DocumentSpace(config)
        with space.catalog.transaction():
            for doc in DOCS[:300]:
                space.catalog.documents.put(doc)
        space.index_pending()
        space.close()
    space = DocumentSpace(config)            # opened by this release
    try:
        assert "sample" not in space.backend().fields
        with space.catalog.transaction():
            for doc in DOCS[300:]:
                space.catalog.documents.put(doc)
        assert space.index_pending().indexed == 300
        monkeypatch.setattr(facet_counts, "FACETS_SAMPLED_ABOVE", 0)
        found = space.search(SearchRequest(q="", per_page=1))
        assert found.total == 600 and not found.facets_estimated   # exact: no parts to sample
        assert sum(count for _, count in found.facets["kind"]) == 600
    finally:
        space.close()
