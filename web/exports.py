"""A search's results as references to take away: `/search.ris`, `/search.bib`, `/search.csv`.

Each reads the same query string as `/search` and `/search.atom` (words, facets, dates,
sort) and exports, in the search's order, up to EXPORT_LIMIT results the reader may see:
the search itself leaves internal documents out for anonymous readers, and each exported
document is checked again against the catalog.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, url_for

from veille.core.records import KIND_LIBRARY, VISIBILITY_PUBLIC, Document
from web.auth import is_staff
from web.params import parse_state
from web.present import kind_label, safe_http_url, source_title
from web.references import Reference, reference_of, to_bibtex, to_csv, to_ris
from web.search import run_search
from web.state import get_space, veille_config

bp = Blueprint("exports", __name__)

EXPORT_LIMIT = 1000
FORMATS = {
    "ris": ("application/x-research-info-systems; charset=utf-8", to_ris),
    "bib": ("application/x-bibtex; charset=utf-8", to_bibtex),
    "csv": ("text/csv; charset=utf-8", lambda refs: to_csv(refs, kind_label)),
}


def absolute(path: str) -> str:
    return veille_config().web.base_url.rstrip("/") + path


def reference_for(doc: Document) -> Reference:
    """The reference of a catalog document, its links made absolute on `web.base_url`."""
    pdf_url = None
    if doc.kind == KIND_LIBRARY and doc.path and doc.path.lower().endswith(".pdf"):
        pdf_url = absolute(url_for("library.download", name=doc.source, path=doc.path))
    elif doc.stored_file and doc.stored_file.lower().endswith(".pdf"):
        pdf_url = absolute(url_for("documents.stored_copy", doc_id=doc.id))
    return reference_of(doc, page_url=absolute(url_for("documents.show", doc_id=doc.id)),
                        publisher=source_title(doc.source), tz=veille_config().tz,
                        original_url=safe_http_url(doc.url), pdf_url=pdf_url)


def search_references() -> list[Reference]:
    from flask import request

    staff = is_staff()
    state = parse_state(request.args, staff=staff)
    found = run_search(replace(state, page=1), per_page=EXPORT_LIMIT, facets=False, highlight=False,
                       suggest=False)
    ids = [hit.id for hit in found.hits]
    cards = get_space().catalog.documents.cards(ids)
    return [reference_for(cards[i]) for i in ids
            if i in cards and (staff or cards[i].visibility == VISIBILITY_PUBLIC)]


@bp.get("/search.<any(ris, bib, csv):fmt>")
def export(fmt: str):
    mimetype, write = FORMATS[fmt]
    response = Response(write(search_references()), content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="veille-recherche.{fmt}"'
    return response
