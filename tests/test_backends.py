"""What each engine adapter must do alike, below DocumentSpace: open, write whole or not at
all, count facets, list terms; and an index of the previous release keeps answering.

Search behaviour through DocumentSpace is tested for both engines by tests/test_search.py.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from indexer.search import tantivy_backend as tb
from indexer.search import whoosh_backend as wb
from indexer.search.analysis import analyze
from indexer.search.fields import indexed_document
from indexer.search.request import IndexOutdated, SearchRequest
from indexer.search.space import DocumentSpace
from veille.core.config import parse_config
from veille.core.records import Document, document_id

BACKENDS = {"tantivy": tb.TantivyBackend, "whoosh": wb.WhooshBackend}
FIXTURE = Path(__file__).parent / "fixtures" / "datadir-v0"
UTC = timezone.utc


@pytest.fixture(params=sorted(BACKENDS))
def backend_class(request):
    return BACKENDS[request.param]


def _doc(n: int, title: str, **fields) -> Document:
    return Document(id=document_id(f"https://example.org/{n}"), title=title, source="s",
                    kind="actualité", first_seen=datetime(2024, 1, 1 + n % 28, tzinfo=UTC),
                    content=fields.pop("content", title), **fields)


def _add(backend, docs) -> int:
    return backend.add(indexed_document(doc, UTC) for doc in docs)


def test_index_survives_reopening(tmp_path, backend_class):
    backend = backend_class(tmp_path / "ix", create=True)
    _add(backend, [_doc(1, "Rénovation urbaine"), _doc(2, "Cohésion sociale")])
    backend.close()
    again = backend_class(tmp_path / "ix")
    assert again.doc_count() == 2 and again.writable
    assert again.count(again.term("title", "renov")) == 1
    again.close()


def test_refuses_a_foreign_or_empty_directory(tmp_path, backend_class):
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "something").write_text("x")
    with pytest.raises(IndexOutdated):
        backend_class(tmp_path / "ix")
    with pytest.raises(Exception, match="pas vide"):
        backend_class(tmp_path / "ix", create=True)


def test_refuses_an_unknown_layout(tmp_path, backend_class):
    backend_class(tmp_path / "ix", create=True).close()
    marker = tb.VERSION_FILE if backend_class is tb.TantivyBackend else wb.VERSION_FILE
    (tmp_path / "ix" / marker).write_text('{"schema": 99}')
    with pytest.raises(IndexOutdated, match="rebuild"):
        backend_class(tmp_path / "ix")


def test_failed_batch_leaves_the_index_as_it_was(tmp_path, backend_class):
    backend = backend_class(tmp_path / "ix", create=True)
    _add(backend, [_doc(1, "Rénovation urbaine")])

    def documents():
        yield indexed_document(_doc(2, "Cohésion sociale"), UTC)
        raise RuntimeError("extraction failed")

    with pytest.raises(RuntimeError):
        backend.add(documents())
    assert backend.doc_count() == 1
    backend.close()


def test_a_document_met_twice_is_indexed_once(tmp_path, backend_class):
    backend = backend_class(tmp_path / "ix", create=True)
    first = _doc(1, "Rénovation urbaine")
    again = _doc(1, "Habitat insalubre")
    assert _add(backend, [first, _doc(2, "Cohésion sociale"), again]) == 2
    assert backend.doc_count() == 2
    assert [i for i, _ in backend.top(backend.term("title", "habitat"), 10)] == [first.id]
    assert backend.count(backend.term("title", "renov")) == 0
    _add(backend, [_doc(1, "Rénovation urbaine")])     # into a filled index: replaced
    assert backend.doc_count() == 2
    assert backend.count(backend.term("title", "habitat")) == 0
    backend.close()


def test_generation_changes_with_each_commit(tmp_path, backend_class):
    backend = backend_class(tmp_path / "ix", create=True)
    before = backend.generation()
    _add(backend, [_doc(1, "Rénovation urbaine")])
    middle = backend.generation()
    backend.delete([_doc(1, "x").id])
    assert len({before, middle, backend.generation()}) == 3
    backend.close()


TAGS = [((), (), ""), (("habitat",), ("Le Lamentin",), "rapport"),
        (("habitat", "emploi"), ("Le Lamentin", "QPV Bourg"), "rapport"),
        (("emploi", "habitat"), ("Schœlcher",), "guide"), (("santé",), (), ""),
        (("emploi", "santé", "habitat"), ("Le Lamentin", "Schœlcher"), "décret")]


def _expected(field: str, docs: list[Document]) -> dict:
    counts: dict[str, int] = {}
    for doc in docs:
        values = getattr(doc, field)
        for value in (values if isinstance(values, tuple) else (values,) if values else ()):
            counts[value] = counts.get(value, 0) + 1
    return counts


@pytest.mark.parametrize("buckets", [tb.COMBINATION_BUCKETS, 3, 1])
def test_facet_counts_count_each_value_once_per_document(tmp_path, backend_class, buckets):
    docs = [_doc(n, f"Logement {n}", themes=t, territories=p, doc_type=d)
            for n, (t, p, d) in ((n, TAGS[n % len(TAGS)]) for n in range(40))]
    options = {"combination_buckets": buckets} if backend_class is tb.TantivyBackend else {}
    if buckets != tb.COMBINATION_BUCKETS and not options:
        pytest.skip("tantivy's joined-values columns only")
    backend = backend_class(tmp_path / "ix", create=True)
    _add(backend, docs[:25])
    _add(backend, docs[25:])   # two segments
    backend.close()
    backend = backend_class(tmp_path / "ix", **options)
    counts = backend.facet_counts(backend.term("title", analyze("logement")[0]), ["themes", "territories", "doc_type"])
    for field in ("themes", "territories", "doc_type"):
        assert dict(counts[field]) == _expected(field, docs), field
    backend.close()


def test_terms_most_frequent_first(tmp_path, backend_class):
    backend = backend_class(tmp_path / "ix", create=True)
    _add(backend, [_doc(1, "Logement insalubre"), _doc(2, "Logement social"), _doc(3, "Lotissement")])
    assert backend.terms("spell", "lo", limit=1) == [("logement", 2)]
    assert dict(backend.terms("spell", "lo")) == {"logement": 2, "lotissement": 1}
    assert backend.doc_freq("spell", "social") == 1
    backend.close()


# ------------------------------------------------------------------ the previous release's data


def _old_data(tmp_path, engine: str | None) -> DocumentSpace:
    shutil.copytree(FIXTURE, tmp_path / "data", ignore=shutil.ignore_patterns("README.md"))
    path = tmp_path / "sources.yaml"
    path.write_text("data_dir: data\n" + (f"search: {{engine: {engine}}}\n" if engine else ""))
    return DocumentSpace(parse_config(path.read_text(), path))


@pytest.mark.parametrize("engine", [None, "whoosh"])
def test_an_index_of_the_previous_release_keeps_answering(tmp_path, engine):
    space = _old_data(tmp_path, engine)
    try:
        found = space.search(SearchRequest(q="rénovation urbaine"))
        assert [hit.title for hit in found.hits] == ["La rénovation urbaine à Fort-de-France"]
        assert space.search(SearchRequest(q="Schoelcher")).total == 1
        assert space.search(SearchRequest(q="", filters={"kind": ("juridique",)})).total == 1
        assert dict(space.search(SearchRequest(q="")).facets["kind"]) == {
            "actualité": 1, "publication": 1, "juridique": 1}
        # that index knows no visibility: what the catalog says is internal is left out by id
        ecoles = space.search(SearchRequest(q="Schoelcher")).hits[0].id
        space.catalog.documents.set_visibility([ecoles], "interne")
        assert space.search(SearchRequest(q="Schoelcher")).total == 0
        assert space.search(SearchRequest(q="Schoelcher", include_internal=True)).total == 1
        assert space.search(SearchRequest(q="")).total == 2
        assert "veille index --rebuild" in space.stale_reason()
        with pytest.raises(IndexOutdated, match="rebuild"):
            space.index_pending()
        report = space.rebuild()
        assert report.indexed == 3 and report.engine == (engine or "tantivy")
        assert space.stale_reason() is None
        assert space.search(SearchRequest(q="rénovation urbaine")).total == 1
    finally:
        space.close()


def test_the_cli_says_what_to_run_on_an_old_index(tmp_path, run_cli):
    _old_data(tmp_path, None).close()
    config = str(tmp_path / "sources.yaml")
    check = run_cli("--config", config, "check")
    assert "veille index --rebuild" in check.stdout + check.stderr
    index = run_cli("--config", config, "index")
    assert index.returncode == 1
    assert "veille index --rebuild" in index.stderr and "Traceback" not in index.stderr
    found = run_cli("--config", config, "search", "écoles")
    assert found.returncode == 0 and "Les écoles de Schœlcher" in found.stdout
    assert run_cli("--config", config, "index", "--rebuild").returncode == 0
    again = run_cli("--config", config, "index")
    assert again.returncode == 0, again.stderr


def test_an_exclusion_takes_out_every_document_it_names(tmp_path, backend_class):
    # the internal documents taken out of an anonymous reader's search: some before, some
    # at, some after the matching ones, in the same segment
    docs = [_doc(n, f"Compte rendu {'xylophragme' if n in (3, 7) else 'ordinaire'} {n}",
                 visibility="interne" if n in (1, 2, 3, 5) else "public") for n in range(10)]
    backend = backend_class(tmp_path / "ix", create=True)
    _add(backend, docs)
    word = analyze("xylophragme")[0]
    matching = backend.any_of([backend.term(f, word) for f in backend.text_fields])
    internal = backend.values("visibility", ["interne"])
    kept = backend.excluding(matching, [internal])
    assert [doc_id for doc_id, _ in backend.top(kept, 10)] == [docs[7].id]
    assert backend.count(kept) == 1
    assert backend.count(backend.excluding(backend.everything(), [internal])) == 6
    backend.close()


def test_doc_freqs_read_together_equal_each_doc_freq(tmp_path, backend_class):
    backend = backend_class(tmp_path / "ix", create=True)
    _add(backend, [_doc(n, f"Logement {'social' if n % 2 else 'étudiant'} {n}") for n in range(6)])
    pairs = [(field, term) for term in (analyze("logement")[0], analyze("social")[0], "absent")
             for field in (*backend.text_fields, "no_such_field")]
    assert backend.doc_freqs(pairs) == [backend.doc_freq(field, term) for field, term in pairs]
    assert backend.doc_freqs([("title", analyze("social")[0])]) == [3]
    backend.close()


def test_a_reader_sees_every_commit_of_another_writer_at_once(tmp_path, backend_class):
    """The web process reads what the indexer process committed, on its next search."""
    writer = backend_class(tmp_path / "ix", create=True)
    reader = backend_class(tmp_path / "ix")
    renov = reader.term("title", "renov")
    assert reader.count(renov) == 0
    for n in range(1, 6):
        _add(writer, [_doc(n, f"Rénovation urbaine {n}")])
        assert reader.count(renov) == n
        assert reader.doc_count() == n
    writer.delete([_doc(1, "x").id])
    assert reader.count(renov) == 4
    writer.optimize()
    assert reader.count(renov) == 4 and reader.doc_count() == 4
    writer.close()
    reader.close()


def test_tantivy_reloads_only_after_a_commit(tmp_path, monkeypatch):
    backend = tb.TantivyBackend(tmp_path / "ix", create=True)
    _add(backend, [_doc(1, "Rénovation urbaine")])
    reloads = []
    monkeypatch.setattr(backend, "index", _Counting(backend.index, reloads))
    query = backend.term("title", "renov")
    for _ in range(5):
        assert backend.count(query) == 1
    assert len(reloads) <= 1
    _add(backend, [_doc(2, "Rénovation du bourg")])
    before = len(reloads)
    assert backend.count(query) == 2 and len(reloads) > before
    backend.close()


class _Counting:
    """A tantivy index that writes down each reload."""

    def __init__(self, inner, reloads: list):
        self.inner, self.reloads = inner, reloads

    def reload(self):
        self.reloads.append(1)
        return self.inner.reload()

    def __getattr__(self, name):
        return getattr(self.inner, name)
