"""The Whoosh engine's bulk path (indexer.search.whoosh_arrays) against Whoosh's own matchers.

The engine reads posting lists, columns and positions straight into NumPy arrays and
ranks with its own BM25; these tests check, on indexes of several segments with deleted
documents, that it finds what Whoosh's matchers find and ranks as Whoosh's BM25F does.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from whoosh import query as wq

from indexer.search import whoosh_arrays as arrays
from indexer.search.engine import SearchRequest
from indexer.search.query import parse_query
from veille.core.records import Document, document_id
from indexer.search.whoosh_engine import WhooshEngine

WORDS = ("contrat ville quartier prioritaire rénovation urbaine logement social emploi "
         "jeunes insertion habitat école santé politique commune Martinique").split()


def _doc(i: int, rng: random.Random) -> Document:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
    when = datetime(2020, 1, 1, tzinfo=timezone.utc) + timedelta(days=rng.randint(0, 1500))
    return Document(id=document_id(f"d{i}"), title=" ".join(rng.sample(WORDS, 3)), content=body,
                    source=rng.choice(("anct", "insee", "legifrance")), kind="publication",
                    first_seen=when, published=when,
                    themes=tuple(rng.sample(("habitat", "emploi", "santé"), rng.randint(0, 2))))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    rng = random.Random(8)
    docs = [_doc(i, rng) for i in range(400)]
    engine = WhooshEngine(tmp_path_factory.mktemp("ix"))
    for start in range(0, 400, 100):        # four commits: several segments
        engine.add(docs[start:start + 100])
    engine.delete([docs[i].id for i in range(0, 400, 7)])
    engine.add([_doc(i, rng) for i in range(3, 400, 50)])   # replaced: deleted + re-added
    yield engine
    engine.close()


def _whoosh_docs(searcher, query) -> set[int]:
    return set(searcher.docs_for_query(query))


@pytest.mark.parametrize("term", ["contrat", "vill", "log", "absent"])
def test_postings_and_live_mask_match_whoosh(engine, term):
    state = engine._current()
    assert not state.searcher.is_atomic()                 # really several segments
    ids = arrays.postings(state.searcher, "content", term)
    found = {int(n) for n in ids if state.live()[n]}
    assert found == _whoosh_docs(state.searcher, wq.Term("content", term))


@pytest.mark.parametrize("words", [["contrat", "vill"], ["quarti", "prioritair", "renov"],
                                   ["vill", "contrat"], ["log", "log"]])
def test_phrases_match_whoosh_positions(engine, words):
    state = engine._current()
    masks = [state.term_mask("content", w) for w in words]
    candidates = np.flatnonzero(np.logical_and.reduce(masks) & state.live())
    positions = [arrays.term_positions(state.searcher, "content", w) for w in words]
    found = set(arrays.phrase_docs(candidates, positions).tolist())
    assert found == _whoosh_docs(state.searcher, wq.Phrase("content", words))


@pytest.mark.parametrize("field, term", [("content", "vill"), ("content", "log"),
                                         ("title", "contrat"), ("title", "absent")])
def test_posting_lists_derived_from_positions_equal_the_ones_read(engine, field, term):
    searcher = engine._current().searcher
    read = arrays.postings(searcher, field, term, weights=True)
    state = type(engine._current())(searcher)            # a new state: nothing cached yet
    state.positions(field, term)
    assert ("postings", field, term) in state._postings  # kept while reading the positions
    ids, weights = state.postings(field, term)
    assert ids.tolist() == read[0].tolist()
    assert weights.tolist() == read[1].tolist()


def test_columns_and_lengths_match_whoosh(engine):
    state = engine._current()
    reader = state.searcher.reader()
    dates = arrays.numeric_column(state.searcher, "date")
    lengths = arrays.field_lengths(state.searcher, "content")
    whoosh_dates = list(reader.column_reader("date", translate=False))
    for n in range(state.size):
        if state.live()[n]:
            assert dates[n] == whoosh_dates[n]
            assert lengths[n] == reader.doc_field_length(n, "content")


@pytest.mark.parametrize("q", ["contrat", "logement social", "habitat OR santé", "jeunes -emploi"])
def test_search_finds_and_ranks_as_whoosh_matchers_do(engine, q):
    results = engine.search(SearchRequest(q=q, per_page=20, facets=False, highlight=False),
                            lambda _id: "")
    state = engine._current()
    parsed = parse_query(q)
    strict = engine._compile(state, parsed.root)
    assert results.total == len(_whoosh_docs(state.searcher, strict))
    ranking = engine._with_title_boost(state, parsed, engine._compile(state, parsed.root, relaxed=True))
    whoosh_scores = {hit["id"]: hit.score for hit in state.searcher.search(ranking, limit=None)}
    ours = [(hit.id, hit.score) for hit in results.hits]
    assert len(ours) == min(20, results.total) > 0
    for doc_id, score in ours:
        assert score == pytest.approx(whoosh_scores[doc_id], rel=1e-3)
    assert [s for _, s in ours] == sorted((s for _, s in ours), reverse=True)


@pytest.mark.parametrize("seed", range(5))
def test_positions_parsed_in_bulk_equal_unpickled_ones(seed):
    from whoosh.formats import Positions

    rng = random.Random(seed)
    encode = Positions().encode
    lists = [sorted(rng.sample(range(rng.choice((50, 300, 70_000, 3_000_000))), rng.randint(1, 40)))
             for _ in range(200)] + [[0], [255], [256], [65_535], [65_536, 65_537]]
    values = [encode(positions) for positions in lists]
    parsed = arrays._parse_positions(values)
    assert parsed is not None                      # the bulk path really runs
    assert sorted(parsed.tolist()) == sorted(arrays._load_positions(values).tolist())
    expected = sorted((row << 32) + p for row, positions in enumerate(lists) for p in positions)
    assert sorted(parsed.tolist()) == expected


def test_unexpected_position_values_fall_back_to_pickle():
    from whoosh.formats import Positions

    encode = Positions().encode
    long_list = encode(list(range(1500)))           # pickled in batches of 1000
    assert arrays._parse_positions([encode([1, 2]), long_list]) is None
    assert len(arrays._position_keys([encode([1, 2]), long_list], np.array([0, 1]))) == 1502
