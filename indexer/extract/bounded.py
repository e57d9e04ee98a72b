"""Extraction under a time and memory limit, in a worker process that can be killed.

A hostile or pathological file (a decompression bomb, a PDF whose content stream loops, a
100 000-page report) must not stall a library sync. `BoundedExtractor` keeps one worker
process alive across documents (starting Python and importing pypdf costs more than most
extractions) and sends it one file at a time; when a file overruns its time limit, or the
worker dies, the worker is killed and replaced, and the file gets an `error` status with the
reason. The worker's address space is capped, so memory blow-ups end in a MemoryError
inside the worker rather than in the host's OOM killer.
"""

from __future__ import annotations

import logging
import multiprocessing
from typing import Callable

from indexer.extract import DEFAULT_LIMITS, Extracted, Limits, extract, failed, too_big_reason

log = logging.getLogger(__name__)


def _worker_main(conn, max_memory: int, function: Callable[..., Extracted]) -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = max_memory if hard == resource.RLIM_INFINITY else min(max_memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: run uncapped
        pass
    # Quiet third-party warnings (pypdf logs every odd xref); the reason field says enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        data, filename, content_type, limits = job
        try:
            result = function(data, filename=filename, content_type=content_type, limits=limits)
        except MemoryError:
            result = failed("fichier trop gourmand en mémoire pour être lu")
        try:
            conn.send(result)
        except MemoryError:
            conn.send(failed("texte extrait trop volumineux"))


class BoundedExtractor:
    """Extracts files one at a time in a disposable worker process.

    Use as a context manager (`with BoundedExtractor(limits) as ex: ex.extract(...)`), or
    call `close()`; the worker is started on first use.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS, function: Callable[..., Extracted] = extract):
        self.limits = limits
        # what the worker runs: `extract`, or a stand-in module-level function in tests
        self.function = function
        # spawn, not fork: the host may run threads (scheduler, web) that fork would copy
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._conn = None

    def __enter__(self) -> "BoundedExtractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child, self.limits.max_memory, self.function),
                                        name="veille-extract", daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def close(self) -> None:
        if self._process is not None and self._process.is_alive():
            try:
                self._conn.send(None)
                self._process.join(2)
            except (OSError, BrokenPipeError):
                pass
        self._kill()

    def extract(self, data: bytes, filename: str = "", content_type: str = "") -> Extracted:
        if len(data) > self.limits.max_bytes:
            return failed(too_big_reason(len(data), self.limits))
        if self._process is None or not self._process.is_alive():
            self._kill()
            self._start()
        try:
            self._conn.send((data, filename, content_type, self.limits))
            if not self._conn.poll(self.limits.timeout):
                log.warning("lecture de %s : plus de %s s, le lecteur est arrêté", filename, self.limits.timeout)
                self._kill()
                return failed(f"extraction interrompue : plus de {self.limits.timeout:g} s "
                              "pour ce fichier (fichier trop lourd ou piégé)")
            return self._conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            code = self._process.exitcode if self._process is not None else None
            log.warning("le lecteur de fichiers s'est arrêté sur %s (code %s) : %s", filename, code, exc)
            self._kill()
            return failed("extraction interrompue : le lecteur de fichiers s'est arrêté sur ce "
                          "fichier (fichier corrompu ou trop gourmand en mémoire)")


def extract_bounded(data: bytes, filename: str = "", content_type: str = "",
                    limits: Limits = DEFAULT_LIMITS) -> Extracted:
    """`extract` in a fresh worker process, cut off after `limits.timeout` seconds.

    For many files in a row, a `BoundedExtractor` reuses one worker and is much faster.
    """
    with BoundedExtractor(limits) as extractor:
        return extractor.extract(data, filename, content_type)


def worker_pid(extractor: BoundedExtractor) -> int | None:
    """The worker's process id (tests check that a stuck worker is really replaced)."""
    return extractor._process.pid if extractor._process is not None else None


__all__ = ["BoundedExtractor", "extract_bounded", "worker_pid"]
