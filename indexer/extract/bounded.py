"""Extraction under a time and memory limit, in a worker process that can be killed.

A hostile or pathological file (a decompression bomb, a PDF whose content stream loops, a
100 000-page report) must not stall a library sync. `BoundedExtractor` keeps one worker
process alive across documents (starting Python and importing pypdf costs more than most
extractions) and sends it one file at a time; when a file overruns its time limit, or the
worker dies, the worker is killed and replaced, and the file gets an `error` status with the
reason. The worker's address space is capped, so memory blow-ups end in a MemoryError
inside the worker rather than in the host's OOM killer (the cap is inherited by the OCR
programs the worker starts).

Before a character recognition, the worker sends `Extend(seconds)`: the host then waits
that much longer for this file (OCR bounds its own run by `Limits.ocr_timeout`), so the
ordinary time limit stays short for everything else.

`run(function, *args)` sends any module-level function the same way (the crawler parses
fetched pages and feeds there): its result comes back, its exception is raised again in the
host, and a run cut off by the limits raises `WorkerLimitExceeded`.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from dataclasses import dataclass
from typing import Callable

from indexer.extract import DEFAULT_LIMITS, Extracted, Limits, extract, failed, too_big_reason
from veille.core.errors import VeilleError

log = logging.getLogger(__name__)
GRACE = 10.0     # seconds the host allows beyond an announced OCR run, to gather its result


@dataclass(frozen=True)
class Extend:
    """Sent by the worker: this file needs `seconds` more (a character recognition)."""

    seconds: float


_EXTRACT = "extract"    # job kinds sent to the worker
_RUN = "run"


class WorkerLimitExceeded(VeilleError):
    """A function run in the worker went over its time or memory limit (or killed the worker)."""

    code = "limits"


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
        kind, payload = job
        if kind == _RUN:
            _run_job(conn, *payload)
            continue
        data, filename, content_type, limits = payload

        def announce(seconds: float) -> None:
            conn.send(Extend(seconds))

        try:
            result = function(data, filename=filename, content_type=content_type, limits=limits,
                              announce=announce)
        except MemoryError:
            result = failed("fichier trop gourmand en mémoire pour être lu")
        try:
            conn.send(result)
        except MemoryError:
            conn.send(failed("texte extrait trop volumineux"))


def _run_job(conn, function: Callable, args: tuple, kwargs: dict) -> None:
    """One `BoundedExtractor.run` call: sends ("ok", result) or ("error", exception)."""
    try:
        answer = ("ok", function(*args, **kwargs))
    except MemoryError:
        answer = ("limit", "trop gourmand en mémoire")
    except RecursionError:
        answer = ("limit", "structure trop profonde")
    except Exception as exc:  # the caller's own errors (a ParseError) are raised in the host
        answer = ("error", exc)
    del args, kwargs
    try:
        conn.send(answer)
    except MemoryError:
        conn.send(("limit", "résultat trop volumineux"))
    except Exception as exc:  # an exception that does not pickle: its message is enough
        conn.send(("error", RuntimeError(f"{type(answer[1]).__name__}: {answer[1]}")
                   if answer[0] == "error" else exc))


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
            self._conn.send((_EXTRACT, (data, filename, content_type, self.limits)))
            allowed = self.limits.timeout
            deadline = time.monotonic() + allowed
            while True:
                if not self._conn.poll(max(0.0, deadline - time.monotonic())):
                    log.warning("lecture de %s : plus de %s s, le lecteur est arrêté", filename, allowed)
                    self._kill()
                    return failed(f"extraction interrompue : plus de {allowed:g} s "
                                  "pour ce fichier (fichier trop lourd ou piégé)")
                message = self._conn.recv()
                if not isinstance(message, Extend):
                    return message
                allowed += message.seconds + GRACE
                deadline += message.seconds + GRACE
        except (EOFError, OSError, BrokenPipeError) as exc:
            code = self._process.exitcode if self._process is not None else None
            log.warning("le lecteur de fichiers s'est arrêté sur %s (code %s) : %s", filename, code, exc)
            self._kill()
            return failed("extraction interrompue : le lecteur de fichiers s'est arrêté sur ce "
                          "fichier (fichier corrompu ou trop gourmand en mémoire)")

    def run(self, function: Callable, *args, **kwargs):
        """`function(*args, **kwargs)` in the worker, under the time and memory limits.

        `function` must be importable by name (a module-level function). Its exceptions are
        raised again here; a run over the limits raises `WorkerLimitExceeded`, and the
        worker is replaced for the next call.
        """
        name = getattr(function, "__qualname__", repr(function))
        if self._process is None or not self._process.is_alive():
            self._kill()
            self._start()
        try:
            self._conn.send((_RUN, (function, args, kwargs)))
            if not self._conn.poll(self.limits.timeout):
                log.warning("%s : plus de %s s dans le lecteur, il est arrêté", name, self.limits.timeout)
                self._kill()
                raise WorkerLimitExceeded(f"plus de {self.limits.timeout:g} s de lecture")
            status, value = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            code = self._process.exitcode if self._process is not None else None
            log.warning("le lecteur s'est arrêté pendant %s (code %s) : %s", name, code, exc)
            self._kill()
            raise WorkerLimitExceeded("le lecteur s'est arrêté (contenu trop gourmand en mémoire)") from None
        if status == "ok":
            return value
        if status == "limit":
            self._kill()  # a worker that ran out of memory is not trusted with the next job
            raise WorkerLimitExceeded(value)
        raise value


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


__all__ = ["BoundedExtractor", "Extend", "WorkerLimitExceeded", "extract_bounded", "worker_pid"]
