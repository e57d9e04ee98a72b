"""The centre's internal library: folders of documents synced into the catalog.

`sync_library(config, catalog)` brings every folder of `config.library` up to date
incrementally: new and changed files are extracted (in a worker process, under the
extraction limits) and put in the catalog as `bibliothèque` documents; unchanged files are
skipped by size and mtime, then by content hash; deleted files are removed; a moved file
keeps its extraction and first-seen date. Every file is listed, even one whose text could not
be read: its document carries the status and the reason, and is findable by title and name.

`list_folder` and `resolve_file` serve the web UI's browse and download pages; the latter
refuses any path that would leave the library folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType

from veille.storage.catalog import Catalog
from veille.storage.library_files import LibraryFile
from indexer.extract import STATUS_ERROR, Extracted, Limits
from indexer.extract.bounded import BoundedExtractor
from indexer.extract.common import parse_date
from veille.core.records import KIND_LIBRARY, VISIBILITY_INTERNAL, Document, document_id
from indexer.library.sidecar import SIDECAR_NAMES, Sidecar, SidecarEntry, load_sidecar, normalize_path
from indexer.enrich.thesaurus import enrich, words
from veille.core.config import Config, LibraryFolder
from veille.core.errors import VeilleError, os_error_reason
from veille.core.progress import Progress, no_progress

log = logging.getLogger(__name__)

# Files that are never documents: office lock files, OS litter.
_JUNK_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
_JUNK_PREFIXES = ("~$", ".~lock.", "~")
_JUNK_SUFFIXES = (".tmp", ".part", ".crdownload", ".swp", ".lnk")
# A folder that suddenly looks empty while the catalog knows this many files is more
# likely an unmounted share than a librarian who deleted everything.
EMPTY_FOLDER_GUARD = 5
SUMMARY_CHARS = 300
HASH_CHUNK = 1024 * 1024


class LibraryPathError(VeilleError):
    """A library path that must not be served (outside the folder, hidden, missing)."""

    code = "library_path"


@dataclass(frozen=True)
class SyncReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    moved: int = 0
    unreadable: int = 0                          # files listed with status error / empty
    problems: tuple[str, ...] = ()               # folder and sidecar problems, in French

    def __add__(self, other: "SyncReport") -> "SyncReport":
        return SyncReport(*(getattr(self, f) + getattr(other, f) for f in
                            ("new", "updated", "unchanged", "removed", "moved", "unreadable", "problems")))

    def summary(self) -> str:
        text = (f"{self.new} nouveau(x), {self.updated} modifié(s), {self.moved} déplacé(s), "
                f"{self.removed} supprimé(s), {self.unchanged} inchangé(s)")
        if self.unreadable:
            text += f", {self.unreadable} sans texte lisible"
        return text


# ------------------------------------------------------------------ scanning


def is_skipped(name: str) -> bool:
    """Hidden files, office lock files and OS litter: never documents."""
    lowered = name.lower()
    return (name.startswith(".") or lowered in _JUNK_NAMES or name.startswith(_JUNK_PREFIXES)
            or lowered.endswith(_JUNK_SUFFIXES))


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        return False


def scan_folder(root: Path) -> tuple[dict[str, Path], list[str]]:
    """Files of a library folder: {relative path (NFC, "/"): path on disk}, problems.

    Hidden files and folders, the sidecar and office litter are skipped; so are symlinks
    that lead out of the folder (a library must not expose the rest of the disk).
    """
    root = root.resolve()
    files: dict[str, Path] = {}
    problems: list[str] = []

    def walk_error(exc: OSError) -> None:
        problems.append(f"dossier illisible : {exc.filename} ({os_error_reason(exc)})")

    for directory, dirnames, filenames in os.walk(root, onerror=walk_error, followlinks=False):
        here = Path(directory)
        dirnames[:] = sorted(d for d in dirnames if not is_skipped(d))
        for name in sorted(filenames):
            if is_skipped(name) or (here == root and name in SIDECAR_NAMES):
                continue
            path = here / name
            if path.is_symlink() and not _inside(path, root):
                problems.append(f"lien symbolique ignoré (sort de la bibliothèque) : {path.relative_to(root)}")
                continue
            if not path.is_file():
                continue
            relpath = normalize_path(path.relative_to(root).as_posix())
            files[relpath] = path
    return files, problems


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------ documents

_DOC_TYPES = (  # (folded words to look for, doc_type shown)
    (("fiche", "d", "experience"), "fiche d'expérience"),
    (("fiche", "experience"), "fiche d'expérience"),
    (("fiche", "action"), "fiche action"),
    (("compte", "rendu"), "compte-rendu"),
    (("proces", "verbal"), "compte-rendu"),
    (("releve", "de", "decision"), "compte-rendu"),
    (("cr",), "compte-rendu"),
    (("guide",), "guide"),
    (("vademecum",), "guide"),
    (("etude",), "étude"),
    (("diagnostic",), "étude"),
    (("evaluation",), "étude"),
    (("rapport",), "rapport"),
    (("bilan",), "rapport"),
    (("synthese",), "synthèse"),
    (("note",), "note"),
    (("convention",), "convention"),
    (("deliberation",), "délibération"),
    (("arrete",), "arrêté"),
    (("decret",), "décret"),
    (("circulaire",), "circulaire"),
    (("contrat", "de", "ville"), "contrat de ville"),
    (("presentation",), "présentation"),
    (("diaporama",), "présentation"),
)


# The document types the library knows, as offered to staff typing one (any other is allowed).
DOC_TYPES = tuple(sorted(dict.fromkeys(doc_type for _, doc_type in _DOC_TYPES)))


def guess_doc_type(*texts: str) -> str:
    """A document type from a title, a file name or a type hint; "" when none says."""
    for text in texts:
        tokens = [w.lower() for w in words(text or "")]
        for needle, doc_type in _DOC_TYPES:
            size = len(needle)
            if any(tuple(tokens[i:i + size]) == needle for i in range(len(tokens) - size + 1)):
                return doc_type
    return ""


def title_from_filename(relpath: str) -> str:
    stem = relpath.rsplit("/", 1)[-1]
    if "." in stem.lstrip("."):
        stem = stem.rsplit(".", 1)[0]
    return " ".join(stem.replace("_", " ").split()) or relpath


def _summary(text: str) -> str:
    for paragraph in text.replace("\f", "\n").split("\n"):
        paragraph = paragraph.strip()
        if len(paragraph) >= 40:
            return paragraph if len(paragraph) <= SUMMARY_CHARS else paragraph[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    return ""


def _stored_extraction(doc: Document) -> Extracted:
    """What extraction found for a catalog document, to reuse it without reading the file."""
    found = dict(doc.extra.get("extracted") or {})
    pages = tuple(doc.content.split("\f")) if found.get("paged") else ()
    return Extracted(text=doc.content, title=found.get("title", ""),
                     authors=tuple(found.get("authors", ())), published=parse_date(found.get("published")),
                     language=found.get("language", ""), pages=pages, status=doc.status,
                     reason=doc.status_reason, page_count=doc.page_count,
                     doc_type_hint=found.get("doc_type_hint", ""), ocr_pages=found.get("ocr_pages", 0))


def build_document(library: str, relpath: str, extracted: Extracted, *, sha256: str, size: int,
                   mtime: datetime, sidecar: SidecarEntry | None, first_seen: datetime,
                   visibility: str = VISIBILITY_INTERNAL) -> Document:
    """The catalog document of one library file: sidecar first, then extraction, then name.
    `visibility` is the folder's; the sidecar may say otherwise for the file."""
    entry = sidecar or SidecarEntry(path=relpath)
    name = relpath.rsplit("/", 1)[-1]
    title = entry.title or extracted.title or title_from_filename(relpath)
    doc = Document(
        id=document_id(f"library:{library}/{relpath}"),
        title=title,
        source=library,
        kind=KIND_LIBRARY,
        first_seen=first_seen,
        path=relpath,
        # with no text, the summary says why, and carries the file name so a search finds it
        summary=entry.summary or _summary(extracted.text) or (
            f"{name} : {extracted.reason}" if extracted.reason else name),
        content=extracted.text,
        published=entry.published or extracted.published,
        updated=mtime,
        content_hash=sha256,
        doc_type=entry.doc_type or guess_doc_type(extracted.doc_type_hint, title, name),
        themes=entry.themes,
        territories=entry.territories,
        authors=entry.authors or extracted.authors,
        language=extracted.language or "fr",
        page_count=extracted.page_count,
        status=extracted.status,
        status_reason=extracted.reason,
        visibility=entry.visibility or visibility,
        extra=MappingProxyType({
            **({"code": entry.code} if entry.code else {}),
            "file_name": name,
            "size": size,
            "sidecar": sidecar.digest() if sidecar else "",
            "extracted": {
                "title": extracted.title, "authors": list(extracted.authors),
                "published": extracted.published.isoformat() if extracted.published else None,
                "language": extracted.language, "doc_type_hint": extracted.doc_type_hint,
                "paged": bool(extracted.pages), "ocr_pages": extracted.ocr_pages,
            },
        }),
    )
    return enrich(doc)


