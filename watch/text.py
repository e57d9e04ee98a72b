"""Text out of fetched bytes, through the indexer's extractors (the crawler never parses
PDF or DOCX itself)."""

from __future__ import annotations

try:
    from indexer.extract.html import html_to_text
except ImportError:  # until the extractor lands on main
    from bs4 import BeautifulSoup

    def html_to_text(html: str) -> str:
        soup = BeautifulSoup(html, "html.parser")
        for tag in soup(["script", "style", "noscript"]):
            tag.decompose()
        return soup.get_text("\n").strip()


def extract_file(data: bytes, filename: str = "", content_type: str = ""):
    """Text and metadata of a downloaded file (an `indexer.extract.Extracted`).

    Files from the web are not trusted: the bounded extractor reads them in a worker
    process under size and time limits."""
    try:
        from indexer.extract import extract_bounded
    except ImportError:
        from indexer.extract import extract as extract_bounded
    return extract_bounded(data, filename=filename, content_type=content_type)


__all__ = ["extract_file", "html_to_text"]
