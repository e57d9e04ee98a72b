"""PDF with pypdf: text page by page, metadata, and a clear reason when there is no text.

Pages are kept apart (`Extracted.pages`) so search results can point at a page. Encrypted
files are tried with the empty password (many "protected" PDFs only restrict printing);
a file that needs a real password, a corrupt one, or one made of scanned images gets a
status and a reason a librarian understands.
"""

from __future__ import annotations

import io
import logging
import re

from indexer.extract import DEFAULT_LIMITS, STATUS_EMPTY, STATUS_ERROR, Extracted, failed
from indexer.extract.common import first_heading, normalize_text, parse_date

log = logging.getLogger(__name__)
# pypdf warns on every odd xref or font of real-world files; the status and reason we
# record say what matters, so its chatter would only bury our own log lines.
logging.getLogger("pypdf").setLevel(logging.ERROR)

REASON_PASSWORD = "PDF protégé par un mot de passe : texte illisible sans ce mot de passe"
REASON_SCANNED = "pas de couche texte : document numérisé (images seules, reconnaissance de caractères nécessaire)"
REASON_NO_TEXT = "aucun texte trouvé dans le PDF"
REASON_CORRUPT = "PDF endommagé ou tronqué : structure illisible"
REASON_NO_PAGES = "PDF sans aucune page lisible"

# Titles that say nothing about the document (producer defaults).
_USELESS_TITLE = re.compile(
    r"^(untitled( document)?|sans titre|document\d*|titre|title|microsoft word|page \d+|\W*)$|\.(docx?|pdf|odt|rtf|indd|qxd)$",
    re.IGNORECASE)
_WORD_PREFIX = re.compile(r"^Microsoft (Word|PowerPoint|Excel) - ", re.IGNORECASE)


def _clean_title(value) -> str:
    title = normalize_text(str(value or "")).replace("\n", " ").strip()
    title = _WORD_PREFIX.sub("", title)
    if _USELESS_TITLE.search(title):
        return ""
    return title


def _authors(value) -> tuple[str, ...]:
    text = normalize_text(str(value or "")).replace("\n", " ")
    parts = (part.strip() for part in re.split(r"\s*;\s*", text))
    return tuple(p for p in parts if p and p.lower() not in _NO_AUTHOR)


# what PDF producers write when nobody filled the author in
_NO_AUTHOR = {"anonymous", "unknown", "inconnu", "user", "utilisateur", "admin", "administrator",
              "administrateur", "auteur", "author", "owner"}


def _page_has_images(page) -> bool:
    """Whether the page draws images (XObjects or inline), without decoding them."""
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else {}
        xobjects = resources.get("/XObject") if resources else None
        if xobjects is not None:
            for ref in xobjects.get_object().values():
                if ref.get_object().get("/Subtype") == "/Image":
                    return True
                if ref.get_object().get("/Subtype") == "/Form":
                    return True  # scanners often wrap the image in a form XObject
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        return b"BI" in data and b"ID" in data
    except Exception:  # malformed resources: do not guess "scanned"
        return False


def _metadata(reader) -> dict:
    """Title, authors, dates and language from the /Info dictionary; {} when unreadable."""
    out: dict = {}
    try:
        info = reader.metadata
    except Exception as exc:
        log.debug("unreadable PDF metadata: %s", exc)
        info = None
    if info:
        try:
            out["title"] = _clean_title(info.get("/Title"))
            out["authors"] = _authors(info.get("/Author"))
            out["published"] = (parse_date(_text(info.get("/CreationDate")))
                                or parse_date(_text(info.get("/ModDate"))))
            out["subject"] = normalize_text(_text(info.get("/Subject")))
        except Exception as exc:
            log.debug("odd PDF metadata: %s", exc)
    try:
        lang = reader.trailer["/Root"].get_object().get("/Lang")
        if lang:
            out["language"] = _text(lang).replace("_", "-").split("-")[0].lower()[:2]
    except Exception:
        pass
    return out


def _text(value) -> str:
    if value is None:
        return ""
    try:
        value = value.get_object()
    except AttributeError:
        pass
    if isinstance(value, bytes):
        return value.decode("latin-1", errors="replace")
    return str(value)


def _open(data: bytes):
    """A PdfReader, or an `Extracted` failure saying why the file cannot be opened."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            AssertionError, OSError, EOFError) as exc:
        log.debug("cannot open PDF: %s: %s", type(exc).__name__, exc)
        return failed(REASON_CORRUPT)
    if reader.is_encrypted:
        try:
            result = reader.decrypt("")
        except DependencyError:
            return failed("PDF chiffré avec un algorithme non pris en charge (module cryptography absent)")
        except (FileNotDecryptedError, PdfReadError, NotImplementedError, ValueError, KeyError) as exc:
            log.debug("cannot decrypt PDF: %s", exc)
            return failed(REASON_PASSWORD)
        if not result:
            return failed(REASON_PASSWORD)
    return reader


def extract_pdf(data: bytes, *, max_pages: int = DEFAULT_LIMITS.max_pages) -> Extracted:
    reader = _open(data)
    if isinstance(reader, Extracted):
        return reader
    try:
        page_count = len(reader.pages)
    except Exception as exc:
        log.debug("cannot count PDF pages: %s: %s", type(exc).__name__, exc)
        return failed(REASON_CORRUPT)
    meta = _metadata(reader)
    fields = dict(title=meta.get("title", ""), authors=meta.get("authors", ()),
                  published=meta.get("published"), language=meta.get("language", ""),
                  page_count=page_count)
    if page_count == 0:
        return failed(REASON_NO_PAGES, **fields)

    pages: list[str] = []
    broken = 0
    with_images: list[int] = []   # pages drawing images but holding no text: scanned
    for number in range(min(page_count, max_pages)):
        try:
            page = reader.pages[number]
            text = page.extract_text() or ""
        except Exception as exc:  # one bad page must not lose the others
            log.debug("PDF page %d unreadable: %s: %s", number + 1, type(exc).__name__, exc)
            pages.append("")
            broken += 1
            continue
        if not text.strip() and _page_has_images(page):
            with_images.append(number)
        pages.append(text)

    read = len(pages)
    notes = []
    if page_count > read:
        notes.append(f"seules les {read} premières pages sur {page_count} ont été lues")
    if broken:
        notes.append(f"{broken} page(s) illisible(s)")
    clean_pages = [normalize_text(p) for p in pages]
    text = "\f".join(clean_pages)
    if not text.replace("\f", "").strip():
        if broken == read:
            return failed(REASON_CORRUPT, **fields)
        reason = REASON_SCANNED if with_images else REASON_NO_TEXT
        return Extracted(text="", pages=tuple(clean_pages), status=STATUS_EMPTY,
                         reason="; ".join([reason, *notes]), image_pages=tuple(with_images), **fields)
    if not fields["title"]:
        fields["title"] = first_heading(next(p for p in clean_pages if p.strip()))
    return Extracted(text=text, pages=tuple(clean_pages), reason="; ".join(notes),
                     image_pages=tuple(with_images), **fields)


__all__ = ["extract_pdf", "REASON_CORRUPT", "REASON_NO_TEXT", "REASON_PASSWORD", "REASON_SCANNED",
           "STATUS_ERROR"]
