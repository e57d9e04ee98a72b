"""What is particular to the tantivy engine: its Rust analysis matches indexer.search.analysis,
its index directory is checked before use. Search behaviour itself is tested for both
engines by tests/test_search.py."""

import pytest

from indexer.search import analysis
from indexer.search import tantivy_engine as te
from indexer.search.analysis import analyze
from indexer.search.engine import IndexOutdated, SearchRequest
from veille.core.records import Document, document_id
from datetime import datetime, timezone

# The cases of issue 4: accents, plurals, stop words, ligatures, elisions, numbers.
CASES = [
    "rénovation urbaine", "renovations urbaines", "écoles", "ecole", "collectivité",
    "collectivite", "Schœlcher", "Schoelcher", "cæcum", "ﬁnancement", "les ils elles cette",
    "l'école d'Anses-d'Arlet", "décret n° 2024-1234", "QPV Fort-de-France", "ÉTAT CIVIL",
    "Contrat de ville 2015-2020 : bilan", "habitants", "logements sociaux", "Quartier Dillon",
]


@pytest.mark.parametrize("text", CASES)
def test_rust_analysis_gives_the_shared_terms(text):
    assert list(te.analyze(text)) == analyze(text)


def test_rust_analysis_agrees_on_real_french(shared_corpus):
    """On the French legal codes, at most a few words in 10,000 stem differently."""
    words = {}
    for path in sorted((shared_corpus / "legal").rglob("*.md"))[:400]:
        for word in analysis.WORD_RE.findall(path.read_text(encoding="utf-8")):
            words[word] = words.get(word, 0) + 1
    differ = sum(count for word, count in words.items() if list(te.analyze(word)) != analyze(word))
    assert sum(words.values()) > 10_000
    assert differ / sum(words.values()) < 0.001


def test_phrase_positions_count_kept_words_only():
    assert te.TantivyEngine._phrase_words("contrat de ville") == [(0, "contrat"), (1, "vill")]


def _doc(n: int, title: str) -> Document:
    return Document(id=document_id(f"https://example.org/{n}"), title=title, source="s",
                    kind="actualité", first_seen=datetime(2024, 1, n, tzinfo=timezone.utc),
                    content=title)


def test_index_survives_reopening(tmp_path):
    engine = te.TantivyEngine(tmp_path / "ix")
    engine.add([_doc(1, "Rénovation urbaine"), _doc(2, "Cohésion sociale")])
    engine.close()
    again = te.TantivyEngine(tmp_path / "ix")
    assert again.doc_count() == 2


def test_refuses_a_foreign_directory(tmp_path):
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "something").write_text("x")
    with pytest.raises(te.TantivyIndexError, match="not a Veille tantivy index"):
        te.TantivyEngine(tmp_path / "ix")


def test_refuses_another_layout(tmp_path):
    te.TantivyEngine(tmp_path / "ix").close()
    (tmp_path / "ix" / te.VERSION_FILE).write_text('{"schema": 1}')
    # IndexOutdated: DocumentSpace starts a new index and indexes everything again
    with pytest.raises(IndexOutdated, match="rebuild"):
        te.TantivyEngine(tmp_path / "ix")


def test_failed_batch_leaves_the_index_as_it_was(tmp_path):
    engine = te.TantivyEngine(tmp_path / "ix")
    engine.add([_doc(1, "Rénovation urbaine")])

    def documents():
        yield _doc(2, "Cohésion sociale")
        raise RuntimeError("extraction failed")

    with pytest.raises(RuntimeError):
        engine.add(documents())
    assert engine.doc_count() == 1


def _tagged(n: int, themes: tuple, territories: tuple, doc_type: str) -> Document:
    return Document(id=document_id(f"https://example.org/t{n}"), title=f"Logement {n}", source="s",
                    kind="rapport", first_seen=datetime(2024, 1, 1 + n % 28, tzinfo=timezone.utc),
                    content="logement social", themes=themes, territories=territories,
                    doc_type=doc_type)


