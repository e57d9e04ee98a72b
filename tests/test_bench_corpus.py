"""The benchmark corpus is a pure function of (seed, index): same seed, same documents."""

from bench import corpus, fts5
from bench.queries import QUERIES


def test_same_seed_same_documents():
    first = list(corpus.generate(30, seed=7))
    again = list(corpus.generate(30, seed=7))
    assert first == again
    assert len({doc.id for doc in first}) == 30


def test_other_seed_other_documents():
    assert list(corpus.generate(5, seed=7)) != list(corpus.generate(5, seed=8))


def test_prefix_property_and_shape():
    docs = list(corpus.generate(200, seed=3))
    assert list(corpus.generate(20, seed=3, start=100)) == docs[100:120]
    words = [len(doc.content.split()) for doc in docs]
    assert min(words) >= 100 and max(words) <= 2100
    assert any("décret n°" in doc.content or "loi n°" in doc.content for doc in docs)
    assert any("é" in doc.content for doc in docs)
    assert {doc.kind for doc in docs} <= set(corpus.KINDS)
    assert all("Martinique" in doc.territories for doc in docs)


def test_cache_round_trip(tmp_path):
    built = corpus.load(25, seed=11, cache_dir=tmp_path)
    assert corpus.load(25, seed=11, cache_dir=tmp_path) == built
    assert len(list(tmp_path.glob("corpus-11-25.pickle"))) == 1


def test_fts5_baseline_answers_the_mix(tmp_path):
    db, _, count = fts5.build(tmp_path / "fts.sqlite3", corpus.generate(300, seed=5))
    assert count == 300
    results = {q.q: fts5.search(db, q) for q in QUERIES}
    assert results["logement"]["total"] > 0
    hit = results["logement"]["hits"][0]
    assert "<mark>" in hit[4].lower()
    assert sum(c for _, c in results["logement"]["facets"]["kind"]) == results["logement"]["total"]
