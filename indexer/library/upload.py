"""Files staff add to a library folder from the web, checked before they are accepted.

The folder on disk stays the source of truth (the file share keeps working): an accepted
file is written into it, then catalogued exactly as a sync would catalogue it, so the next
`veille index` finds it unchanged. Each file is checked in turn:

- a name of its own (no folder part, not hidden, not the metadata file), of a type the
  library reads, under the size limit (`extraction.max_file_mb`);
- not a duplicate: a file of the same content already in the catalog is shown, not added
  again (unless staff insist);
- read in the bounded extraction worker (time, memory and page limits, OCR for scans): a
  file that cannot be read (damaged, password-protected, not what its name says) is refused
  with the reason;
- written atomically (a hidden temporary file, then linked under its name) and never over
  an existing file: a taken name becomes « nom (2).pdf », and staff are told.

The description staff typed is recorded as edits (`veille.storage.edits`), so it wins over
extraction and survives every re-sync, like any notice edited on the web.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from indexer.extract import STATUS_ERROR, detect_format
from indexer.extract.bounded import BoundedExtractor
from indexer.library.sidecar import SIDECAR_NAMES, load_sidecar, normalize_path
from indexer.library.sync import is_skipped, file_mtime, build_document, resolve_dir
from veille.core.config import LibraryFolder
from veille.core.records import Document
from veille.storage.catalog import Catalog
from veille.storage.library_files import LibraryFile

# What the library reads, by the name's suffix, with the format the content must have.
ACCEPTED = {".pdf": "pdf", ".docx": "docx", ".odt": "odt", ".html": "html", ".htm": "html",
            ".txt": "text", ".md": "text", ".markdown": "text", ".png": "image", ".jpg": "image",
            ".jpeg": "image", ".tif": "image", ".tiff": "image"}
ACCEPTED_LABEL = "PDF, Word (DOCX), OpenDocument (ODT), HTML, texte, Markdown, images PNG, JPEG ou TIFF"
MAX_NAME = 180                  # characters of a file name, its suffix included
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_LISTS = ("authors", "themes", "territories")


@dataclass(frozen=True)
class Received:
    name: str                   # as the browser sent it
    data: bytes
    truncated: bool = False     # larger than the limit: only its head was read


@dataclass(frozen=True)
class UploadOutcome:
    name: str                           # as sent
    stored_as: str = ""                 # path in the library folder; "" when refused
    doc_id: str = ""
    problem: str = ""                   # why it was refused, in French
    note: str = ""                      # what staff should know (renamed, text cut...)
    duplicate_of: Document | None = None

    @property
    def accepted(self) -> bool:
        return bool(self.stored_as)


def safe_name(name: str) -> str:
    """The file's own name, made safe to create: no folder part, no control or reserved
    characters, NFC; "" when nothing usable is left."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    # a leading dot stays: a hidden name is refused, not quietly made visible
    name = " ".join(_UNSAFE.sub("_", name).split()).rstrip(". ")
    if len(name) > MAX_NAME:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[: MAX_NAME - len(suffix) - 1] + "." + suffix) if dot and len(suffix) < 10 else name[:MAX_NAME]
    return name


def check(name: str, received: Received, max_bytes: int) -> str:
    """Why this file cannot be added, in French; "" when it may be read."""
    if not name or is_skipped(name) or name.lower() in SIDECAR_NAMES:
        return "nom de fichier refusé (fichier caché, temporaire ou réservé)"
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED:
        return f"type de fichier non accepté ({ACCEPTED_LABEL})"
    if received.truncated or len(received.data) > max_bytes:
        return f"fichier trop volumineux (limite : {megabytes(max_bytes)} Mo par fichier)"
    if not received.data:
        return "fichier vide"
    expected = ACCEPTED[suffix]
    # binary formats are known by their first bytes, whatever the name says
    found = detect_format(received.data, name if expected in ("html", "text") else "")
    if found != expected:
        return f"le contenu ne correspond pas à un fichier {suffix[1:].upper()} (extension trompeuse ou fichier endommagé)"
    return ""


def megabytes(size: int) -> str:
    """`100`, `2,5`, `0,01`: megabytes as a French reader writes them."""
    value = size / 1048576
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}".replace(".", ",")


def folders_of(folder: LibraryFolder, limit: int = 500) -> list[str]:
    """The sub-folders of a library folder (relative, "/"), to choose where a file goes."""
    root = Path(folder.path).resolve()
    found: list[str] = []
    for directory, dirnames, _ in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not is_skipped(d))
        here = Path(directory)
        if here != root:
            found.append(normalize_path(here.relative_to(root).as_posix()))
        if len(found) >= limit:
            break
    return sorted(found, key=str.lower)