# ------------------------------------------------------------------ sync


def file_mtime(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime_ns / 1e9, tz=timezone.utc).replace(microsecond=0)


@dataclass
class _Counts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    moved: int = 0
    unreadable: int = 0
    problems: list[str] = field(default_factory=list)

    def report(self) -> SyncReport:
        return SyncReport(self.new, self.updated, self.unchanged, self.removed, self.moved,
                          self.unreadable, tuple(self.problems))


def _put(catalog: Catalog, doc: Document, counts: _Counts, *, moved: bool = False) -> None:
    outcome = catalog.documents.put(doc)
    if moved:
        counts.moved += 1
    elif outcome == "new":
        counts.new += 1
    elif outcome == "updated":
        counts.updated += 1
    else:
        counts.unchanged += 1
    if doc.status != "ok":
        counts.unreadable += 1


def sync_folder(folder: LibraryFolder, catalog: Catalog, extractor: BoundedExtractor,
                progress: Progress = no_progress, now: datetime | None = None) -> SyncReport:
    """Sync one library folder into the catalog; see the module docstring."""
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    counts = _Counts()
    root = Path(folder.path)
    if not root.is_dir():
        counts.problems.append(f"Bibliothèque « {folder.name} » : dossier introuvable ({root}) ; "
                               "ses documents sont gardés tels quels")
        return counts.report()
    sidecar: Sidecar = load_sidecar(root)
    counts.problems.extend(sidecar.problems)
    files, problems = scan_folder(root)
    counts.problems.extend(problems)
    for path in sidecar.entries:
        if path not in files:
            counts.problems.append(f"{sidecar.name} : « {path} » décrit mais absent du dossier")

    known = catalog.library_files.of_library(folder.name)
    vanished = {p: entry for p, entry in known.items() if p not in files}
    if not files and len(known) >= EMPTY_FOLDER_GUARD:
        counts.problems.append(
            f"Bibliothèque « {folder.name} » : le dossier paraît vide alors que {len(known)} fichiers "
            "y étaient ; rien n'est supprimé (partage réseau non monté ?)")
        return counts.report()
    # moved files: a vanished path whose content reappears elsewhere
    vanished_by_hash: dict[str, list[LibraryFile]] = {}
    for entry in vanished.values():
        vanished_by_hash.setdefault(entry.sha256, []).append(entry)
    claimed: set[str] = set()  # ids of vanished documents whose file moved

    total = len(files)
    for done, (relpath, path) in enumerate(sorted(files.items()), start=1):
        progress(done - 1, total, relpath)
        try:
            _sync_file(folder, relpath, path, sidecar.entries.get(relpath), known.get(relpath),
                       vanished_by_hash, claimed, catalog, extractor, counts, now)
        except OSError as exc:  # vanished or unreadable between the scan and now
            counts.problems.append(f"{relpath} : fichier illisible ({os_error_reason(exc)})")
            log.warning("bibliothèque %s : impossible de lire %s : %s", folder.name, relpath, exc)
    progress(total, total, "")

    for relpath, entry in sorted(vanished.items()):
        # a moved file's document was already replaced by the one at its new path
        if entry.doc_id not in claimed and catalog.documents.delete(entry.doc_id):
            counts.removed += 1
        catalog.library_files.forget(folder.name, relpath)
    return counts.report()


