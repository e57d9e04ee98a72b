"""Search parameters as they travel in URLs: parsed once, rebuilt for every link.

The page, the Atom feed and the JSON API read the same query string, so a search can move
between them unchanged. Facet links add or remove one value and go back to page 1; nothing
here needs JavaScript.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Iterable, Mapping
from urllib.parse import quote_plus

from indexer.search.request import SearchRequest
from veille.core.facets import FACET_NAMES, FACETS, PUBLIC_FACETS

# URL parameters of the facets, in display order (`visibility` for staff only), and labels.
FACET_PARAMS: tuple[str, ...] = FACET_NAMES
FACET_LABELS: Mapping[str, str] = MappingProxyType({facet.name: facet.label for facet in FACETS})

SORTS = ("relevance", "date")
MAX_PAGE = 1000
MAX_QUERY = 500
MAX_VALUES = 20       # per facet: more selected values than this is not a person clicking


class ParamError(ValueError):
    """A parameter the API refuses (the HTML pages repair instead, with a notice)."""


@dataclass(frozen=True)
class SearchState:
    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    problems: tuple[str, ...] = ()    # French, one line each: what was ignored and why

    # ------------------------------------------------------------ reading

    @property
    def effective_sort(self) -> str:
        """Without words there is no relevance: the newest documents come first."""
        return self.sort if self.q else "date"

    @property
    def active(self) -> list[tuple[str, str]]:
        """Selected (param, value) pairs, in facet order."""
        return [(p, v) for p in FACET_PARAMS for v in self.filters.get(p, ())]

    def is_selected(self, param: str, value: str) -> bool:
        return value in self.filters.get(param, ())

    def request(self, per_page: int = 10, **overrides) -> SearchRequest:
        filters = {p: values for p, values in self.filters.items() if values}
        values = dict(q=self.q, filters=MappingProxyType(filters), date_from=self.date_from,
                      date_to=self.date_to, sort=self.effective_sort, page=self.page,
                      per_page=per_page)
        values.update(overrides)
        return SearchRequest(**values)

    # ------------------------------------------------------------ rebuilding

    def args(self) -> list[tuple[str, str]]:
        """The query string pairs of this state (defaults left out, so URLs stay short)."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        pairs.extend(self.active)
        if self.date_from:
            pairs.append(("from", self.date_from.isoformat()))
        if self.date_to:
            pairs.append(("to", self.date_to.isoformat()))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def query_string(self) -> str:
        return query_string(self.args())

    def toggled(self, param: str, value: str) -> "SearchState":
        """This search with `value` of facet `param` added, or removed if it was selected."""
        current = self.filters.get(param, ())
        values = tuple(v for v in current if v != value) if value in current else (*current, value)
        filters = {p: vs for p, vs in self.filters.items() if p != param}
        if values:
            filters[param] = values
        return replace(self, filters=MappingProxyType(filters), page=1, problems=())

    def without_dates(self) -> "SearchState":
        return replace(self, date_from=None, date_to=None, page=1, problems=())

    def cleared(self) -> "SearchState":
        """The same words with no filters."""
        return SearchState(q=self.q, sort=self.sort)

    def with_page(self, page: int) -> "SearchState":
        return replace(self, page=page, problems=())

    def with_sort(self, sort: str) -> "SearchState":
        return replace(self, sort=sort, page=1, problems=())

    def with_query(self, q: str) -> "SearchState":
        return replace(self, q=q, page=1, problems=())


