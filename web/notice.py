"""« Modifier la notice »: staff edit the description of any document, library file or crawled.

What they type is kept as edits in the catalog (`veille.storage.edits`): it wins over what
extraction, the library's metadata file or a crawl says, and no re-sync or re-crawl undoes it.
Only the fields they changed are recorded; the others keep following their source. The index
is told at once.
"""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request, url_for

from veille.core.errors import VeilleError
from web.auth import current_staff, staff_required
from web.documents import readable_document
from web.notice_form import changes, description_of, parse_description, vocabulary
from web.state import get_space, veille_config

log = logging.getLogger("veille.web")

bp = Blueprint("notice", __name__)

FIELD_LABELS = {"title": "titre", "authors": "auteurs", "published": "date", "themes": "thèmes",
                "territories": "territoires", "doc_type": "type", "summary": "résumé",
                "visibility": "visibilité"}


def index_now(space, what: str) -> None:
    """Tell the index at once; when it is busy, the next indexing takes the change."""
    try:
        space.index_pending()
    except VeilleError as exc:
        log.warning("%s enregistré, index non mis à jour : %s", what, exc)


@bp.route("/documents/<doc_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit(doc_id: str):
    doc = readable_document(doc_id)
    space, tz = get_space(), veille_config().tz
    edited = space.catalog.edits.of(doc.id)
    if request.method == "GET":
        return render_template("notice_edit.html", doc=doc, values=description_of(doc),
                               vocab=vocabulary(), problems=[], edited=_labels(edited))
    description, problems = parse_description(request.form)
    if problems:
        return render_template("notice_edit.html", doc=doc, values=description, vocab=vocabulary(),
                               problems=problems, edited=_labels(edited)), 400
    wanted = changes(doc, description, tz)
    if wanted:
        space.catalog.edits.record(doc.id, wanted, by=current_staff().email)
        space.catalog.documents.apply_edits(doc.id)
        log.info("notice de %s modifiée par %s : %s", doc.id, current_staff().email, ", ".join(sorted(wanted)))
        index_now(space, f"notice de {doc.id}")
    return redirect(url_for("documents.show", doc_id=doc.id, enregistre="notice"))


def _labels(edited) -> list[str]:
    return [FIELD_LABELS[field] for field in FIELD_LABELS if field in edited]
