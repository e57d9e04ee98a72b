"""Search pages: the home page, the results page and the Atom feed of any search."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import Blueprint, Response, redirect, render_template, request

from indexer.search.request import SearchRequest, SearchResults
from web.atom import search_feed
from web.auth import is_staff
from web.params import (FACET_LABELS, FACET_PARAMS, SearchState, ToggleLinks,
                        page_window, parse_state)
from web.present import endpoint_url, facet_value_label, search_url, source_title
from web.state import get_space, veille_config

bp = Blueprint("search", __name__)

PER_PAGE = 10
FEED_SIZE = 50
FACET_VALUES_SHOWN = 8
RECENT_DAYS = 7


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    url: str            # the search with this value toggled


@dataclass(frozen=True)
class FacetGroup:
    param: str
    label: str
    values: tuple[FacetValue, ...]      # the first FACET_VALUES_SHOWN, selected ones included
    more: tuple[FacetValue, ...]        # the rest, behind a <details>


def run_search(state: SearchState, per_page: int = PER_PAGE, **overrides) -> SearchResults:
    """The search of `state` (the query parser repairs what it cannot read, and says so in
    the results' notice)."""
    overrides.setdefault("include_internal", is_staff())
    return get_space().search(state.request(per_page=per_page, **overrides))


def facet_groups(state: SearchState, facets) -> list[FacetGroup]:
    groups = []
    links = ToggleLinks(state)
    base = endpoint_url("search.results")

    def toggle_url(param: str, value: str) -> str:
        query = links.query_string(param, value)
        return f"{base}?{query}" if query else base

    for param in FACET_PARAMS:
        counts = list(facets.get(param, ()))
        if param == "year":
            counts.sort(key=lambda vc: vc[0], reverse=True)
        present = {value for value, _ in counts}
        # a selected value with no result left is still shown, so it can be removed
        counts += [(v, 0) for v in state.filters.get(param, ()) if v not in present]
        values = [FacetValue(value=str(value), label=facet_value_label(param, str(value)), count=count,
                             selected=state.is_selected(param, str(value)),
                             url=toggle_url(param, str(value)))
                  for value, count in counts if str(value)]
        if not values:
            continue
        shown = values[:FACET_VALUES_SHOWN]
        shown += [v for v in values[FACET_VALUES_SHOWN:] if v.selected]
        more = [v for v in values[FACET_VALUES_SHOWN:] if not v.selected]
        groups.append(FacetGroup(param, FACET_LABELS[param], tuple(shown), tuple(more)))
    return groups


def recent_documents(limit: int = 5):
    found = get_space().search(SearchRequest(q="", sort="date", per_page=limit, include_internal=is_staff(),
                                             facets=False, highlight=False))
    return found.hits


@bp.get("/")
def home():
    config = veille_config()
    since = (datetime.now(config.tz) - timedelta(days=RECENT_DAYS)).date()
    found = get_space().search(SearchRequest(q="", first_seen_after=since, sort="date", per_page=60,
                                             include_internal=is_staff(),
                                             facets=False, highlight=False))
    by_theme: dict[str, list] = {}
    for hit in found.hits:
        for theme in hit.themes or ("Autres sujets",):
            by_theme.setdefault(theme, []).append(hit)
    themes = sorted(by_theme.items(), key=lambda item: (item[0] == "Autres sujets", -len(item[1]), item[0]))
    recent = recent_documents(8) if not found.hits else ()
    return render_template("home.html", themes=themes, week_total=found.total, since=since,
                           recent=recent)


def same_text_groups(hits) -> tuple[dict[str, list], set[str]]:
    """Hits that are one legal text from several sources (a JORF feed item, the API text, a
    PDF in the library) are shown together: ({first hit id: [the other hits]}, their ids)."""
    legal_ids = get_space().legal_ids([hit.id for hit in hits])
    first: dict[str, str] = {}
    groups: dict[str, list] = {}
    twins: set[str] = set()
    for hit in hits:
        legal_id = legal_ids.get(hit.id)
        if legal_id is None:
            continue
        if legal_id in first:
            groups.setdefault(first[legal_id], []).append(hit)
            twins.add(hit.id)
        else:
            first[legal_id] = hit.id
    return groups, twins


@bp.get("/search")
def results():
    state = parse_state(request.args, staff=is_staff())
    found = run_search(state)
    if found.total and state.page > found.pages:
        return redirect(search_url(state.with_page(found.pages)))
    recent = recent_documents() if not found.total else ()
    same_text, twins = same_text_groups(found.hits)
    return render_template(
        "search.html", q=state.q, state=state, results=found,
        same_text=same_text, twins=twins,
        facets=facet_groups(state, found.facets), recent=recent,
        pages=page_window(found.page, found.pages), first=(found.page - 1) * found.per_page + 1,
        last=min(found.total, found.page * found.per_page),
        feed_url=search_url(replace(state, page=1), endpoint="search.feed"))


@bp.get("/search.atom")
def feed():
    state = parse_state(request.args, staff=is_staff())
    # A feed follows what is new: newest first unless the subscriber asked otherwise.
    sort = state.sort if "sort" in request.args else "date"
    found = run_search(replace(state, sort=sort, page=1), per_page=FEED_SIZE, facets=False)
    config = veille_config()
    body = search_feed(state, found, base_url=config.web.base_url,
                       page_url=search_url(replace(state, page=1)),
                       self_url=search_url(replace(state, page=1), endpoint="search.feed"),
                       source_name=source_title, tz=config.tz)
    return Response(body, mimetype="application/atom+xml")
