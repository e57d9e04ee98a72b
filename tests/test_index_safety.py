"""Crash safety of the index: a writer killed with SIGKILL, a failing batch, a stale lock.

The killed writer is a real child process running `DocumentSpace.index_pending`; it is
stopped at a chosen point inside Whoosh (after the new segment is written, before the new
table of contents is renamed into place; or in the middle of adding documents) and killed
with SIGKILL, so nothing of ours gets to clean up.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from indexer.search.engine import SearchRequest
from veille.core.records import Document, document_id
from indexer.search.space import DocumentSpace
from indexer.search.whoosh_engine import LOCK_FILE, OWNER_FILE, WhooshEngine
from veille.core.config import parse_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Stops the child at a point of the write, signals the parent through a file, then waits.
CHILD = r"""
import sys, time, pathlib
import whoosh.writing
from veille.core.config import load_config
from indexer.search.space import DocumentSpace

config_path, ready, where = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]

def stop(*args, **kwargs):
    ready.write_text("stopped")
    time.sleep(600)

if where == "commit":      # segment files written, new table of contents not yet in place
    whoosh.writing.SegmentWriter._commit_toc = stop
else:                      # in the middle of adding the batch
    original = whoosh.writing.SegmentWriter.update_document
    count = [0]
    def slow(self, **fields):
        count[0] += 1
        if count[0] == 10:
            stop()
        return original(self, **fields)
    whoosh.writing.SegmentWriter.update_document = slow

DocumentSpace(load_config(config_path)).index_pending()
"""


def make_doc(i: int, word: str) -> Document:
    return Document(id=document_id(f"doc-{i}"), title=f"Document {i} {word}",
                    source="vie-publique", kind="actualité",
                    first_seen=datetime(2025, 1, 1, tzinfo=timezone.utc),
                    content=f"Compte rendu numéro {i} sur la {word} des quartiers.")


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("data_dir: data\n", encoding="utf-8")
    return parse_config(path.read_text(encoding="utf-8"), path)


def total(space: DocumentSpace, q: str) -> int:
    return space.search(SearchRequest(q=q, facets=False, highlight=False)).total


def kill_writer_at(config, tmp_path, where: str) -> None:
    ready = tmp_path / f"ready-{where}"
    env = {**os.environ, "PYTHONPATH": ROOT}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(config.path), str(ready), where],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if child.poll() is not None:
                pytest.fail(f"the writer exited early: {child.stderr.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail("the writer never reached the stop point")
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize("where", ["commit", "adding"])
def test_writer_killed_mid_write_loses_nothing(config, tmp_path, caplog, where):
    space = DocumentSpace(config)
    for i in range(20):
        space.catalog.documents.put(make_doc(i, "rénovation"))
    space.index_pending()
    for i in range(20, 50):
        space.catalog.documents.put(make_doc(i, "médiation"))
    index_dir = space.engine().path
    space.close()

    kill_writer_at(config, tmp_path, where)

    owner = json.loads((index_dir / OWNER_FILE).read_text())   # the dead writer's lock owner
    assert owner["pid"] != os.getpid()
    space = DocumentSpace(config)
    try:
        # the previous generation is intact and searchable
        assert total(space, "rénovation") == 20
        assert total(space, "médiation") == 0
        assert space.catalog.queue.pending_count() == 30      # nothing was marked indexed
        with caplog.at_level(logging.WARNING):
            report = space.index_pending()               # the stale lock is cleared, not waited on
        assert report.indexed == 30
        assert "stale write lock" in caplog.text
        assert not (index_dir / OWNER_FILE).exists()
        assert total(space, "médiation") == 30
        assert total(space, "rénovation") == 20
        assert total(space, "quartiers") == 50
    finally:
        space.close()


def test_failing_batch_is_cancelled_whole_and_reraised(tmp_path):
    engine = WhooshEngine(tmp_path / "ix")
    engine.add([make_doc(0, "rénovation")])

    def batch():
        yield make_doc(1, "rénovation")
        yield make_doc(2, "rénovation")
        raise RuntimeError("extraction exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        engine.add(batch())
    assert engine.doc_count() == 1               # not half a batch
    assert not (tmp_path / "ix" / OWNER_FILE).exists()
    assert engine.add([make_doc(3, "rénovation")]) == 1   # the lock was released
    assert engine.doc_count() == 2
    engine.close()


def test_stale_lock_of_a_dead_process_is_cleared(tmp_path):
    path = tmp_path / "ix"
    engine = WhooshEngine(path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (path / OWNER_FILE).write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename}))
    (path / LOCK_FILE).write_text("")
    assert engine.clear_stale_lock()
    assert not (path / OWNER_FILE).exists() and not (path / LOCK_FILE).exists()
    engine.close()


def test_lock_of_a_live_writer_is_respected(tmp_path):
    path = tmp_path / "ix"
    writer_engine = WhooshEngine(path)
    other = WhooshEngine(path, write_timeout=0.5)
    with writer_engine._writer():
        assert not other.clear_stale_lock()
        with pytest.raises(Exception, match="being written by another process"):
            other.add([make_doc(1, "rénovation")])
    assert other.add([make_doc(1, "rénovation")]) == 1
    writer_engine.close()
    other.close()


def test_searches_do_not_wait_for_an_open_writer(config):
    space = DocumentSpace(config)
    for i in range(5):
        space.catalog.documents.put(make_doc(i, "rénovation"))
    space.index_pending()
    engine = space.engine()
    try:
        with engine._writer() as writer:        # a long batch in progress, lock held
            writer.update_document(**engine._fields(make_doc(99, "médiation")))
            # the reader answers from the last commit while the writer is still open
            assert total(space, "rénovation") == 5
            assert total(space, "médiation") == 0
            assert (engine.path / OWNER_FILE).exists()
        assert total(space, "médiation") == 1
    finally:
        space.close()
