"""Browsing the centre's library: its folders, its files with their catalog notice, downloads.

Paths are resolved by indexer.library.sync (NFC/NFD names, no `..`, no hidden files or sidecar,
no symlink out of the folder); any refusal is a plain 404, so nothing can be probed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath

from flask import Blueprint, abort, render_template, request

from indexer.library.sidecar import normalize_path
from indexer.library.sync import FolderListing, LibraryPathError, library_folder, list_folder, resolve_file
from web.auth import is_staff
from web.files import send_path
from web.state import get_catalog, veille_config

bp = Blueprint("library", __name__)


def breadcrumbs(sub: str) -> list[tuple[str, str]]:
    parts = PurePosixPath(sub).parts if sub else ()
    return [(part, str(PurePosixPath(*parts[: i + 1]))) for i, part in enumerate(parts)]


def human_size(size: int) -> str:
    """`1,2 Mo`: French decimal comma, binary multiples as people read them."""
    value = float(size)
    for unit in ("octets", "Ko", "Mo"):
        if value < 1024:
            break
        value /= 1024
    else:
        unit = "Go"
    text = f"{value:.0f}" if unit == "octets" or value >= 10 else f"{value:.1f}".replace(".", ",")
    return f"{text} {unit}"


def public_view(listing: FolderListing, public: set[str]) -> FolderListing:
    """The listing as the public sees it: the files anyone may read, and the folders that
    hold some. A file not catalogued yet is not shown: its visibility is not known."""
    return replace(
        listing,
        files=tuple(e for e in listing.files if e.path in public),
        subfolders=tuple(sub for sub in listing.subfolders if any(p.startswith(sub + "/") for p in public)))


def _folders_shown(staff: bool) -> list:
    folders = veille_config().library
    if staff:
        return list(folders)
    catalog = get_catalog()
    return [folder for folder in folders if catalog.documents.public_paths(folder.name)]


@bp.get("/bibliotheque")
def index():
    folders = [(folder, folder.path.is_dir()) for folder in _folders_shown(is_staff())]
    return render_template("library.html", folders=folders)


@bp.get("/bibliotheque/<name>")
def browse(name: str):
    sub = request.args.get("dossier", "").strip("/")
    staff = is_staff()
    try:
        folder = library_folder(veille_config(), name)
        listing = list_folder(folder, get_catalog(), sub)
    except LibraryPathError:
        abort(404)
    if not staff:
        public = get_catalog().documents.public_paths(folder.name)
        if sub and not any(p.startswith(listing.folder + "/") for p in public):
            abort(404)   # nothing anyone may see in there: the folder does not exist for them
        if not sub and not public:
            abort(404)
        listing = public_view(listing, public)
    parent = str(PurePosixPath(listing.folder).parent) if listing.folder else ""
    return render_template("library_folder.html", folder=folder, sub=listing.folder,
                           listing=listing, crumbs=breadcrumbs(listing.folder),
                           parent="" if parent == "." else parent, at_root=not listing.folder,
                           human_size=human_size)


@bp.get("/bibliotheque/<name>/<path:path>")
def download(name: str, path: str):
    try:
        folder = library_folder(veille_config(), name)
        target = resolve_file(folder, path)
    except LibraryPathError:
        abort(404)
    if not is_staff():
        relpath = normalize_path(target.relative_to(Path(folder.path).resolve()).as_posix())
        if relpath not in get_catalog().documents.public_paths(folder.name):
            abort(404)
    return send_path(target)
