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


def test_shards_cached_and_resumed(tmp_path):
    shards = tmp_path / "corpus-11"
    built = list(corpus.documents(25, seed=11, cache_dir=tmp_path, shard_size=10))
    assert built == list(corpus.generate(25, seed=11))
    assert sorted(p.name for p in shards.iterdir()) == ["0000000+10.pickle", "0000010+10.pickle",
                                                        "0000020+10.pickle"]
    # an interrupted run: the missing shard is made again, the others are read as they are
    (shards / "0000010+10.pickle").unlink()
    other = list(corpus.documents(10, seed=12, cache_dir=tmp_path, shard_size=10))
    (tmp_path / "corpus-12" / "0000000+10.pickle").replace(shards / "0000000+10.pickle")
    again = list(corpus.documents(25, seed=11, start=5, cache_dir=tmp_path, shard_size=10))
    assert again[:5] == other[5:] and again[5:] == built[10:]
    assert (shards / "0000010+10.pickle").exists()


def test_fts5_baseline_answers_the_mix(tmp_path):
    db, _, count = fts5.build(tmp_path / "fts.sqlite3", corpus.generate(300, seed=5))
    assert count == 300
    results = {q.q: fts5.search(db, q) for q in QUERIES}
    assert results["logement"]["total"] > 0
    hit = results["logement"]["hits"][0]
    assert "<mark>" in hit[4].lower()
    assert sum(c for _, c in results["logement"]["facets"]["kind"]) == results["logement"]["total"]


def test_the_mix_filters_on_real_facets(tmp_path):
    """A filter on a misspelt facet matches nothing, which would time an empty search."""
    from veille.core.facets import FACET_NAMES

    filtered = [q for q in QUERIES if q.filters]
    assert filtered
    assert all(name in FACET_NAMES for q in filtered for name in q.filters)
    db, _, _ = fts5.build(tmp_path / "fts.sqlite3", corpus.generate(2000, seed=5))
    for query in filtered:
        narrowed = fts5.search(db, query)["total"]
        unfiltered = fts5.search(db, type(query)(query.label, query.q, query.fts))["total"]
        assert 0 < narrowed < unfiltered, query
