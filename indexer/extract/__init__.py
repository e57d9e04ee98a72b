"""Text and metadata out of document bytes: one module per format, one entry point.

`extract(data, filename=..., content_type=...)` picks the format from magic bytes, content
type and file extension, and returns an `Extracted` record. It never raises on bad input:
a corrupt, protected or unsupported file gives `status="error"` (or `"empty"` when there is
simply no text) with a `reason` in plain French, shown to users beside the file.

Each format module (`pdf`, `html`, `docx`, `odt`, `text`) exposes a pure
`extract_<format>(data: bytes) -> Extracted`. Scanned PDF pages and images (PNG, JPEG, TIFF)
are read by optical character recognition (`ocr`) when `Limits.ocr` allows it.
`indexer.extract.bounded.extract_bounded` runs `extract` in a worker process under a size
and time limit, for files we do not trust.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

log = logging.getLogger(__name__)

STATUS_OK = "ok"
STATUS_EMPTY = "empty"      # the file was read, but holds no text (scanned, blank)
STATUS_ERROR = "error"      # the file could not be read (corrupt, protected, unsupported)

# Formats `detect_format` can return; "" means unsupported.
FORMATS = ("pdf", "html", "docx", "odt", "text", "image")


@dataclass(frozen=True)
class Extracted:
    """What extraction got out of one file."""

    text: str
    title: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    language: str = ""                # ISO 639-1 code ("fr", "en"), "" when unknown
    pages: tuple[str, ...] = ()       # text of each page (PDF), for page-numbered snippets
    status: str = STATUS_OK           # ok | empty | error
    reason: str = ""                  # why status is not ok, in plain French
    page_count: int | None = None
    doc_type_hint: str = ""           # e.g. "rapport" when the file says what it is
    image_pages: tuple[int, ...] = () # PDF pages (0-based) with images and no text: scanned
    ocr_pages: int = 0                # pages whose text came from character recognition

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK


@dataclass(frozen=True)
class Limits:
    """Bounds on one document, so a hostile or huge file cannot stall indexing."""

    max_bytes: int = 100 * 1024 * 1024     # larger files are listed but not read
    timeout: float = 120.0                 # seconds of extraction per document (worker process)
    max_pages: int = 3000                  # PDF pages read; the rest is cut off, with a note
    max_chars: int = 10_000_000            # characters of text kept per document
    max_memory: int = 2 * 1024 * 1024 * 1024   # address space of the worker process, bytes
    # Character recognition of scanned pages and images: off unless the configuration
    # turns it on (`extraction.ocr`); pages and seconds per document, on top of `timeout`.
    ocr: bool = False
    ocr_languages: str = "fra+eng"
    ocr_max_pages: int = 100
    ocr_timeout: float = 900.0

    @classmethod
    def from_config(cls, extraction) -> "Limits":
        """Limits from `sources.yaml`'s `extraction:` section (veille.core.config.ExtractionConfig)."""
        return cls(max_bytes=int(extraction.max_file_mb * 1024 * 1024), timeout=extraction.timeout,
                   max_pages=extraction.max_pages, ocr=extraction.ocr,
                   ocr_languages=extraction.ocr_languages, ocr_max_pages=extraction.ocr_max_pages,
                   ocr_timeout=extraction.ocr_timeout)


DEFAULT_LIMITS = Limits()


def failed(reason: str, **fields) -> Extracted:
    """An `error` result with its reason (and whatever metadata could still be read)."""
    return Extracted(text="", status=STATUS_ERROR, reason=reason, **fields)


_EXTENSIONS = {
    ".pdf": "pdf",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".docx": "docx",
    ".odt": "odt",
    ".txt": "text", ".text": "text", ".md": "text", ".markdown": "text", ".csv": "text",
    ".rst": "text",
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image", ".tiff": "image",
}

_CONTENT_TYPES = {
    "application/pdf": "pdf", "application/x-pdf": "pdf",
    "text/html": "html", "application/xhtml+xml": "html",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
    "text/plain": "text", "text/markdown": "text", "text/x-markdown": "text", "text/csv": "text",
    "image/png": "image", "image/jpeg": "image", "image/tiff": "image",
}
# Magic numbers of the images OCR reads, with the suffix OCRmyPDF recognises them by.
_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"II*\x00", ".tif"),
                (b"MM\x00*", ".tif"))


def _sniff(data: bytes) -> str:
    """Format from the first bytes, or "" when they say nothing conclusive."""
    head = data[:1024]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    if image_suffix(data):
        return "image"
    if data.startswith(b"PK\x03\x04"):
        # ODF puts an uncompressed `mimetype` entry first; OOXML has word/document.xml
        if b"mimetypeapplication/vnd.oasis.opendocument.text" in data[:200]:
            return "odt"
        if b"word/" in data[:65536] or b"[Content_Types].xml" in data[:65536]:
            return "docx"
        return "zip"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered[:512]:
        return "html"
    return ""


