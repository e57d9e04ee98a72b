"""The document page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from web import get_space

bp = Blueprint("documents", __name__)


@bp.get("/documents/<doc_id>")
def show(doc_id: str):
    doc = get_space().document(doc_id)
    if doc is None:
        abort(404)
    return render_template("document.html", doc=doc)
