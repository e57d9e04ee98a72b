"""Browsing the centre's library: its folders, its files with their catalog notice, downloads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from flask import Blueprint, abort, render_template, request

from indexer.records import Document, document_id
from veille.config import LibraryFolder
from web import get_catalog, veille_config
from web.files import confined_path, send_confined

bp = Blueprint("library", __name__)

MAX_ENTRIES = 2000   # a folder listing is for people; beyond this, search is the better tool


@dataclass(frozen=True)
class Entry:
    name: str
    path: str                       # relative to the library folder, POSIX
    is_dir: bool
    size: int = 0
    modified: datetime | None = None
    doc: Document | None = None     # the catalog notice of a file, once indexed


def library_folder(name: str) -> LibraryFolder:
    for folder in veille_config().library:
        if folder.name == name:
            return folder
    abort(404)


def list_folder(folder: LibraryFolder, sub: str) -> tuple[list[Entry], bool]:
    """Entries of `sub` inside the library folder (404 outside it) and whether the list was cut."""
    root = folder.path
    target = confined_path(root, sub) if sub else _existing(root)
    if target is None or not target.is_dir():
        abort(404)
    base = PurePosixPath(sub) if sub else PurePosixPath()
    entries: list[Entry] = []
    with os.scandir(target) as scan:
        for item in scan:
            if item.name.startswith("."):
                continue
            rel = str(base / item.name)
            try:
                is_dir = item.is_dir()
                if not is_dir and not item.is_file():
                    continue
                stat = item.stat()
            except OSError:
                continue
            # a symlink leading out of the library is not part of it
            if item.is_symlink() and confined_path(root, rel) is None:
                continue
            entries.append(Entry(name=item.name, path=rel, is_dir=is_dir, size=stat.st_size,
                                 modified=datetime.fromtimestamp(stat.st_mtime, timezone.utc)))
    entries.sort(key=lambda e: (not e.is_dir, e.name.casefold()))
    cut = len(entries) > MAX_ENTRIES
    entries = entries[:MAX_ENTRIES]
    ids = {document_id(f"library:{folder.name}/{e.path}"): e for e in entries if not e.is_dir}
    docs = get_catalog().get_many(ids)
    entries = [Entry(e.name, e.path, e.is_dir, e.size, e.modified,
                     docs.get(document_id(f"library:{folder.name}/{e.path}"))) for e in entries]
    return entries, cut


def _existing(path: Path) -> Path | None:
    try:
        return path.resolve(strict=True)
    except OSError:
        return None


def breadcrumbs(sub: str) -> list[tuple[str, str]]:
    parts = PurePosixPath(sub).parts if sub else ()
    return [(part, str(PurePosixPath(*parts[: i + 1]))) for i, part in enumerate(parts)]


def human_size(size: int) -> str:
    """`1,2 Mo`: French decimal comma, binary multiples as people read them."""
    value = float(size)
    for unit in ("octets", "Ko", "Mo", "Go"):
        if value < 1024 or unit == "Go":
            text = f"{value:.0f}" if unit == "octets" or value >= 10 else f"{value:.1f}".replace(".", ",")
            return f"{text} {unit}"
        value /= 1024
    return f"{size} octets"


@bp.get("/bibliotheque")
def index():
    folders = []
    for folder in veille_config().library:
        folders.append((folder, folder.path.is_dir()))
    return render_template("library.html", folders=folders)


@bp.get("/bibliotheque/<name>")
def browse(name: str):
    folder = library_folder(name)
    sub = request.args.get("dossier", "").strip("/")
    entries, cut = list_folder(folder, sub)
    parent = str(PurePosixPath(sub).parent) if sub else ""
    return render_template("library_folder.html", folder=folder, sub=sub, entries=entries, cut=cut,
                           crumbs=breadcrumbs(sub), parent="" if parent == "." else parent,
                           at_root=not sub, human_size=human_size)


@bp.get("/bibliotheque/<name>/<path:path>")
def download(name: str, path: str):
    folder = library_folder(name)
    return send_confined(folder.path, path)