def _sync_file(folder: LibraryFolder, relpath: str, path: Path, entry: SidecarEntry | None,
               known: LibraryFile | None, vanished_by_hash: dict[str, list[LibraryFile]],
               claimed: set[str], catalog: Catalog,
               extractor: BoundedExtractor, counts: _Counts, now: datetime) -> None:
    library = folder.name
    stat = path.stat()
    doc_id = document_id(f"library:{library}/{relpath}")
    sidecar_digest = entry.digest() if entry else ""
    old = catalog.documents.get(doc_id) if known else None
    same_sidecar = old is not None and old.extra.get("sidecar", "") == sidecar_digest
    if known and old and known.size == stat.st_size and known.mtime_ns == stat.st_mtime_ns and same_sidecar:
        # the folder's visibility may have changed in sources.yaml: no need to read the file
        catalog.documents.set_visibility([doc_id], (entry.visibility if entry else "") or folder.visibility)
        counts.unchanged += 1
        return
    sha256 = file_sha256(path)
    mtime = file_mtime(stat)
    if known and old and known.sha256 == sha256:
        if not same_sidecar:  # only the sidecar changed: no need to read the file again
            doc = build_document(library, relpath, _stored_extraction(old), sha256=sha256,
                                 size=stat.st_size, mtime=mtime, sidecar=entry, first_seen=old.first_seen,
                                 visibility=folder.visibility)
            _put(catalog, doc, counts)
        else:
            catalog.documents.set_visibility([doc_id], (entry.visibility if entry else "") or folder.visibility)
            counts.unchanged += 1
        catalog.library_files.put(LibraryFile(library, relpath, stat.st_size, stat.st_mtime_ns, sha256, doc_id))
        return
    candidates = vanished_by_hash.get(sha256) if not known else None
    moved_from = candidates.pop() if candidates else None
    source_doc = catalog.documents.get(moved_from.doc_id) if moved_from else None
    if source_doc is not None:
        extracted, first_seen = _stored_extraction(source_doc), source_doc.first_seen
        claimed.add(source_doc.id)
        catalog.documents.delete(source_doc.id)
    else:
        if stat.st_size > extractor.limits.max_bytes:
            from indexer.extract import failed, too_big_reason

            extracted = failed(too_big_reason(stat.st_size, extractor.limits))
        else:
            extracted = extractor.extract(path.read_bytes(), path.name)
        first_seen = old.first_seen if old else now
    doc = build_document(library, relpath, extracted, sha256=sha256, size=stat.st_size, mtime=mtime,
                         sidecar=entry, first_seen=first_seen, visibility=folder.visibility)
    _put(catalog, doc, counts, moved=source_doc is not None)
    catalog.library_files.put(LibraryFile(library, relpath, stat.st_size, stat.st_mtime_ns, sha256, doc_id))
    if doc.status == STATUS_ERROR:
        log.info("bibliothèque %s : %s : %s", library, relpath, doc.status_reason)


