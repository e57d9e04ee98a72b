"""Staff add files to a library folder from the browser: `/bibliotheque/<name>/deposer`.

One form, several files, one description for them all (the title only when there is one
file). It works as a plain form; `static/upload.js` adds drag and drop and a progress bar.
Checks, writing and cataloguing are `indexer.library.upload`'s; the files are read in the
bounded extraction worker before they are accepted, and indexed at once.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template, request, url_for

from indexer.extract import Limits
from indexer.extract.bounded import BoundedExtractor
from indexer.library.sync import LibraryPathError, library_folder
from indexer.library.upload import (ACCEPTED, ACCEPTED_LABEL, Received, add_files, folders_of, megabytes,
                                    target_directory)
from web.auth import current_staff, staff_required
from web.notice import index_now
from web.notice_form import Description, as_datetime, parse_description, vocabulary
from web.state import get_space, veille_config

log = logging.getLogger("veille.web")

bp = Blueprint("upload", __name__)

MAX_FILES = 20
FORM_BYTES = 1024 * 1024          # the description fields, beside the files


def _folder_or_404(name: str):
    try:
        return library_folder(veille_config(), name)
    except LibraryPathError:
        abort(404)


def _limits() -> Limits:
    return Limits.from_config(veille_config().extraction)


def _form(folder, values: Description, problems: list[str], chosen: str = "", status: int = 200):
    limits = _limits()
    return render_template(
        "upload.html", folder=folder, values=values, vocab=vocabulary(), problems=problems,
        subfolders=folders_of(folder), chosen=chosen, accept=",".join(sorted(ACCEPTED)),
        accepted_label=ACCEPTED_LABEL, max_mb=megabytes(limits.max_bytes), max_files=MAX_FILES,
        max_request=_max_request(limits)), status


def _max_request(limits: Limits) -> int:
    return limits.max_bytes * MAX_FILES + FORM_BYTES


@bp.url_value_preprocessor
def _allow_files(endpoint, values) -> None:
    # Runs before any before_request hook, so before the CSRF check parses the form: only
    # here may a request be as large as MAX_FILES files (413 beyond, nothing read).
    if endpoint == "upload.receive":
        request.max_content_length = _max_request(_limits())


@bp.get("/bibliotheque/<name>/deposer")
@staff_required
def form(name: str):
    folder = _folder_or_404(name)
    if not folder.path.is_dir():
        abort(404)
    return _form(folder, Description(), [], chosen=request.args.get("dossier", "").strip("/"))


@bp.post("/bibliotheque/<name>/deposer")
@staff_required
def receive(name: str):
    folder = _folder_or_404(name)
    limits = _limits()
    files = [f for f in request.files.getlist("files") if f and f.filename]
    description, problems = parse_description(request.form, title_required=False)
    chosen = request.form.get("dossier", "").strip("/")
    if not files:
        problems.append("Choisissez au moins un fichier.")
    if len(files) > MAX_FILES:
        problems.append(f"{MAX_FILES} fichiers au plus à la fois.")
    try:
        directory = target_directory(folder, chosen, request.form.get("nouveau_dossier", "")) if not problems else None
    except LibraryPathError as exc:
        problems.append(f"Dossier refusé : {exc}.")
    if problems:
        return _form(folder, description, problems, chosen, status=400)

    received = []
    for upload in files:
        data = upload.stream.read(limits.max_bytes + 1)   # never more than the limit in memory
        received.append(Received(upload.filename, data[: limits.max_bytes + 1],
                                 truncated=len(data) > limits.max_bytes))
    space = get_space()
    staff = current_staff().email
    with BoundedExtractor(limits) as extractor:
        outcomes = add_files(folder, directory, received, space.catalog, extractor,
                             edits=_edits(description, single=len(files) == 1, folder=folder),
                             by=staff, allow_duplicates=request.form.get("doublons") == "1")
    accepted = [o for o in outcomes if o.accepted]
    log.info("dépôt dans « %s » par %s : %d fichier(s) ajouté(s), %d refusé(s)", folder.name, staff,
             len(accepted), len(outcomes) - len(accepted))
    if accepted:
        index_now(space, "dépôt")
    return render_template("upload_done.html", folder=folder, outcomes=outcomes, accepted=accepted,
                           again=url_for("upload.form", name=folder.name, dossier=chosen or None)), \
        (200 if accepted or not outcomes else 422)


def _edits(description: Description, *, single: bool, folder) -> dict:
    """What staff typed, as edits: only the fields they filled (the rest comes from the file)."""
    edits: dict = {}
    if single and description.title:
        edits["title"] = description.title
    for field in ("authors", "themes", "territories", "doc_type", "summary"):
        value = getattr(description, field)
        if value:
            edits[field] = value
    if description.published:
        edits["published"] = as_datetime(description.published, veille_config().tz)
    if description.visibility and description.visibility != folder.visibility:
        edits["visibility"] = description.visibility
    return edits
