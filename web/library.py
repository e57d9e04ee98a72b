"""Browsing the centre's library: its folders, its files with their catalog notice, downloads.

Paths are resolved by indexer.library.sync (NFC/NFD names, no `..`, no hidden files or sidecar,
no symlink out of the folder); any refusal is a plain 404, so nothing can be probed.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from flask import Blueprint, abort, render_template, request

from indexer.library.sync import LibraryPathError, library_folder, list_folder, resolve_file
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


@bp.get("/bibliotheque")
def index():
    folders = [(folder, folder.path.is_dir()) for folder in veille_config().library]
    return render_template("library.html", folders=folders)


@bp.get("/bibliotheque/<name>")
def browse(name: str):
    sub = request.args.get("dossier", "").strip("/")
    try:
        folder = library_folder(veille_config(), name)
        listing = list_folder(folder, get_catalog(), sub)
    except LibraryPathError:
        abort(404)
    parent = str(PurePosixPath(listing.folder).parent) if listing.folder else ""
    return render_template("library_folder.html", folder=folder, sub=listing.folder,
                           listing=listing, crumbs=breadcrumbs(listing.folder),
                           parent="" if parent == "." else parent, at_root=not listing.folder,
                           human_size=human_size)


@bp.get("/bibliotheque/<name>/<path:path>")
def download(name: str, path: str):
    try:
        target = resolve_file(library_folder(veille_config(), name), path)
    except LibraryPathError:
        abort(404)
    return send_path(target)
