"""The document page, its text pages, and the stored copy of the original."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for

from veille.core.errors import VeilleError
from veille.core.records import KIND_LIBRARY, KIND_PAGE_CHANGE, VISIBILITIES, Document
from web.auth import current_staff, is_staff, staff_required
from web.exports import reference_for
from web.files import send_confined
from web.params import page_window
from web.present import diff_lines
from web.references import citation_meta
from web.state import get_space, veille_config

log = logging.getLogger("veille.web")

bp = Blueprint("documents", __name__)

TEXT_PAGE_CHARS = 8000     # a screenful or two of prose; PDFs keep their own pages
SIMILAR = 5


@dataclass(frozen=True)
class TextPage:
    number: int
    total: int
    paragraphs: tuple[str, ...]
    is_pdf_page: bool


@dataclass(frozen=True)
class CitedByShown:
    documents: tuple          # of Related, newest first
    total: int                # documents citing the text in all
    query: str                # the search listing every one of them

    @property
    def more(self) -> int:
        return self.total - len(self.documents)


@dataclass(frozen=True)
class Related:
    """A document shown in a list (similar, cited by): whatever record the space returns."""
    id: str
    title: str
    source: str
    kind: str
    date: date | None      # the calendar date shown (Document.day)


def text_pages(content: str, page_count: int | None = None) -> list[str]:
    """The text cut in pages: the PDF's own pages ("\\f"), else runs of paragraphs."""
    if not content.strip():
        return []
    if "\f" in content or page_count:
        return content.split("\f")
    pages: list[str] = []
    current = ""
    for para in content.split("\n\n"):
        if current and len(current) + len(para) > TEXT_PAGE_CHARS:
            pages.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para
    if current:
        pages.append(current)
    return pages


def text_page(doc: Document, number: int) -> TextPage | None:
    """A page of the document's text; an item that came without full text (a feed entry, a
    listing's line) shows its summary as its text."""
    pages = text_pages(doc.content, doc.page_count) or text_pages(doc.summary)
    if not pages:
        return None
    number = max(1, min(number, len(pages)))
    paragraphs = tuple(p.strip() for p in pages[number - 1].split("\n\n") if p.strip())
    return TextPage(number, len(pages), paragraphs, "\f" in doc.content or bool(doc.page_count))


SUMMARY_CHARS = 1200


def summary_to_show(doc: Document) -> str:
    """The summary, unless it merely repeats the start of the text (feeds often send the
    text itself as the summary); a long one is cut at a word."""
    summary = " ".join(doc.summary.split())
    if not summary or not doc.content.strip():   # without full text, the summary is the text
        return ""
    head = summary[:200].rstrip(" .…")
    if head and head in " ".join(doc.content[:5000].split()):
        return ""
    if len(summary) > SUMMARY_CHARS:
        summary = summary[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"
    return summary


def _related(doc: Document) -> Related:
    return Related(doc.id, doc.title, doc.source, doc.kind, doc.day(veille_config().tz))


def similar_documents(doc_id: str) -> list[Related]:
    try:
        items = get_space().similar(doc_id, SIMILAR, include_internal=is_staff())
    except Exception:  # "similar" is a courtesy: the page shows without it
        log.exception("documents proches de %s : échec", doc_id)
        return []
    return [_related(d) for d in items if d.id != doc_id]


def legal_references(doc: Document) -> tuple[list, CitedByShown, list[Related]]:
    """(texts `doc` cites, as indexer.search.citations.Citation, with the local copies the
    reader may see; the newest documents citing it and their number; other copies of the
    same text from other sources)."""
    space, staff = get_space(), is_staff()
    try:
        cites = space.cites(doc.id, include_internal=staff)
        citing = space.cited_by(doc.id, include_internal=staff)
        same = [_related(d) for d in space.same_as(doc.id, include_internal=staff)]
    except Exception:  # references are a courtesy: the page shows without them
        log.exception("références juridiques de %s : échec", doc.id)
        return [], CitedByShown((), 0, ""), []
    cited_by = CitedByShown(tuple(_related(d) for d in citing.documents), citing.total,
                            " OR ".join(f"cite:{key}" for key in citing.keys))
    return cites, cited_by, same


def readable_document(doc_id: str) -> Document:
    """The document if this reader may see it, else 404 (the same as for no document)."""
    doc = get_space().document(doc_id, include_internal=is_staff())
    if doc is None:
        abort(404)
    return doc


@bp.get("/documents/<doc_id>")
def show(doc_id: str):
    doc = readable_document(doc_id)
    try:
        number = int(request.args.get("p", "1"))
    except ValueError:
        number = 1
    page = text_page(doc, number)
    cites, cited_by, same = legal_references(doc)
    diff = diff_lines(doc.extra.get("diff")) if doc.kind == KIND_PAGE_CHANGE or doc.extra.get("diff") else []
    library_file = doc.path if doc.kind == KIND_LIBRARY and doc.path else None
    return render_template(
        "document.html", doc=doc, page=page, summary=summary_to_show(doc),
        visibility_saved=request.args.get("enregistre") == "1",
        notice_saved=request.args.get("enregistre") == "notice",
        pages=page_window(page.number, page.total) if page else [],
        cites=cites, cited_by=cited_by, same=same,
        similar=similar_documents(doc_id), diff=diff, library_file=library_file,
        citation=citation_meta(reference_for(doc)))


@bp.post("/documents/<doc_id>/visibilite")
@staff_required
def set_visibility(doc_id: str):
    """Staff make a document public or internal; kept over every re-sync and re-crawl, and
    in force from the next request (the index is told at once; until it is, searches
    leave the document out all the same)."""
    doc = readable_document(doc_id)
    wanted = request.form.get("visibility", "")
    if wanted not in VISIBILITIES:
        abort(400)
    space = get_space()
    space.catalog.edits.record(doc.id, {"visibility": wanted}, by=current_staff().email)
    space.catalog.documents.apply_edits(doc.id)
    try:
        space.index_pending()
    except VeilleError as exc:   # busy or outdated index: the next indexing takes it
        log.warning("visibilité de %s enregistrée, index non mis à jour : %s", doc.id, exc)
    return redirect(url_for("documents.show", doc_id=doc.id, enregistre=1))


@bp.get("/documents/<doc_id>/copie")
def stored_copy(doc_id: str):
    """The copy the crawler stored under <data_dir>/files (PDFs open in the browser)."""
    doc = readable_document(doc_id)
    if not doc.stored_file:
        abort(404)
    return send_confined(veille_config().layout.files, doc.stored_file,
                         download_name=_download_name(doc))


def _download_name(doc: Document) -> str:
    suffix = "." + doc.stored_file.rsplit(".", 1)[-1] if "." in (doc.stored_file or "") else ""
    stem = "".join(c if c.isalnum() or c in "-_ " else "_" for c in doc.title)[:80].strip() or doc.id
    return stem + suffix.lower()
