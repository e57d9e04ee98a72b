"""Optical character recognition of scanned PDFs and images, with OCRmyPDF and Tesseract.

It runs inside the extraction worker (`indexer.extract.bounded`), so the worker's memory cap
applies to OCRmyPDF and its Tesseract and Ghostscript children too; on top of it each run is
bounded here: at most `Limits.ocr_max_pages` pages (a PDF is cut to its scanned pages
before OCRmyPDF sees it), at most `Limits.ocr_timeout` seconds (the whole process group is
killed beyond), one core (`--jobs 1`, `OMP_THREAD_LIMIT=1`).

`complete_pdf` fills the pages of a PDF that had no text but images; `extract_image` reads a
PNG, JPEG or TIFF. Text obtained so carries `OCR_NOTE` in its reason, so pages and
results can say where it comes from. Where OCRmyPDF, Tesseract or a language is missing,
`missing` says so in one French line and documents are listed as without OCR.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from indexer.extract import STATUS_EMPTY, STATUS_OK, Extracted, Limits, failed
from indexer.extract.common import first_heading, normalize_text

log = logging.getLogger(__name__)

OCR_NOTE = "texte obtenu par reconnaissance de caractères"
INSTALL_HINT = "apt-get install ocrmypdf tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng"
REASON_IMAGE_NO_OCR = ("image : son texte ne se lit que par reconnaissance de caractères, "
                       "désactivée ou non installée sur ce serveur")
REASON_NOTHING_FOUND = "la reconnaissance de caractères n'a trouvé aucun texte"
IMAGE_DPI = 300          # assumed for images: their pixels are recognised as they are
# ocrmypdf marks the pages --pages left out: "[OCR skipped on page(s) 3-5]"
_SKIPPED = re.compile(r"^\s*\[OCR skipped on page\(s\) ([\d,\- ]+)\]\s*$")

Announce = Callable[[float], None]


@dataclass(frozen=True)
class Recognized:
    pages: tuple[str, ...]      # text of each page recognised, in order
    total_pages: int = 0        # pages of the input (an image file may have several)
    problem: str = ""           # why recognition failed or stopped, in French


# ------------------------------------------------------------------ availability


@functools.lru_cache(maxsize=8)
def _installed_languages(tesseract: str) -> frozenset[str]:
    try:
        done = subprocess.run([tesseract, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    lines = (done.stdout + "\n" + done.stderr).splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and " " not in line.strip())


def missing(languages: str = "fra+eng") -> str:
    """Why OCR cannot run on this machine, in one French line; "" when it can."""
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        return f"Tesseract n'est pas installé ({INSTALL_HINT})"
    if shutil.which("ocrmypdf") is None:
        return f"OCRmyPDF n'est pas installé ({INSTALL_HINT})"
    installed = _installed_languages(tesseract)
    absent = [lang for lang in languages.split("+") if lang and lang not in installed]
    if absent:
        packages = " ".join(f"tesseract-ocr-{lang}" for lang in absent)
        return f"langue(s) de Tesseract absente(s) : {', '.join(absent)} (apt-get install {packages})"
    return ""


def unavailable(languages: str = "fra+eng") -> str:
    """What `veille check` says when OCR cannot run here (one French line), or ""."""
    absent = missing(languages)
    return (f"reconnaissance de caractères indisponible : {absent} ; les documents numérisés et les "
            "images sont listés sans leur texte") if absent else ""


# ------------------------------------------------------------------ running OCRmyPDF


def _ocrmypdf(source: Path, sidecar: Path, limits: Limits, *, image: bool, pages: int | None) -> str:
    """Run OCRmyPDF on `source`, the text going to `sidecar`; returns a problem or ""."""
    command = [shutil.which("ocrmypdf") or "ocrmypdf", "--quiet", "--language", limits.ocr_languages,
               "--jobs", "1", "--output-type", "none", "--sidecar", str(sidecar), "--optimize", "0",
               "--tesseract-timeout", str(max(1, int(limits.ocr_timeout)))]
    if image:
        command += ["--image-dpi", str(IMAGE_DPI)]
    else:
        command += ["--force-ocr"]   # the pages given are the ones without text: read them all
    if pages is not None:
        command += ["--pages", f"1-{pages}"]
    command += [str(source), "-"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "TMPDIR": str(source.parent)}
    try:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env=env, start_new_session=True)
    except OSError as exc:
        return f"reconnaissance de caractères impossible ({exc.strerror or exc})"
    try:
        _, stderr = process.communicate(timeout=limits.ocr_timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return (f"reconnaissance de caractères interrompue : plus de {limits.ocr_timeout:g} s "
                "pour ce fichier")
    if process.returncode == 0:
        return ""
    detail = stderr.decode("utf-8", "replace").strip().splitlines()
    log.warning("OCRmyPDF a échoué sur %s (code %s) : %s", source.name, process.returncode,
                detail[-1] if detail else "")
    if process.returncode == 8:
        return "fichier protégé par un mot de passe : reconnaissance de caractères impossible"
    if process.returncode == 2:
        return "fichier illisible pour la reconnaissance de caractères (endommagé ou format inattendu)"
    if process.returncode == 3:
        return f"reconnaissance de caractères impossible : un programme manque ({INSTALL_HINT})"
    if any("DecompressionBomb" in line or "mpixels" in line.lower() for line in detail):
        return "image trop grande pour la reconnaissance de caractères"
    return f"reconnaissance de caractères en échec (code {process.returncode})"


def _kill_group(process: subprocess.Popen) -> None:
    """Kill OCRmyPDF and the Tesseract and Ghostscript processes it started."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait()


