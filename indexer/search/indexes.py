"""Index directories on disk: which one is in use, new ones, the swap, the write lock.

Indexes live in `<data_dir>/search/<engine>-<stamp>/`; the file `search/CURRENT` names the
one in use. A rebuild fills a fresh directory, then swaps CURRENT atomically (rename), so
searches keep working during the rebuild and other processes (the web) switch to the new
index at their next search.

Every write to the indexes (incremental batches, rebuilds, optimisation) and every backup
copy of them holds one cross-process lock, `search/.write.lock`: a backup never copies half
a commit, and a batch indexed by another process during a rebuild cannot land in the old
index just before it is swapped out.
"""

from __future__ import annotations

import fcntl
import importlib
import os
import shutil
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from indexer.search.backend import Backend
from veille.core.errors import VeilleError
from veille.core.layout import DataDir

# Engine name (sources.yaml `search: {engine: ...}`) -> "module:Class", imported on first use.
BACKENDS = {
    "tantivy": "indexer.search.tantivy_backend:TantivyBackend",
    "whoosh": "indexer.search.whoosh_backend:WhooshBackend",
}


class IndexBusy(VeilleError):
    """The index write lock could not be had in time."""

    code = "index_busy"


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
                    raise IndexBusy(f"l'index de recherche de {path.parent} est resté occupé {timeout:.0f} s",
                                    hint="réessayez quand l'indexation en cours sera finie") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def backend_class(engine: str) -> type:
    try:
        target = BACKENDS[engine]
    except KeyError:
        raise VeilleError(f"moteur de recherche inconnu « {engine} »",
                          hint=f"un de : {', '.join(BACKENDS)}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def engine_of(path: Path) -> str:
    """The engine that wrote an index directory, from its name (`tantivy-<stamp>`)."""
    return path.name.split("-", 1)[0]


def open_backend(path: Path, *, create: bool = False) -> Backend:
    return backend_class(engine_of(path))(path, create=create)


def current_index(layout: DataDir) -> Path | None:
    """The index directory in use, or None (none yet, or gone)."""
    try:
        name = layout.search_current.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = layout.search / name
    if not name or "/" in name or name.startswith(".") or engine_of(path) not in BACKENDS \
            or not path.is_dir():
        return None
    return path


def stale_reason(backend: Backend, engine: str) -> str | None:
    """Why `backend` must be rebuilt before it takes new documents (in French), or None."""
    if backend.name != engine:
        return (f"l'index de recherche a été construit avec le moteur {backend.name}, la "
                f"configuration demande {engine} : lancez « veille index --rebuild »")
    if not backend.writable:
        return ("l'index de recherche date d'une version précédente de Veille : il répond aux "
                "recherches mais ne reçoit plus de documents ; lancez « veille index --rebuild »")
    return None


def check_index(layout: DataDir, engine: str) -> str | None:
    """What `veille check` says of the index in use, without creating one; None if all is well."""
    path = current_index(layout)
    if path is None:
        return None
    try:
        backend = open_backend(path)
    except VeilleError as exc:
        return str(exc)
    try:
        return stale_reason(backend, engine)
    finally:
        backend.close()


def new_index_dir(layout: DataDir, engine: str) -> Path:
    backend_class(engine)   # an unknown engine fails before anything is made
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = layout.search / f"{engine}-{stamp}-{os.getpid()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def make_current(layout: DataDir, path: Path) -> None:
    tmp = layout.search / f".{layout.search_current.name}.{os.getpid()}.tmp"
    tmp.write_text(path.name + "\n", encoding="utf-8")
    os.replace(tmp, layout.search_current)


def remove_other_indexes(layout: DataDir, keep: Path) -> None:
    for entry in layout.search.iterdir():
        if entry.is_dir() and entry != keep:
            shutil.rmtree(entry, ignore_errors=True)
