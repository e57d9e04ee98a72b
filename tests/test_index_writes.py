"""Index writes against concurrent change: revisions keep changed documents pending, and one
write lock serialises index writers and backups across threads and processes."""

from __future__ import annotations

from datetime import datetime, timezone

from veille.storage.catalog import Catalog
from indexer.search.request import SearchRequest
from veille.core.records import Document
from indexer.search.space import DocumentSpace
from veille.core.config import load_config

NOW = datetime(2025, 3, 12, tzinfo=timezone.utc)


def doc(doc_id: str, title: str) -> Document:
    return Document(id=doc_id, title=title, source="s", kind="actualité", first_seen=NOW,
                    url=f"https://example.org/{doc_id}", content=title)


def test_change_between_read_and_mark_keeps_the_document_pending(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.documents.put(doc("a", "Première version"))
    catalog.documents.put(doc("b", "Autre document"))
    batch, revisions = catalog.queue.pending_batch()
    assert [d.id for d in batch] == ["a", "b"]
    catalog.documents.put(doc("a", "Deuxième version"))     # changed while "indexing"
    catalog.queue.mark_indexed([d.id for d in batch], revisions=revisions)
    assert [d.title for d in catalog.queue.pending_batch()[0]] == ["Deuxième version"]
    assert catalog.documents.put(doc("b", "Autre document")) == "unchanged"
    assert catalog.queue.pending_count() == 1


def test_revisions_survive_an_old_catalog(tmp_path):
    import sqlite3

    path = tmp_path / "catalog.sqlite3"
    Catalog(path).documents.put(doc("a", "Texte"))
    db = sqlite3.connect(path)  # a catalog made before the revision column existed
    db.execute("ALTER TABLE documents DROP COLUMN revision")
    db.execute("PRAGMA user_version = 0")  # and before schema versions
    db.commit()
    db.close()
    catalog = Catalog(path)
    assert catalog.documents.put(doc("a", "Texte modifié")) == "updated"
    assert catalog.queue.revisions() == {"a": 1}


def test_rebuild_leaves_documents_changed_meanwhile_pending(write_config, tmp_path):
    config = load_config(write_config("data_dir: data\n"))
    space = DocumentSpace(config)
    try:
        for i in range(5):
            space.catalog.documents.put(doc(f"d{i}", f"Rénovation urbaine {i}"))
        space.index_pending()
        real_iter = space.catalog.documents.iter_all

        def iter_and_change(*args, **kwargs):
            for n, item in enumerate(real_iter(*args, **kwargs)):
                if n == 2:  # a crawl updates d0 while the rebuild runs
                    space.catalog.documents.put(doc("d0", "Contrat de ville révisé"))
                yield item

        space.catalog.documents.iter_all = iter_and_change
        space.rebuild()
        assert [d.id for d in space.catalog.queue.pending_batch()[0]] == ["d0"]
        space.index_pending()
        hits = space.search(SearchRequest(q="contrat de ville")).hits
        assert [h.id for h in hits] == ["d0"]
    finally:
        space.close()


def test_write_lock_excludes_other_holders_until_released(tmp_path):
    import threading

    import pytest

    from indexer.search.indexes import IndexBusy, index_write_lock
    from veille.core.layout import DataDir

    held, release = threading.Event(), threading.Event()

    def holder():
        with index_write_lock(DataDir(tmp_path)):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(30)
        with pytest.raises(IndexBusy):
            with index_write_lock(DataDir(tmp_path), timeout=0.2):
                pass
    finally:
        release.set()
        thread.join()
    with index_write_lock(DataDir(tmp_path), timeout=5):  # free again
        pass


def test_index_pending_waits_for_a_rebuild_in_progress(write_config):
    """A batch indexed by another writer during a rebuild must end up in the new index."""
    import threading

    config = load_config(write_config("data_dir: data\n"))
    rebuilding = DocumentSpace(config)
    other = DocumentSpace(config)
    try:
        for i in range(3):
            rebuilding.catalog.documents.put(doc(f"d{i}", f"Rénovation urbaine {i}"))
        rebuilding.index_pending()
        real_iter = rebuilding.catalog.documents.iter_all
        done, threads = [], []

        def index_meanwhile():
            other.catalog.documents.put(doc("late", "Contrat de ville tardif"))
            other.index_pending()
            done.append(True)

        def iter_and_index(*args, **kwargs):
            for n, item in enumerate(real_iter(*args, **kwargs)):
                if n == 1:
                    thread = threading.Thread(target=index_meanwhile)
                    thread.start()
                    thread.join(0.5)  # it must wait for the rebuild's lock
                    assert not done
                    threads.append(thread)
                yield item

        rebuilding.catalog.documents.iter_all = iter_and_index
        rebuilding.rebuild()
        threads[0].join(30)
        assert done
        hits = rebuilding.search(SearchRequest(q="contrat de ville")).hits
        assert [h.id for h in hits] == ["late"]
        assert rebuilding.catalog.queue.pending_count() == 0
    finally:
        rebuilding.close()
        other.close()


def test_rebuild_writes_only_the_rows_that_were_pending(write_config):
    config = load_config(write_config("data_dir: data\n"))
    space = DocumentSpace(config)
    try:
        for i in range(6):
            space.catalog.documents.put(doc(f"d{i}", f"Rénovation urbaine {i}"))
        space.index_pending()
        space.catalog.documents.put(doc("d1", "Contrat de ville"))
        space.catalog.documents.put(doc("new", "Politique de la ville"))
        connection = space.catalog.db.connection()
        before = connection.total_changes
        report = space.rebuild()
        assert report.indexed == 7
        assert connection.total_changes - before == 2     # d1 and new; the other five are left alone
        assert space.catalog.queue.pending_count() == 0
        assert {h.id for h in space.search(SearchRequest(q="ville")).hits} == {"d1", "new"}
    finally:
        space.close()


def test_a_pending_batch_reads_only_the_rows_it_returns(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    # the queue's own query walks the partial index of pending rows, no sort of them all
    traced: list[str] = []
    catalog.db.connection().set_trace_callback(traced.append)
    catalog.queue.pending_batch(limit=500)
    catalog.db.connection().set_trace_callback(None)
    plan = " ".join(row[-1] for row in catalog.db.connection().execute("EXPLAIN QUERY PLAN " + traced[-1]))
    assert "documents_pending" in plan and "TEMP B-TREE" not in plan
    for i in range(5):
        catalog.documents.put(doc(f"d{i}", f"Texte {i}"))
    first, revisions = catalog.queue.pending_batch(limit=3)
    catalog.queue.mark_indexed([d.id for d in first], revisions=revisions)
    rest, _ = catalog.queue.pending_batch(limit=3)
    assert [d.id for d in first] == ["d0", "d1", "d2"] and [d.id for d in rest] == ["d3", "d4"]