def sync_library(config: Config, catalog: Catalog, progress: Progress = no_progress, *,
                 limits: Limits | None = None, now: datetime | None = None) -> SyncReport:
    """Sync every folder of `config.library`; one folder's trouble does not stop the others.

    Extraction limits come from the configuration's `extraction:` section unless given.
    """
    report = SyncReport()
    with BoundedExtractor(limits or Limits.from_config(config.extraction)) as extractor:
        for folder in config.library:
            try:
                part = sync_folder(folder, catalog, extractor, progress, now)
            except OSError as exc:
                part = SyncReport(problems=(f"Bibliothèque « {folder.name} » : {exc}",))
            for problem in part.problems:
                log.warning("bibliothèque %s : %s", folder.name, problem)
            report = report + part
    return report + _forget_unconfigured(config, catalog)


def _forget_unconfigured(config: Config, catalog: Catalog) -> SyncReport:
    """Remove the documents of libraries taken out of (or renamed in) the configuration."""
    configured = {folder.name for folder in config.library}
    removed, problems = 0, []
    for name in catalog.library_files.library_names():
        if name in configured:
            continue
        known = catalog.library_files.of_library(name)
        for relpath, entry in known.items():
            removed += catalog.documents.delete(entry.doc_id)
            catalog.library_files.forget(name, relpath)
        problems.append(f"Bibliothèque « {name} » retirée de la configuration : "
                        f"ses {len(known)} documents sont retirés du catalogue")
        log.warning("la bibliothèque %s n'est plus configurée : %d document(s) retiré(s)", name, len(known))
    return SyncReport(removed=removed, problems=tuple(problems))


# ------------------------------------------------------------------ browsing and download


@dataclass(frozen=True)
class LibraryEntry:
    path: str                       # relative to the library folder, "/" separated (NFC)
    name: str
    size: int
    modified: datetime
    document: Document | None       # None until the next sync has seen the file


@dataclass(frozen=True)
class FolderListing:
    library: str
    folder: str                     # "" for the top of the library
    subfolders: tuple[str, ...]     # relative paths of the folders directly inside
    files: tuple[LibraryEntry, ...]