class ToggleLinks:
    """The query strings of `state.toggled(param, value)` for the many values of a page.

    A results page links every facet value it shows, about a hundred: building a state and
    encoding its whole query string for each cost more CPU than the search itself when the
    engine's page cache answered. Here the pairs that do not change are encoded once;
    `query_string(param, value)` equals `state.toggled(param, value).query_string()`.
    """

    def __init__(self, state: SearchState):
        head = [_pair("q", state.q)] if state.q else []
        tail = []
        if state.date_from:
            tail.append(_pair("from", state.date_from.isoformat()))
        if state.date_to:
            tail.append(_pair("to", state.date_to.isoformat()))
        if state.sort != "relevance":
            tail.append(_pair("sort", state.sort))
        # toggling goes back to page 1, which the query string leaves out
        self._selected = {p: {v: _pair(p, v) for v in state.filters.get(p, ())} for p in FACET_PARAMS}
        self._around: dict[str, tuple[str, str]] = {}
        params = list(FACET_PARAMS)
        for i, param in enumerate(params):
            before = head + [e for p in params[:i] for e in self._selected[p].values()]
            after = [e for p in params[i + 1:] for e in self._selected[p].values()] + tail
            self._around[param] = ("&".join(before), "&".join(after))
        self._untouched = "&".join(head + [e for p in params for e in self._selected[p].values()] + tail)

    def query_string(self, param: str, value: str) -> str:
        if param not in self._around:   # not a facet: the state's args leave it out
            return self._untouched
        before, after = self._around[param]
        selected = self._selected[param]
        if value in selected:
            middle = "&".join(e for v, e in selected.items() if v != value)
        else:
            middle = "&".join([*selected.values(), _pair(param, value)])
        return "&".join(part for part in (before, middle, after) if part)


def query_string(pairs: Iterable[tuple[str, str]]) -> str:
    """`urlencode(pairs)` for text pairs, through the cache of encoded pairs."""
    return "&".join(_pair(name, value) for name, value in pairs)


@functools.lru_cache(maxsize=4096)
def _pair(name: str, value: str) -> str:
    """One `name=value` of a query string, encoded as `urlencode` does (facet values recur
    from page to page, hence the cache)."""
    return f"{quote_plus(name)}={quote_plus(value)}"


def _parse_date(text: str, label: str, strict: bool, problems: list[str]) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = f"La date {label} « {text} » n'est pas au format AAAA-MM-JJ ; elle a été ignorée."
        if strict:
            raise ParamError(f"« {text} » n'est pas une date (AAAA-MM-JJ)") from None
        problems.append(message)
        return None


def parse_state(args, strict: bool = False, staff: bool = False) -> SearchState:
    """Read a search from request args (a MultiDict). Bad values are dropped with a French
    notice, or raise ParamError when `strict` (the API prefers an explicit 400)."""
    problems: list[str] = []
    q = " ".join(args.get("q", "").split())
    if len(q) > MAX_QUERY:
        if strict:
            raise ParamError(f"q dépasse {MAX_QUERY} caractères")
        q = q[:MAX_QUERY]
        problems.append(f"La recherche a été raccourcie à {MAX_QUERY} caractères.")

    filters: dict[str, tuple[str, ...]] = {}
    for param in FACET_PARAMS if staff else PUBLIC_FACETS:
        values = _unique(v.strip() for v in args.getlist(param) if v.strip())
        if len(values) > MAX_VALUES:
            if strict:
                raise ParamError(f"au plus {MAX_VALUES} valeurs de {param}")
            values = values[:MAX_VALUES]
        if values:
            filters[param] = values

    date_from = _parse_date(args.get("from", ""), "de début", strict, problems)
    date_to = _parse_date(args.get("to", ""), "de fin", strict, problems)
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
        problems.append("Les dates de début et de fin étaient inversées ; elles ont été échangées.")

    sort = args.get("sort", "relevance") or "relevance"
    if sort not in SORTS:
        if strict:
            raise ParamError(f"sort doit valoir {' ou '.join(SORTS)}")
        problems.append("Tri inconnu : les résultats sont triés par pertinence.")
        sort = "relevance"

    page_text = args.get("page", "1") or "1"
    try:
        page = int(page_text)
    except ValueError:
        if strict:
            raise ParamError("page doit être un nombre entier") from None
        page = 1
    if strict and not 1 <= page <= MAX_PAGE:
        raise ParamError(f"page doit être entre 1 et {MAX_PAGE}")
    page = max(1, min(page, MAX_PAGE))

    return SearchState(q=q, filters=MappingProxyType(filters), date_from=date_from,
                       date_to=date_to, sort=sort, page=page, problems=tuple(problems))


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def page_window(page: int, pages: int, width: int = 2) -> list[int | None]:
    """Page numbers to show around `page`: first, last, neighbours; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, page - width), min(pages, page + width) + 1)})
    out: list[int | None] = []
    for number in shown:
        if out and number - out[-1] > 1:
            out.append(None)
        out.append(number)
    return out
