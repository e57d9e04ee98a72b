"""The JSON API: the same searches as the pages, for other tools (documented in openapi.json)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from veille.core.records import KIND_LIBRARY, VISIBILITY_PUBLIC, Document
from web.auth import is_staff
from web.documents import legal_references, readable_document, similar_documents
from web.errors import WebError
from web.state import veille_config
from web.params import FACET_PARAMS, ParamError, parse_state
from web.search import run_search
from web.sources import status_json, statuses

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_PER_PAGE = 100


def _iso(value):
    return value.isoformat() if value is not None else None


def hit_json(hit) -> dict:
    return {"id": hit.id, "title": hit.title, "url": hit.url, "source": hit.source,
            "kind": hit.kind, "published": hit.published, "score": hit.score,
            "snippet": hit.snippet}


def facets_json(facets) -> dict:
    """Facet counts keyed by the URL parameter that filters on them (those the reader has)."""
    return {param: [{"value": str(value), "count": count} for value, count in facets[param]]
            for param in FACET_PARAMS if param in facets}


@bp.get("/search")
def search():
    try:
        state = parse_state(request.args, strict=True, staff=is_staff())
        per_page = int(request.args.get("per_page", "10") or 10)
    except ParamError as exc:
        raise WebError(400, str(exc)) from None
    except ValueError:
        raise WebError(400, "per_page doit être un nombre entier") from None
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise WebError(400, f"per_page doit être entre 1 et {MAX_PER_PAGE}")
    found = run_search(state, per_page=per_page)
    return jsonify({
        "total": found.total,
        "page": found.page,
        "results": [hit_json(hit) for hit in found.hits],
        "facets": facets_json(found.facets),
        "facets_estimated": found.facets_estimated,
        "total_estimated": found.total_estimated,
        "pages": found.pages,
        "per_page": found.per_page,
        "sort": state.effective_sort,
        "notice": found.notice,
        "suggestion": found.suggestion,
        "relaxed": found.relaxed,
        "expansions": list(found.expansions),
    })


def document_json(doc: Document) -> dict:
    cites, cited_by, same = legal_references(doc)
    return {
        "id": doc.id, "title": doc.title, "url": doc.url, "source": doc.source,
        "kind": doc.kind, "doc_type": doc.doc_type, "visibility": doc.visibility,
        "published": _iso(doc.published), "first_seen": _iso(doc.first_seen),
        "updated": _iso(doc.updated), "summary": doc.summary, "content": doc.content,
        "themes": list(doc.themes), "territories": list(doc.territories),
        "authors": list(doc.authors), "language": doc.language, "page_count": doc.page_count,
        "status": doc.status, "status_reason": doc.status_reason,
        "page_url": url_for("documents.show", doc_id=doc.id, _external=True),
        "stored_copy_url": url_for("documents.stored_copy", doc_id=doc.id, _external=True)
        if doc.stored_file else None,
        "download_url": url_for("library.download", name=doc.source, path=doc.path, _external=True)
        if doc.kind == KIND_LIBRARY and doc.path else None,
        "cites": [{"key": c.key, "label": c.label, "legifrance_url": c.legifrance_url,
                   "documents": [d.id for d in c.documents]} for c in cites],
        "cited_by": [r.id for r in cited_by.documents],
        "cited_by_total": cited_by.total,
        "same_as": [r.id for r in same],
        "similar": [r.id for r in similar_documents(doc.id)],
        "diff": doc.extra.get("diff") if isinstance(doc.extra.get("diff"), str) else None,
    }


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    return jsonify(document_json(readable_document(doc_id)))


@bp.get("/sources")
def sources():
    staff = is_staff()
    # a source whose documents are internal is not shown to the public at all
    internal = {source.name for source in veille_config().sources if source.visibility != VISIBILITY_PUBLIC}
    return jsonify({"sources": [status_json(s, staff) for s in statuses() if staff or s.name not in internal]})