TAGS = [((), (), ""), (("habitat",), ("Le Lamentin",), "rapport"),
        (("habitat", "emploi"), ("Le Lamentin", "QPV Bourg"), "rapport"),
        (("emploi", "habitat"), ("Schœlcher",), "guide"), (("santé",), (), ""),
        (("emploi", "santé", "habitat"), ("Le Lamentin", "Schœlcher"), "décret")]


def expected_facet(name: str, docs: list[Document]) -> dict:
    counts = {}
    for doc in docs:
        values = getattr(doc, name)
        for value in (values if isinstance(values, tuple) else (values,) if values else ()):
            counts[value] = counts.get(value, 0) + 1
    return counts


@pytest.mark.parametrize("buckets", [te.COMBINATION_BUCKETS, 3, 1])
def test_facets_from_joined_values_count_each_value(tmp_path, buckets):
    docs = [_tagged(n, *TAGS[n % len(TAGS)]) for n in range(40)]
    engine = te.TantivyEngine(tmp_path / "ix")
    engine.add(docs[:25])
    engine.add(docs[25:])   # two segments
    engine.close()
    engine = te.TantivyEngine(tmp_path / "ix", combination_buckets=buckets)  # 1, 3: too few
    found = engine.search(SearchRequest(q="logement"), lambda doc_id: "")
    assert found.total == 40   # counted by the facets, not by the search
    for name in te.SET_FACETS:
        assert dict(found.facets[name]) == expected_facet(name, docs), name
    with_sante = [doc for doc in docs if "santé" in doc.themes]
    # every joined-values facet selected: the search counts
    chosen = {"themes": ("santé",), "territories": ("Schœlcher",), "doc_type": ("décret", "guide")}
    filtered = engine.search(SearchRequest(q="logement", filters=chosen), lambda doc_id: "")
    assert filtered.total == sum(1 for doc in docs if "santé" in doc.themes and "Schœlcher"
                                 in doc.territories and doc.doc_type in ("décret", "guide")) > 0
    selected = engine.search(SearchRequest(q="logement", filters={"themes": ("santé",)}),
                             lambda doc_id: "").facets
    assert dict(selected["territories"]) == expected_facet("territories", with_sante)
    assert dict(selected["themes"]) == expected_facet("themes", docs)   # its own selection: all
    assert engine.search(SearchRequest(q="logement", facets=False), lambda doc_id: "").total == 40


def test_a_document_met_twice_in_one_batch_is_indexed_once(tmp_path):
    engine = te.TantivyEngine(tmp_path / "ix")
    first, second = _doc(1, "Rénovation urbaine"), _doc(2, "Cohésion sociale")
    again = Document(id=first.id, title="Habitat insalubre", source="s", kind="actualité",
                     first_seen=first.first_seen, content="Habitat insalubre")
    assert engine.add([first, second, again]) == 3   # into an empty index: no deletes but this one
    assert engine.doc_count() == 2
    found = engine.search(SearchRequest(q="habitat"), lambda doc_id: "")
    assert [hit.id for hit in found.hits] == [first.id]
    assert engine.search(SearchRequest(q="rénovation"), lambda doc_id: "").total == 0
    engine.add([_doc(1, "Rénovation urbaine")])       # into a filled index: replaced
    assert engine.doc_count() == 2
    assert engine.search(SearchRequest(q="habitat"), lambda doc_id: "").total == 0


def test_did_you_mean_reads_each_distinct_word(tmp_path):
    engine = te.TantivyEngine(tmp_path / "ix")
    engine.add([_doc(1, "Logement logement logement insalubre"), _doc(2, "Logement social")])
    searcher = engine.index.searcher()
    assert dict(searcher.terms_with_prefix("spell", "loge")) == {"logement": 2}
    assert engine.search(SearchRequest(q="logemnet"), lambda doc_id: "").suggestion == "logement"
