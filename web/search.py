"""Search pages: the home page and the results page."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from indexer.engine import SearchRequest
from web import get_space

bp = Blueprint("search", __name__)

PER_PAGE = 10


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


@bp.get("/")
def home():
    return render_template("home.html")


@bp.get("/search")
def results():
    q = request.args.get("q", "").strip()
    page = _page_number(request.args.get("page"))
    found = get_space().search(SearchRequest(q=q, page=page, per_page=PER_PAGE))
    return render_template("search.html", q=q, results=found)