def library_folder(config: Config, name: str) -> LibraryFolder:
    for folder in config.library:
        if folder.name == name:
            return folder
    raise LibraryPathError(f"bibliothèque inconnue : {name}")


def _locate(root: Path, relpath: str) -> Path:
    """The path on disk of a relative path, matching names in NFC or NFD alike."""
    if "\x00" in relpath or relpath.startswith(("/", "\\")) or ":" in relpath.split("/", 1)[0]:
        raise LibraryPathError("chemin refusé")
    parts = [p for p in relpath.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise LibraryPathError("chemin refusé")
    if any(p.startswith(".") for p in parts):
        raise LibraryPathError("fichier introuvable")
    current = root
    for part in parts:
        candidate = current / part
        if not candidate.exists() and current.is_dir():
            wanted = unicodedata.normalize("NFC", part)
            for child in current.iterdir():
                if unicodedata.normalize("NFC", child.name) == wanted:
                    candidate = child
                    break
        current = candidate
    return current


def resolve_file(folder: LibraryFolder, relpath: str) -> Path:
    """The file to send for a download; LibraryPathError unless it is a file of the library.

    Refuses absolute paths, `..`, hidden files, the sidecar, and symlinks (at any level)
    that resolve outside the library folder.
    """
    root = Path(folder.path).resolve()
    target = _locate(root, relpath)
    try:
        resolved = target.resolve(strict=True)
    except (OSError, RuntimeError):
        raise LibraryPathError("fichier introuvable") from None
    if not resolved.is_relative_to(root):
        raise LibraryPathError("chemin refusé")
    if not resolved.is_file():
        raise LibraryPathError("fichier introuvable")
    if resolved.parent == root and resolved.name in SIDECAR_NAMES:
        raise LibraryPathError("fichier introuvable")
    if is_skipped(resolved.name):
        raise LibraryPathError("fichier introuvable")
    return resolved


def resolve_dir(folder: LibraryFolder, relpath: str) -> Path:
    root = Path(folder.path).resolve()
    target = _locate(root, relpath) if relpath else root
    try:
        resolved = target.resolve(strict=True)
    except (OSError, RuntimeError):
        raise LibraryPathError("dossier introuvable") from None
    if not resolved.is_relative_to(root) or not resolved.is_dir():
        raise LibraryPathError("dossier introuvable")
    return resolved


def list_folder(folder: LibraryFolder, catalog: Catalog, subfolder: str = "") -> FolderListing:
    """One level of a library folder, each file with its catalog document, for browsing."""
    root = Path(folder.path).resolve()
    directory = resolve_dir(folder, subfolder)
    base = normalize_path(directory.relative_to(root).as_posix()) if directory != root else ""
    subfolders: list[str] = []
    found: list[tuple[str, Path, os.stat_result]] = []
    for child in sorted(directory.iterdir(), key=lambda p: unicodedata.normalize("NFC", p.name).lower()):
        if is_skipped(child.name) or (directory == root and child.name in SIDECAR_NAMES):
            continue
        if child.is_symlink() and not _inside(child, root):
            continue
        relpath = normalize_path(f"{base}/{child.name}" if base else child.name)
        if child.is_dir():
            subfolders.append(relpath)
        elif child.is_file():
            found.append((relpath, child, child.stat()))
    ids = {relpath: document_id(f"library:{folder.name}/{relpath}") for relpath, _, _ in found}
    documents = catalog.documents.get_many(ids.values())
    files = tuple(LibraryEntry(path=relpath, name=relpath.rsplit("/", 1)[-1], size=stat.st_size,
                               modified=file_mtime(stat), document=documents.get(ids[relpath]))
                  for relpath, _, stat in found)
    return FolderListing(library=folder.name, folder=base, subfolders=tuple(subfolders), files=files)


def document_file(config: Config, doc: Document) -> Path:
    """The file on disk of a library document (for its download link)."""
    if doc.kind != KIND_LIBRARY or not doc.path:
        raise LibraryPathError("ce document n'est pas un fichier de la bibliothèque")
    return resolve_file(library_folder(config, doc.source), doc.path)


__all__ = ["DOC_TYPES", "FolderListing", "LibraryEntry", "LibraryPathError", "SyncReport", "build_document",
           "document_file", "file_mtime", "guess_doc_type", "is_skipped", "library_folder", "list_folder",
           "resolve_file", "scan_folder", "sync_folder", "sync_library"]
