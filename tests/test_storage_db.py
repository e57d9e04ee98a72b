"""The catalog's SQLite file: private to its owner, transactions whole or not at all."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone

import pytest

from veille.core.layout import DataDir
from veille.core.records import Document
from veille.storage.catalog import Catalog
from veille.storage.db import Database


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The common 022 umask, under which SQLite alone would make 0644 files."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_catalog_and_its_wal_files_are_private(tmp_path, open_umask):
    layout = DataDir(tmp_path / "data")
    catalog = Catalog.open(layout)
    catalog.users.add("equipe@example.org", "scrypt:hash")   # a write: the -wal and -shm exist
    wal = layout.catalog.with_name(layout.catalog.name + "-wal")
    shm = layout.catalog.with_name(layout.catalog.name + "-shm")
    assert wal.exists() and shm.exists()
    assert {p.name: mode(p) for p in (layout.catalog, wal, shm)} == {
        p.name: 0o600 for p in (layout.catalog, wal, shm)}
    catalog.close()


def test_an_existing_catalog_keeps_its_mode(tmp_path, open_umask):
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    path.chmod(0o640)          # chosen by the administrator: left as it is
    Catalog(path).close()
    assert mode(path) == 0o640


def test_transaction_is_rolled_back_and_the_error_raised(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    now = datetime(2025, 3, 10, tzinfo=timezone.utc)
    with pytest.raises(RuntimeError, match="panne"):
        with catalog.transaction():
            catalog.documents.put(Document(id="a", title="A", source="s", kind="actualité", first_seen=now))
            catalog.runs.start("s", now)    # joins the outer transaction
            raise RuntimeError("panne")
    assert catalog.documents.count() == 0 and catalog.runs.recent() == []
    with catalog.transaction():
        catalog.documents.put(Document(id="a", title="A", source="s", kind="actualité", first_seen=now))
        catalog.runs.start("s", now)
    assert catalog.documents.count() == 1 and len(catalog.runs.recent()) == 1
    catalog.close()


def test_each_thread_has_its_own_connection(tmp_path):
    import threading

    database = Database(tmp_path / "db.sqlite3")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(database.connection()))
    thread.start()
    thread.join()
    assert seen[0] is not database.connection()
    database.close()


def test_close_all_closes_every_threads_connection_and_threads_reopen(tmp_path):
    import sqlite3
    import threading

    database = Database(tmp_path / "db.sqlite3")
    database.connection().execute("CREATE TABLE t (x)")
    opened: list = []
    started, go_on, done = threading.Event(), threading.Event(), threading.Event()

    def worker():
        opened.append(database.connection())
        started.set()
        go_on.wait(10)
        opened.append(database.connection())   # after close_all: a fresh connection
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert started.wait(10)
    mine = database.connection()
    database.close_all()
    for connection in (mine, opened[0]):
        with pytest.raises(sqlite3.ProgrammingError):   # closed
            connection.execute("SELECT 1")
    go_on.set()
    done.wait(10)
    thread.join()
    assert opened[1] is not opened[0] and opened[1].execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
    assert database.connection() is not mine
    database.close_all()


def test_end_request_rolls_back_what_a_thread_left_open(tmp_path):
    database = Database(tmp_path / "db.sqlite3")
    db = database.connection()
    db.execute("CREATE TABLE t (x)")
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t VALUES (1)")
    database.end_request()
    assert not db.in_transaction and db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
    database.end_request()          # nothing open: nothing to do
    database.close()


def test_counts_are_remembered_until_anything_is_committed(tmp_path):
    def doc(i, source):
        return Document(id=f"d{i}", title=f"Texte {i}", source=source, kind="actualité",
                        first_seen=datetime(2026, 1, 1, tzinfo=timezone.utc), url=f"https://example.org/{i}")

    path = tmp_path / "catalog.sqlite3"
    web, crawler = Catalog(path), Catalog(path)   # two connections, as two processes would have
    for i in range(3):
        crawler.documents.put(doc(i, "a"))
    counted: list[str] = []
    web.db.connection().set_trace_callback(lambda sql: counted.append(sql) if "GROUP BY" in sql else None)
    assert web.documents.counts_by("source") == {"a": 3}
    assert web.documents.counts_by("source") == {"a": 3}
    assert len(counted) == 1                   # the second answer came from memory
    crawler.documents.put(doc(3, "b"))         # committed by the other connection
    assert web.documents.counts_by("source") == {"a": 3, "b": 1}
    web.documents.put(doc(4, "b"))             # and by its own
    assert web.documents.counts_by("source") == {"a": 3, "b": 2}
    assert len(counted) == 3
    with web.transaction():                    # inside a transaction: its own writes count
        web.documents.put(doc(5, "c"))
        assert web.documents.counts_by("source") == {"a": 3, "b": 2, "c": 1}
    web.close()
    crawler.close()


def test_recent_documents_newest_first_with_or_without_their_text(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    for day in (3, 1, 5, 2):
        catalog.documents.put(Document(id=f"d{day}", title=f"Texte {day}", source="a", kind="actualité",
                                       first_seen=datetime(2026, 1, day, tzinfo=timezone.utc),
                                       content=f"le texte entier du jour {day}", themes=("habitat",)))
    since = datetime(2026, 1, 2, tzinfo=timezone.utc)
    whole = catalog.documents.recent(since, limit=2)
    cards = catalog.documents.recent(since, limit=2, text=False)
    assert [d.id for d in whole] == [d.id for d in cards] == ["d5", "d3"]
    assert whole[0].content == "le texte entier du jour 5" and cards[0].content == ""
    assert [d.themes for d in cards] == [("habitat",), ("habitat",)]
    catalog.close()
