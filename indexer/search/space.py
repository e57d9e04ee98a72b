"""The documentation space: the catalog plus a search index, the one facade others use.

The web, the CLI and the digest talk to `DocumentSpace`; only this package knows which
engine runs. Indexes live in `<data_dir>/search/<engine>-<stamp>/`; the file
`<data_dir>/search/CURRENT` names the one in use. A rebuild fills a fresh directory, then
swaps CURRENT atomically (rename), so searches keep working during the rebuild and other
processes (the web) switch to the new index at their next search.

Every write to the indexes (incremental batches, rebuilds, optimisation) and every backup
copy of them holds one cross-process lock, `<data_dir>/search/.write.lock`: a backup never
copies half a commit, and a batch indexed by another process during a rebuild cannot land
in the old index just before it is swapped out.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from indexer.search import citations
from veille.storage.catalog import Catalog
from indexer.search.citations import Citation
from indexer.search.engine import IndexOutdated, SearchEngine, SearchRequest, SearchResults
from indexer.enrich.legal import is_date_key, query_keys
from veille.core.records import Document
from veille.core.config import Config
from veille.core.layout import DataDir
from veille.core.progress import Progress, no_progress

log = logging.getLogger(__name__)

# Engine name (sources.yaml `search: {engine: ...}`) -> "module:Class", imported on first use.
ENGINES = {
    "whoosh": "indexer.search.whoosh_engine:WhooshEngine",
    "tantivy": "indexer.search.tantivy_engine:TantivyEngine",
}

BATCH = 500


class IndexBusy(TimeoutError):
    """The index write lock could not be had in time."""


@contextmanager
def index_write_lock(layout: DataDir, timeout: float | None = None) -> Iterator[None]:
    """Hold the indexes' write lock (across processes and threads); wait up to `timeout`."""
    path = layout.search_write_lock
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    # flock belongs to the open file, so each holder opens its own: threads exclude each other too
    with open(path, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    raise IndexBusy(f"the index in {path.parent} stayed busy for {timeout:.0f} s") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class IndexReport:
    indexed: int
    deleted: int
    seconds: float
    engine: str
    rebuilt: bool = False


def engine_class(name: str) -> type:
    try:
        target = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown search engine {name!r} (one of: {', '.join(ENGINES)})") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


class DocumentSpace:
    """Catalog and index of one data directory. Safe to share between threads."""

    def __init__(self, config: Config):
        self.config = config
        self.engine_name = config.search.engine
        self.catalog = Catalog.open(config.layout)
        self.root = config.layout.search
        self._lock = threading.RLock()
        self._engine: SearchEngine | None = None
        self._engine_dir: Path | None = None

    # ------------------------------------------------------------ the engine in use

    def _current_dir(self) -> Path | None:
        try:
            name = self.config.layout.search_current.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        if not name.startswith(self.engine_name + "-") or not path.is_dir():
            return None   # another engine's index, or gone: this engine starts afresh
        return path

    def engine(self) -> SearchEngine:
        """The engine of the current index, reopened when a rebuild swapped it."""
        with self._lock:
            current = self._current_dir()
            if current is not None and current != self._engine_dir:
                try:
                    self._open(current)
                except IndexOutdated as exc:
                    log.warning("%s: starting a new index; documents are indexed again", exc)
                    current = None
            if current is None:
                current = self._new_dir()
                self._open(current)
                self._swap_to(current)
                # a new (or other-engine) index holds nothing yet: everything is pending
                self.catalog.queue.mark_all_unindexed()
            return self._engine

    def _open(self, path: Path) -> None:
        if self._engine is not None:
            self._engine.close()
        self._engine = engine_class(self.engine_name)(path, tz=self.config.tz)
        self._engine_dir = path

    def _new_dir(self) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        path = self.root / f"{self.engine_name}-{stamp}-{os.getpid()}"
        path.mkdir(parents=True)
        return path

    def _swap_to(self, path: Path) -> None:
        current = self.config.layout.search_current
        tmp = current.with_name(f".{current.name}.{os.getpid()}.tmp")
        tmp.write_text(path.name + "\n", encoding="utf-8")
        os.replace(tmp, current)

    # ------------------------------------------------------------ reading

    def search(self, request: SearchRequest) -> SearchResults:
        if request.q and not request.legal_aliases:
            aliases = self.legal_aliases(query_keys(request.q))
            if aliases:
                request = replace(request, legal_aliases=aliases)
        engine = self.engine()
        try:
            return engine.search(request, self._text_of)
        except Exception:
            # A rebuild may have swapped the index meanwhile (this engine closed by another
            # thread, or its files removed by another process): search the current index
            # once more. A second failure is a real error and propagates.
            with self._lock:
                if self._engine is engine:
                    self._engine_dir = None   # reopen it: its files may be gone
            return self.engine().search(request, self._text_of)

    def _text_of(self, doc_id: str) -> str:
        return self.catalog.documents.text_of(doc_id)

    def document(self, doc_id: str) -> Document | None:
        return self.catalog.documents.get(doc_id)

    # ------------------------------------------------------------ legal links

    def cites(self, doc_id: str) -> list[Citation]:
        """Texts the document cites ("cite"), each with its Légifrance link and local copies."""
        doc = self.catalog.documents.get(doc_id)
        return citations.cites(self.catalog, doc) if doc else []

    def cited_by(self, doc_id: str) -> list[Document]:
        """Documents of the catalog citing this legal text ("cité par"), newest first."""
        doc = self.catalog.documents.get(doc_id)
        return citations.cited_by(self.catalog, doc) if doc else []

    def same_as(self, doc_id: str) -> list[Document]:
        """The same legal text from other sources (feed item, API text, library PDF)."""
        doc = self.catalog.documents.get(doc_id)
        return citations.same_as(self.catalog, doc) if doc else []

    def legal_ids(self, doc_ids) -> dict[str, str]:
        """doc id -> legal_id among `doc_ids`: results sharing one are the same text."""
        return citations.legal_ids(self.catalog, doc_ids)

    def legal_aliases(self, keys) -> dict[str, tuple[str, ...]]:
        """For each key naming a text of the catalog, the text's other keys (NOR, ELI, date)."""
        found = self.catalog.legal_keys.documents(keys, "self")
        docs = self.catalog.documents.get_many({i for ids in found.values() for i in ids})
        aliases = {}
        for key, ids in found.items():
            if is_date_key(key):  # a date names no text alone: no aliases from it
                continue
            others = [k for i in ids if i in docs for k in docs[i].extra.get("legal_ids", ()) if k != key]
            if others:
                aliases[key] = tuple(dict.fromkeys(others))
        return aliases

    def similar(self, doc_id: str, limit: int = 5) -> list[Document]:
        ids = self.engine().more_like_this(doc_id, limit, self._text_of)
        docs = self.catalog.documents.get_many(ids)
        return [docs[i] for i in ids if i in docs]

    def stats(self) -> dict:
        """Every catalog document, even those with no extracted text."""
        return {
            "documents": self.catalog.documents.count(),
            "by_source": self.catalog.documents.counts_by("source"),
            "by_kind": self.catalog.documents.counts_by("kind"),
            "pending": self.catalog.queue.pending_count(),
        }

    # ------------------------------------------------------------ writing

    def index_pending(self, progress: Progress = no_progress) -> IndexReport:
        """Apply the catalog's pending changes to the index, a batch per commit.

        Each batch is marked indexed after its commit; a crash in between only means the
        batch is indexed again next time (adding replaces by id).
        """
        with index_write_lock(self.config.layout):
            return self._index_pending(progress)

    def _index_pending(self, progress: Progress) -> IndexReport:
        started = time.monotonic()
        engine = self.engine()
        deletions = self.catalog.queue.deletions()
        deleted = 0
        if deletions:
            deleted = engine.delete(deletions)
            self.catalog.queue.mark_indexed([], deleted=deletions)
        total = self.catalog.queue.pending_count()
        done = 0
        progress(0, total, "")
        # bounded: documents re-queued while we run wait for the next call
        while done < total:
            batch, revisions = self.catalog.queue.pending_batch(limit=BATCH)
            if not batch:
                break
            engine.add(batch)
            self.catalog.queue.mark_indexed([doc.id for doc in batch], revisions=revisions)
            done += len(batch)
            progress(min(done, total), total, batch[-1].title)
        return IndexReport(indexed=done, deleted=deleted, seconds=time.monotonic() - started,
                           engine=self.engine_name)

    def rebuild(self, progress: Progress = no_progress) -> IndexReport:
        """Index the whole catalog into a fresh directory, then swap it in atomically."""
        with index_write_lock(self.config.layout):
            return self._rebuild(progress)

    def _rebuild(self, progress: Progress) -> IndexReport:
        started = time.monotonic()
        deletions = self.catalog.queue.deletions()
        total = self.catalog.documents.count()
        # read before the documents: one changed during the rebuild stays pending
        revisions = self.catalog.queue.revisions()
        path = self._new_dir()
        ids: list[str] = []

        def documents() -> Iterator[Document]:
            for doc in self.catalog.documents.iter_all():
                ids.append(doc.id)
                progress(len(ids), total, doc.title)
                yield doc

        fresh = engine_class(self.engine_name)(path, tz=self.config.tz)
        try:
            progress(0, total, "")
            fresh.add(documents())
        except BaseException:
            fresh.close()
            shutil.rmtree(path, ignore_errors=True)
            raise
        fresh.close()
        with self._lock:
            old = self._engine_dir
            self._swap_to(path)
            self._open(path)
        self.catalog.queue.mark_indexed(ids, deleted=deletions, revisions=revisions)
        self._remove_old_indexes(keep=path)
        log.info("rebuilt the %s index: %d documents (previous: %s)", self.engine_name, len(ids), old)
        return IndexReport(indexed=len(ids), deleted=len(deletions),
                           seconds=time.monotonic() - started, engine=self.engine_name, rebuilt=True)

    def _remove_old_indexes(self, keep: Path) -> None:
        for entry in self.root.iterdir():
            if entry.is_dir() and entry != keep:
                shutil.rmtree(entry, ignore_errors=True)

    def optimize(self) -> None:
        with index_write_lock(self.config.layout):
            self.engine().optimize()

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
                self._engine_dir = None
        self.catalog.close()