def target_directory(folder: LibraryFolder, subfolder: str, new_folder: str = "") -> Path:
    """The directory a file goes to: an existing sub-folder (confined to the library, see
    `resolve_dir`), and optionally a new folder made inside it. LibraryPathError if not."""
    from indexer.library.sync import LibraryPathError

    directory = resolve_dir(folder, subfolder.strip("/"))
    if new_folder.strip():
        name = safe_name(new_folder)
        if not name or is_skipped(name):
            raise LibraryPathError("nom de dossier refusé")
        directory = directory / name
        try:
            directory.mkdir(exist_ok=True)
        except OSError as exc:
            raise LibraryPathError(f"impossible de créer le dossier ({exc.strerror or exc})") from None
        if directory.is_symlink() or not directory.resolve().is_relative_to(Path(folder.path).resolve()):
            raise LibraryPathError("chemin refusé")
    return directory


def write_new_file(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` as `name` in `directory` without ever replacing a file: the content goes
    to a hidden temporary file first (skipped by syncs), which is then linked under the
    first free name among « name », « name (2) »...; readers never see half a file."""
    stem, suffix = Path(name).stem, Path(name).suffix
    handle, temporary = tempfile.mkstemp(prefix=".depot-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        for number in range(1, 1000):
            target = directory / (name if number == 1 else f"{stem} ({number}){suffix}")
            try:
                os.link(temporary, target)
                return target
            except FileExistsError:
                continue
            except OSError:
                # no hard links here (some network shares): claim the name, then rename over it
                try:
                    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                except FileExistsError:
                    continue
                os.replace(temporary, target)
                return target
        raise FileExistsError(f"{name} : trop de fichiers de ce nom")
    finally:
        Path(temporary).unlink(missing_ok=True)


def add_files(folder: LibraryFolder, directory: Path, received: Iterable[Received],
              catalog: Catalog, extractor: BoundedExtractor, *, edits: Mapping[str, Any] | None = None,
              by: str = "", allow_duplicates: bool = False, now: datetime | None = None) -> list[UploadOutcome]:
    """Check, write and catalogue each file; see the module docstring. `edits` is the
    description staff typed: its themes and territories are added to those the thesaurus
    finds, its other fields replace what extraction found."""
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    root = Path(folder.path).resolve()
    sidecar = load_sidecar(root)
    outcomes = []
    for item in received:
        outcomes.append(_add_one(folder, root, directory, item, sidecar, catalog, extractor,
                                 dict(edits or {}), by, allow_duplicates, now))
    return outcomes


def _add_one(folder, root, directory, item: Received, sidecar, catalog: Catalog, extractor: BoundedExtractor,
             edits: dict, by: str, allow_duplicates: bool, now: datetime) -> UploadOutcome:
    name = safe_name(item.name)
    problem = check(name, item, extractor.limits.max_bytes)
    if problem:
        return UploadOutcome(item.name, problem=problem)
    sha256 = hashlib.sha256(item.data).hexdigest()
    twin = catalog.documents.find_by_hash(sha256)
    if twin is not None and not allow_duplicates:
        return UploadOutcome(item.name, problem="déjà dans le catalogue (même contenu)", duplicate_of=twin)
    extracted = extractor.extract(item.data, name)
    if extracted.status == STATUS_ERROR:
        return UploadOutcome(item.name, problem=extracted.reason)
    try:
        target = write_new_file(directory, name, item.data)
    except OSError as exc:   # a read-only share, a full disk
        return UploadOutcome(item.name, problem=f"impossible d'écrire dans le dossier de la bibliothèque "
                                          f"({exc.strerror or exc})")
    relpath = normalize_path(target.relative_to(root).as_posix())
    stat = target.stat()
    doc = build_document(folder.name, relpath, extracted, sha256=sha256, size=stat.st_size,
                         mtime=file_mtime(stat), sidecar=sidecar.entries.get(relpath), first_seen=now,
                         visibility=folder.visibility)
    catalog.documents.put(doc)
    catalog.library_files.put(LibraryFile(folder.name, relpath, stat.st_size, stat.st_mtime_ns, sha256, doc.id))
    wanted = {field: (tuple(dict.fromkeys((*value, *getattr(doc, field)))) if field in _LISTS else value)
              for field, value in edits.items()}
    wanted = {field: value for field, value in wanted.items() if value != getattr(doc, field)}
    if wanted:
        catalog.edits.record(doc.id, wanted, by=by, when=now)
        catalog.documents.apply_edits(doc.id)
    notes = []
    if target.name != name:
        notes.append(f"un fichier « {name} » existait déjà : enregistré sous « {target.name} »")
    if twin is not None:
        notes.append("ajouté bien qu'un document de même contenu soit déjà dans le catalogue")
    if extracted.reason:
        notes.append(extracted.reason)
    return UploadOutcome(item.name, stored_as=relpath, doc_id=doc.id, note=" ; ".join(notes),
                         duplicate_of=twin)


__all__ = ["ACCEPTED", "ACCEPTED_LABEL", "Received", "UploadOutcome", "add_files", "check", "folders_of",
           "safe_name", "target_directory", "write_new_file"]
