"""Crash safety of the index, on both engines: a writer killed with SIGKILL, searches
while a write is in progress.

The killed writer is a real child process running `DocumentSpace.index_pending`; it is
stopped at a chosen point (in the middle of adding a batch; for Whoosh also after the new
segment is written, before the new table of contents is renamed into place) and killed with
SIGKILL, so nothing of ours gets to clean up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import pytest

from indexer.search import indexes
from indexer.search.request import SearchRequest
from indexer.search.space import DocumentSpace
from veille.core.config import parse_config
from veille.core.records import Document, document_id

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Stops the child at a point of the write, signals the parent through a file, then waits.
CHILD = r"""
import sys, time, pathlib
from veille.core.config import load_config
from indexer.search import space as space_module

config_path, ready, where = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]

def stop(*args, **kwargs):
    ready.write_text("stopped")
    time.sleep(600)

if where == "commit":      # Whoosh: segment files written, new table of contents not yet in place
    import whoosh.writing
    whoosh.writing.SegmentWriter._commit_toc = stop
else:                      # in the middle of adding the batch
    original = space_module.indexed_document
    count = [0]
    def slow(*args):
        count[0] += 1
        if count[0] == 10:
            stop()
        return original(*args)
    space_module.indexed_document = slow

space_module.DocumentSpace(load_config(config_path)).index_pending()
"""


def make_doc(i: int, word: str) -> Document:
    return Document(id=document_id(f"doc-{i}"), title=f"Document {i} {word}",
                    source="vie-publique", kind="actualité",
                    first_seen=datetime(2025, 1, 1, tzinfo=timezone.utc),
                    content=f"Compte rendu numéro {i} sur la {word} des quartiers.")


@pytest.fixture(params=["tantivy", "whoosh"])
def config(tmp_path, request):
    path = tmp_path / "sources.yaml"
    path.write_text(f"data_dir: data\nsearch: {{engine: {request.param}}}\n", encoding="utf-8")
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
def test_writer_killed_mid_write_loses_nothing(config, tmp_path, where):
    if where == "commit" and config.search.engine != "whoosh":
        pytest.skip("a stop inside Whoosh's commit")
    space = DocumentSpace(config)
    for i in range(20):
        space.catalog.documents.put(make_doc(i, "rénovation"))
    space.index_pending()
    for i in range(20, 50):
        space.catalog.documents.put(make_doc(i, "médiation"))
    space.close()

    kill_writer_at(config, tmp_path, where)

    space = DocumentSpace(config)
    try:
        # the previous generation is intact and searchable
        assert total(space, "rénovation") == 20
        assert total(space, "médiation") == 0
        assert space.catalog.queue.pending_count() == 30      # nothing was marked indexed
        report = space.index_pending()                   # the dead writer's locks went with it
        assert report.indexed == 30
        assert total(space, "médiation") == 30
        assert total(space, "rénovation") == 20
        assert total(space, "quartiers") == 50
    finally:
        space.close()


def test_searches_do_not_wait_for_a_write_in_progress(config):
    space = DocumentSpace(config)
    for i in range(5):
        space.catalog.documents.put(make_doc(i, "rénovation"))
    space.index_pending()
    space.catalog.documents.put(make_doc(99, "médiation"))
    held, release = threading.Event(), threading.Event()

    def long_batch():   # another writer holds the index write lock
        with indexes.index_write_lock(space.layout):
            held.set()
            release.wait(30)

    writer = threading.Thread(target=long_batch)
    writer.start()
    try:
        assert held.wait(10)
        reader = DocumentSpace(config)
        try:
            assert total(reader, "rénovation") == 5      # answered from the last commit
            assert total(reader, "médiation") == 0
        finally:
            reader.close()
    finally:
        release.set()
        writer.join()
    space.index_pending()
    assert total(space, "médiation") == 1
    space.close()
