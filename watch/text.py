"""Text out of fetched bytes, through the indexer's extractors: the crawler never parses
PDF, DOCX or HTML bodies itself."""

from __future__ import annotations

from indexer.extract import DEFAULT_LIMITS, BoundedExtractor, Extracted, Limits
from indexer.extract.html import html_to_text


class FileReader:
    """Extracts downloaded files in a worker process under size and time limits (files from
    the web are not trusted); the worker starts on first use and serves a whole crawl run."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._extractor: BoundedExtractor | None = None

    def extract(self, data: bytes, filename: str = "", content_type: str = "") -> Extracted:
        if self._extractor is None:
            self._extractor = BoundedExtractor(self._limits)
        return self._extractor.extract(data, filename, content_type)

    def close(self) -> None:
        if self._extractor is not None:
            self._extractor.close()
            self._extractor = None


__all__ = ["FileReader", "html_to_text"]