def detect_format(data: bytes, filename: str = "", content_type: str = "") -> str:
    """One of FORMATS, or "" when the file is of a kind we cannot read."""
    sniffed = _sniff(data)
    if sniffed in ("pdf", "docx", "odt", "image"):
        return sniffed  # magic bytes beat a wrong extension or header
    ctype = content_type.split(";")[0].strip().lower()
    suffix = ""
    if "." in filename:
        suffix = "." + filename.rsplit(".", 1)[1].lower()
    by_name = _EXTENSIONS.get(suffix, "")
    by_type = _CONTENT_TYPES.get(ctype, "")
    if sniffed == "zip":
        return by_name if by_name in ("docx", "odt") else ""
    if by_name == "image" or by_type == "image":
        return ""  # called an image, but not one by its bytes: nothing OCR could read
    if by_name:
        return by_name
    if by_type:
        return by_type
    if sniffed:
        return sniffed
    if ctype.startswith("text/") or (not ctype and _looks_like_text(data)):
        return "text"
    return ""


def _looks_like_text(data: bytes) -> bool:
    sample = data[:4096]
    if not sample or b"\x00" in sample.replace(b"\x00\x00", b"") and not sample.startswith(
            (b"\xff\xfe", b"\xfe\xff")):
        return False
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control / len(sample) < 0.02


def image_suffix(data: bytes) -> str:
    """".png", ".jpg" or ".tif" when `data` starts as such an image does, else ""."""
    for magic, suffix in _IMAGE_MAGIC:
        if data.startswith(magic):
            return suffix
    return ""


_LABELS = {"pdf": "PDF", "html": "page HTML", "docx": "document Word (DOCX)",
           "odt": "document OpenDocument (ODT)", "text": "fichier texte", "image": "image"}


def _extractor(fmt: str):
    # Imported on demand: a plain-text sync should not pay for pypdf or python-docx.
    if fmt == "pdf":
        from indexer.extract.pdf import extract_pdf
        return extract_pdf
    if fmt == "html":
        from indexer.extract.html import extract_html
        return extract_html
    if fmt == "docx":
        from indexer.extract.docx import extract_docx
        return extract_docx
    if fmt == "odt":
        from indexer.extract.odt import extract_odt
        return extract_odt
    from indexer.extract.text import extract_text
    return extract_text


REASON_UNSUPPORTED = ("format non pris en charge (PDF, HTML, DOCX, ODT, texte, Markdown ou "
                      "image PNG, JPEG, TIFF attendus)")


def extract(data: bytes, *, filename: str = "", content_type: str = "",
            limits: Limits = DEFAULT_LIMITS, announce=None) -> Extracted:
    """Text and metadata of a file's bytes; never raises on bad input.

    Size, page and text limits apply here; the time limit needs a worker process, see
    `extract_bounded`. `announce(seconds)`, when given, is called before a character
    recognition, which may take that much longer than `limits.timeout`.
    """
    if not data:
        return Extracted(text="", status=STATUS_EMPTY, reason="fichier vide")
    fmt = detect_format(data, filename, content_type)
    if not fmt:
        return failed(REASON_UNSUPPORTED)
    if len(data) > limits.max_bytes:
        return failed(too_big_reason(len(data), limits))
    try:
        if fmt == "pdf":
            from indexer.extract import ocr
            from indexer.extract.pdf import REASON_SCANNED

            result = _extractor(fmt)(data, max_pages=limits.max_pages)
            result = ocr.complete_pdf(data, result, limits, announce, scanned_reason=REASON_SCANNED)
        elif fmt == "image":
            from indexer.extract import ocr

            result = ocr.extract_image(data, image_suffix(data), limits, announce)
        else:
            result = _extractor(fmt)(data)
    except MemoryError:
        return failed("fichier trop volumineux pour être lu en mémoire")
    except RecursionError:
        return failed(f"{_LABELS[fmt]} illisible : structure trop profonde ou cyclique")
    except Exception as exc:  # a broken file must not stop the others
        log.warning("lecture de %s (%s) impossible : %s : %s", filename or "<octets>", fmt,
                    type(exc).__name__, exc)
        return failed(f"{_LABELS[fmt]} illisible ou endommagé ({type(exc).__name__})")
    return finish(result, limits)


def too_big_reason(size: int, limits: Limits) -> str:
    return (f"fichier trop volumineux ({size / 1048576:.0f} Mo, limite "
            f"{limits.max_bytes / 1048576:.0f} Mo) : non lu")


def finish(result: Extracted, limits: Limits = DEFAULT_LIMITS) -> Extracted:
    """Common clean-up: normalised text, language guess, `empty` status for blank text."""
    from indexer.extract.common import guess_language, normalize_text

    text = normalize_text(result.text)
    pages = tuple(normalize_text(page) for page in result.pages)
    title = normalize_text(result.title).replace("\n", " ")
    status, reason = result.status, result.reason
    if len(text) > limits.max_chars:
        text = text[: limits.max_chars]
        note = f"texte tronqué aux {limits.max_chars:,} premiers caractères".replace(",", " ")
        reason = f"{reason} ; {note}" if reason else note
    if status == STATUS_OK and not text.strip():
        status, reason = STATUS_EMPTY, reason or "aucun texte trouvé dans le fichier"
    language = result.language or guess_language(text)
    return replace(result, text=text, pages=pages, title=title, status=status, reason=reason,
                   language=language)


from indexer.extract.bounded import BoundedExtractor, extract_bounded  # noqa: E402  (re-export)

__all__ = ["BoundedExtractor", "DEFAULT_LIMITS", "Extracted", "Limits", "STATUS_EMPTY", "STATUS_ERROR", "STATUS_OK", "detect_format",
           "extract", "extract_bounded", "failed", "finish"]