def _sidecar_pages(text: str) -> tuple[tuple[str, ...], int]:
    """(recognised pages, total pages) from OCRmyPDF's sidecar: pages are separated by form
    feeds; pages left out by --pages are summed up in a last "[OCR skipped ...]" page."""
    parts = text.split("\f")
    if parts and not parts[-1].strip():
        parts = parts[:-1]
    total = len(parts)
    if parts:
        skipped = _SKIPPED.match(parts[-1])
        if skipped:
            parts = parts[:-1]
            numbers = [int(n) for n in re.findall(r"\d+", skipped.group(1))]
            total = max(numbers, default=total)
    return tuple(parts), total


def recognize(data: bytes, suffix: str, limits: Limits, *, image: bool,
              announce: Announce | None = None, pages: int | None = None) -> Recognized:
    """OCR of a whole PDF or image file (its first `pages` pages when given)."""
    if announce is not None:
        announce(limits.ocr_timeout)   # the worker's host waits this much longer
    with tempfile.TemporaryDirectory(prefix="veille-ocr-") as tmp:
        source = Path(tmp) / f"entree{suffix}"
        sidecar = Path(tmp) / "texte.txt"
        source.write_bytes(data)
        problem = _ocrmypdf(source, sidecar, limits, image=image, pages=pages)
        try:
            text = sidecar.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
    found, total = _sidecar_pages(text) if text else ((), 0)
    return Recognized(pages=found, total_pages=total, problem=problem)


# ------------------------------------------------------------------ PDFs and images


def _only_pages(data: bytes, numbers: tuple[int, ...]) -> bytes:
    """A PDF of the pages `numbers` (0-based) of `data`, for OCRmyPDF to read only those."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")      # extraction opened it with the empty password already
    writer = PdfWriter()
    for number in numbers:
        writer.add_page(reader.pages[number])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _notes(reason: str, *drop: str) -> list[str]:
    return [note for note in reason.split("; ") if note and note not in drop]


def _ocr_note(pages: int) -> str:
    return f"{OCR_NOTE} ({pages} page{'s' if pages > 1 else ''})"


def _limit_note(read: int, total: int) -> str:
    return f"reconnaissance de caractères limitée aux {read} premières pages numérisées sur {total}"


def complete_pdf(data: bytes, result: Extracted, limits: Limits, announce: Announce | None = None,
                 scanned_reason: str = "") -> Extracted:
    """`result` with the text of its scanned pages (`result.image_pages`) recognised.

    Unchanged when OCR is off or missing here; when it fails, the reason says why after
    what extraction said."""
    if not (limits.ocr and result.image_pages) or missing(limits.ocr_languages):
        return result
    chosen = result.image_pages[: limits.ocr_max_pages]
    try:
        cut = _only_pages(data, chosen)
    except Exception as exc:  # a page pypdf read but cannot copy: leave the PDF as it was
        log.warning("pages numérisées non copiables pour la reconnaissance : %s: %s", type(exc).__name__, exc)
        return replace(result, reason="; ".join([*_notes(result.reason), "pages numérisées illisibles"]))
    found = recognize(cut, ".pdf", limits, image=False, announce=announce)
    pages = list(result.pages)
    recognised = 0
    for number, text in zip(chosen, found.pages):
        text = normalize_text(text)
        pages[number] = text
        recognised += bool(text.strip())
    text = "\f".join(pages)
    if recognised:
        notes = [_ocr_note(recognised), *_notes(result.reason, scanned_reason)]
        if len(result.image_pages) > len(chosen):
            notes.append(_limit_note(len(chosen), len(result.image_pages)))
    else:
        notes = [*_notes(result.reason), REASON_NOTHING_FOUND]
    if found.problem:
        notes.append(found.problem)
    status = STATUS_OK if text.replace("\f", "").strip() else (
        STATUS_EMPTY if result.status == STATUS_OK else result.status)
    title = result.title or (first_heading(next(p for p in pages if p.strip())) if recognised else "")
    return replace(result, text=text, pages=tuple(pages), status=status, reason="; ".join(notes),
                   title=title, ocr_pages=recognised)


def extract_image(data: bytes, suffix: str, limits: Limits, announce: Announce | None = None) -> Extracted:
    """A PNG, JPEG or TIFF read by OCR: one page per image (a TIFF may hold several)."""
    if not limits.ocr:
        return failed(REASON_IMAGE_NO_OCR)
    absent = missing(limits.ocr_languages)
    if absent:
        return failed(f"{REASON_IMAGE_NO_OCR} ({absent})")
    found = recognize(data, suffix, limits, image=True, announce=announce, pages=limits.ocr_max_pages)
    pages = tuple(normalize_text(page) for page in found.pages)
    recognised = sum(1 for page in pages if page.strip())
    if not pages:
        return failed(found.problem or REASON_NOTHING_FOUND)
    notes = [_ocr_note(recognised)] if recognised else [REASON_NOTHING_FOUND]
    if found.total_pages > len(pages):
        notes.append(_limit_note(len(pages), found.total_pages))
    if found.problem:
        notes.append(found.problem)
    text = "\f".join(pages)
    return Extracted(text=text, pages=pages,
                     title=first_heading(next((p for p in pages if p.strip()), "")),
                     status=STATUS_OK if recognised else STATUS_EMPTY, reason="; ".join(notes),
                     page_count=max(found.total_pages, len(pages)), ocr_pages=recognised)


__all__ = ["INSTALL_HINT", "OCR_NOTE", "REASON_IMAGE_NO_OCR", "Recognized", "complete_pdf",
           "extract_image", "missing", "recognize", "unavailable"]
