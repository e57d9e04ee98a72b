"""The centre's library: its page (folders with counts, recent additions, document types,
the search's facets, staff actions), its folders' files with their notice, downloads, and the
export of staff edits to a folder's metadata file.

Paths are resolved by indexer.library.sync (NFC/NFD names, no `..`, no hidden files or sidecar,
no symlink out of the folder); any refusal is a plain 404, so nothing can be probed. Counts,
types and facets come from the search, so they count only what the reader may see.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from indexer.library.sidecar import normalize_path
from indexer.library.sidecar_export import SidecarWriteError, export_edits, write_sidecar
from indexer.library.sync import FolderListing, LibraryPathError, library_folder, list_folder, resolve_file
from veille.core.config import LibraryFolder
from veille.core.records import KIND_LIBRARY
from web.auth import current_staff, is_staff, staff_required
from web.files import send_path
from web.params import SearchState
from web.search import facet_groups, run_search
from web.state import get_catalog, veille_config

log = logging.getLogger("veille.web")

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


LIBRARY_SEARCH = SearchState(filters=MappingProxyType({"kind": (KIND_LIBRARY,)}))
RECENT = 8


@dataclass(frozen=True)
class FolderCard:
    folder: LibraryFolder
    present: bool           # the folder exists on the server
    documents: int          # documents of it the reader may find


@bp.get("/bibliotheque")
def index():
    staff = is_staff()
    found = run_search(LIBRARY_SEARCH, per_page=1, highlight=False, suggest=False)
    counts = dict(found.facets.get("source", ()))
    folders = [FolderCard(folder, folder.path.is_dir(), counts.get(folder.name, 0))
               for folder in _folders_shown(staff)]
    shown = {card.folder.name for card in folders}
    recent = [doc for doc in get_catalog().documents.latest(KIND_LIBRARY, RECENT * 2, public_only=not staff)
              if doc.source in shown][:RECENT]
    facets = [group for group in facet_groups(LIBRARY_SEARCH, found.facets)
              if group.param not in ("kind", "source", "doc_type")]
    return render_template("library.html", folders=folders, total=found.total, recent=recent,
                           doc_types=found.facets.get("doc_type", ()), facets=facets)


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


# ------------------------------------------------------------------ staff: edits to metadata.csv


def _staff_folder(name: str) -> LibraryFolder:
    try:
        folder = library_folder(veille_config(), name)
    except LibraryPathError:
        abort(404)
    if not folder.path.is_dir():
        abort(404)
    return folder


@bp.get("/bibliotheque/<name>/metadonnees")
@staff_required
def metadata_file(name: str):
    """The folder's metadata file with the staff's edits merged in, to download."""
    export = export_edits(_staff_folder(name), get_catalog())
    mimetype = "text/csv; charset=utf-8" if export.name.endswith(".csv") else "application/yaml; charset=utf-8"
    response = Response(export.data, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.name}"'
    return response


@bp.post("/bibliotheque/<name>/metadonnees")
@staff_required
def export_metadata(name: str):
    """Write the staff's edits into the folder's metadata file (the old one kept, hidden)."""
    folder = _staff_folder(name)
    export = export_edits(folder, get_catalog())
    if not export.exported:
        flash(f"« {folder.name} » : aucune notice modifiée à exporter.")
        return redirect(url_for("library.index"))
    try:
        write_sidecar(folder, export)
    except SidecarWriteError as exc:
        flash(f"{exc}. Le fichier peut être téléchargé puis déposé à la main.", "warn")
        return redirect(url_for("library.index"))
    log.info("%s de « %s » écrit par %s : %d notice(s) modifiée(s)", export.name, folder.name,
             current_staff().email, export.exported)
    flash(f"« {folder.name} » : {export.exported} notice{'s' if export.exported > 1 else ''} "
          f"modifiée{'s' if export.exported > 1 else ''} exportée{'s' if export.exported > 1 else ''} "
          f"dans {export.name}.")
    return redirect(url_for("library.index"))
