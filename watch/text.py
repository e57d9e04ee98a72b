"""Text out of fetched content, never parsed in the crawler process itself.

Whatever a site serves (a 40 MB page of tiny elements, a feed of a million entries) is read
in the indexer's bounded worker process, under its time and memory limits: the crawler
process stays small, and a page over the limits fails alone, with its reason. One worker
serves a whole crawl run (it starts on first use); calls from the crawl's threads take
turns, as they would for the GIL anyway.
"""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

from indexer.extract import DEFAULT_LIMITS, BoundedExtractor, Extracted, Limits, failed, finish
from indexer.extract.bounded import WorkerLimitExceeded
from indexer.extract.html import extract_html_text, html_to_text
from watch.errors import ParseError

T = TypeVar("T")


def read_html(html: str, limits: Limits = DEFAULT_LIMITS) -> Extracted:
    """A fetched page's text and metadata (run in the worker by `FileReader.read_html`)."""
    return finish(extract_html_text(html), limits)


class FileReader:
    """Reads fetched files, pages and feeds in one worker process under size, time and
    memory limits (content from the web is not trusted)."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._extractor: BoundedExtractor | None = None
        self._lock = threading.Lock()

    def _worker(self) -> BoundedExtractor:
        if self._extractor is None:
            self._extractor = BoundedExtractor(self._limits)
        return self._extractor

    def extract(self, data: bytes, filename: str = "", content_type: str = "") -> Extracted:
        """A downloaded file (PDF, office document...): its text, or an `error` with the reason."""
        with self._lock:
            return self._worker().extract(data, filename, content_type)

    def read_html(self, html: str) -> Extracted:
        """A fetched HTML page: its main text and metadata, or an `error` with the reason."""
        if len(html) > self._limits.max_bytes:
            return failed(f"page trop volumineuse ({len(html) / 1048576:.0f} Mo) : non lue")
        try:
            with self._lock:
                return self._worker().run(read_html, html, self._limits)
        except WorkerLimitExceeded as exc:
            return failed(f"page illisible dans les limites de lecture : {exc}")

    def parse(self, function: Callable[..., T], *args, url: str = "", **kwargs) -> T:
        """`function(*args, **kwargs)`, a pure parser of fetched bytes, run in the worker;
        its ParseError comes back as is, a run over the limits becomes a ParseError."""
        try:
            with self._lock:
                return self._worker().run(function, *args, **kwargs)
        except WorkerLimitExceeded as exc:
            raise ParseError(f"contenu illisible dans les limites de lecture : {exc}", url=url,
                             hint="page ou flux démesuré ; le robot réessaiera plus tard") from None

    def close(self) -> None:
        with self._lock:
            if self._extractor is not None:
                self._extractor.close()
                self._extractor = None


__all__ = ["FileReader", "html_to_text", "read_html"]
