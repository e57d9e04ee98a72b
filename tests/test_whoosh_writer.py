"""The Whoosh engine's own segment writer (indexer.search.whoosh_writer) writes what Whoosh's writer
would: same terms, term statistics, postings, stored fields and lengths, through several
commits, spilled runs and a final optimise."""

from __future__ import annotations

from dataclasses import replace
from datetime import timezone

import pytest
from whoosh import index as whoosh_index
from whoosh.fields import TEXT, Schema

import indexer.search.whoosh_engine as whoosh_engine
from bench import corpus
from indexer.search.engine import SearchRequest
from indexer.search.whoosh_engine import WhooshEngine, build_schema
from indexer.search.whoosh_writer import Analysed, FastSegmentWriter, WorkerFailed


def stock_fields(engine: WhooshEngine, doc) -> dict:
    """The engine's fields as Whoosh's own writer takes them: texts, space-separated keywords."""
    return {name: (value.text or " ".join(value.terms)) if isinstance(value, Analysed) else value
            for name, value in engine._fields(doc).items()}


def build_both(tmp_path, docs, batches: int, optimize: bool, limitmb: int, monkeypatch):
    monkeypatch.setattr(whoosh_engine, "WRITER_MB", limitmb)
    ours = WhooshEngine(tmp_path / "ours", tz=timezone.utc)
    (tmp_path / "stock").mkdir()
    stock = whoosh_index.create_in(str(tmp_path / "stock"), build_schema())
    size = -(-len(docs) // batches)
    for start in range(0, len(docs), size):
        part = docs[start:start + size]
        ours.add(part)
        writer = stock.writer(limitmb=limitmb)
        for doc in part:
            writer.update_document(**stock_fields(ours, doc))
        writer.commit(merge=False)
    if optimize:
        ours.optimize()
        stock.optimize()
    ours.close()
    return whoosh_index.open_dir(str(tmp_path / "ours")), stock


def postings(reader, field, text):
    matcher = reader.postings(field, text)
    items = []
    while matcher.is_active():
        items.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return items


def assert_same_index(ours, stock, sample_every: int = 1):
    a, b = ours.reader(), stock.reader()
    terms = list(a.all_terms())
    assert terms == list(b.all_terms())
    assert len(terms) > 1000
    for field, text in terms[::sample_every]:
        x, y = a.term_info(field, text), b.term_info(field, text)
        assert (x.weight(), x.doc_frequency(), x.min_length(), x.max_length(), x.max_weight(),
                x.min_id(), x.max_id()) == (y.weight(), y.doc_frequency(), y.min_length(),
                                            y.max_length(), y.max_weight(), y.min_id(), y.max_id())
        assert postings(a, field, text) == postings(b, field, text), (field, text)
    assert a.doc_count() == b.doc_count()
    for docnum in range(a.doc_count_all()):
        assert a.stored_fields(docnum) == b.stored_fields(docnum)
        for field in ("title", "content", "spell", "themes"):
            assert a.doc_field_length(docnum, field) == b.doc_field_length(docnum, field)
    for column in ("date", "first_seen"):
        assert list(a.column_reader(column)) == list(b.column_reader(column))
    a.close()
    b.close()


@pytest.mark.slow
def test_same_index_as_whoosh_through_commits_and_spilled_runs(tmp_path, monkeypatch):
    docs = list(corpus.generate(80, seed=5))
    docs += [docs[3], docs[40]]   # replaced in a later commit (update_document)
    # 1 MB: the postings spill to sorted runs on disk several times per commit
    ours, stock = build_both(tmp_path, docs, batches=3, optimize=False, limitmb=1,
                             monkeypatch=monkeypatch)
    assert len(ours._segments()) == len(stock._segments()) == 3
    assert_same_index(ours, stock, sample_every=3)


@pytest.mark.slow
def test_same_index_as_whoosh_after_optimize(tmp_path, monkeypatch):
    docs = list(corpus.generate(60, seed=6))
    ours, stock = build_both(tmp_path, docs, batches=2, optimize=True, limitmb=128,
                             monkeypatch=monkeypatch)
    assert len(ours._segments()) == 1
    assert_same_index(ours, stock, sample_every=2)


def test_pre_analysed_values_need_a_frequency_or_positions_format(tmp_path):
    schema = Schema(text=TEXT(phrase=True, chars=True))   # character spans: not from terms
    ix = whoosh_index.create_in(str(tmp_path), schema)
    writer = FastSegmentWriter(ix)
    with pytest.raises(ValueError, match="Frequency"):
        writer.add_document(text=Analysed("a b", ["a", "b"]))
    writer.cancel()


@pytest.fixture
def bulk_mode(monkeypatch):
    """Worker processes from 20 documents, 10 at a time."""
    monkeypatch.setattr(whoosh_engine, "BULK_MIN", 20)
    monkeypatch.setattr(whoosh_engine, "BULK_PROCS", 2)
    monkeypatch.setattr(whoosh_engine, "BULK_BATCH", 10)


def search_all(engine, texts, q):
    results = engine.search(SearchRequest(q=q, per_page=200), texts.get)
    return results.total, sorted((hit.id, hit.score) for hit in results.hits), dict(results.facets)


@pytest.mark.slow
def test_bulk_load_in_worker_processes_searches_alike(tmp_path, monkeypatch, bulk_mode):
    docs = list(corpus.generate(70, seed=8))
    texts = {doc.id: "\n".join((doc.title, doc.summary, doc.content)) for doc in docs}
    bulk = WhooshEngine(tmp_path / "bulk", tz=timezone.utc)
    assert bulk.add(docs) == 70
    assert len(whoosh_index.open_dir(str(tmp_path / "bulk"))._segments()) == 2   # one per worker
    monkeypatch.setattr(whoosh_engine, "BULK_PROCS", 1)
    single = WhooshEngine(tmp_path / "single", tz=timezone.utc)
    single.add(docs)
    queries = ("logement", '"contrat de ville"', "renovation urbaine", "habitat OR quartier",
               "logement -habitat", "title:logement", "urbain*", "\"quartier prioritaire\"")
    expected = {q: search_all(single, texts, q) for q in queries}
    assert all(expected[q][0] > 0 for q in queries)
    assert {q: search_all(bulk, texts, q) for q in queries} == expected
    bulk.optimize()
    assert len(whoosh_index.open_dir(str(tmp_path / "bulk"))._segments()) == 1
    # Whoosh's merge sums the field lengths it stores as lossy bytes, so scores move a little
    # after any optimize(); the documents found and the facets do not
    without_scores = {q: (total, sorted(i for i, _ in hits), facets)
                      for q, (total, hits, facets) in expected.items()}
    assert {q: (total, sorted(i for i, _ in hits), facets)
            for q, (total, hits, facets) in ((q, search_all(bulk, texts, q)) for q in queries)
            } == without_scores
    bulk.close()
    single.close()


@pytest.mark.slow
def test_bulk_load_failing_in_a_worker_commits_nothing(tmp_path, bulk_mode):
    docs = list(corpus.generate(40, seed=9))
    docs[30] = replace(docs[30], first_seen="not a date")   # fails in a worker, not in this process
    engine = WhooshEngine(tmp_path / "ix", tz=timezone.utc)
    with pytest.raises(WorkerFailed, match="AttributeError"):
        engine.add(docs)
    assert engine.doc_count() == 0
    assert engine.add(docs[:5]) == 5   # the write lock was released
    engine.close()


def test_the_searcher_after_optimize_finds_each_document_once(tmp_path):
    # Whoosh's Searcher.refresh() kept the merged segments beside the merged one
    docs = list(corpus.generate(9, seed=4))
    engine = WhooshEngine(tmp_path / "ix", tz=timezone.utc)
    for start in (0, 3, 6):
        engine.add(docs[start:start + 3])
        engine.search(SearchRequest(q=""), lambda doc_id: "")   # a long-lived searcher
    assert len(whoosh_index.open_dir(str(tmp_path / "ix"))._segments()) == 3
    engine.optimize()
    assert engine.doc_count() == 9
    assert engine.search(SearchRequest(q=""), lambda doc_id: "").total == 9
    engine.close()
