"""How records are shown: template filters and globals shared by every page.

Crawled text is data, never markup: templates rely on Jinja's autoescaping, the only HTML
taken as is being the engine's snippets (escaped text with <mark>). Links to the outside
world are rendered only for http(s) URLs, so a `javascript:` URL stays inert text.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g, url_for
from markupsafe import Markup, escape

from veille.core.config_checks import is_http_url
from veille.core.labels import VISIBILITY_LABELS, document_kind_label, source_kind_label
from veille.core.schedules import describe_schedule
from web.params import FACET_LABELS, FACET_PARAMS, SearchState, query_string
from web.menu import menu_links
from web.state import veille_config



def safe_http_url(value) -> str | None:
    """`value` if it is an http(s) URL, else None (the template then shows no link)."""
    text = str(value or "").strip()
    return text if text and is_http_url(text) else None


def source_title(slug: str) -> str:
    """The human title of a watched source or library folder, else the slug itself."""
    config = veille_config()
    for source in config.sources:
        if source.name == slug:
            return source.title
    return slug


def kind_label(kind: str) -> str:
    return document_kind_label(kind)


def source_beside_kind(slug: str, kind: str) -> str:
    """The source's title for a line that already shows the document's kind, or "" when it
    would only repeat it (the library folder « Bibliothèque du centre » of a library file)."""
    title = source_title(slug)
    return "" if title.casefold() == kind_label(kind).casefold() else title


def facet_value_label(param: str, value: str) -> str:
    if param == "source":
        return source_title(value)
    if param == "kind":
        return kind_label(value)
    if param == "visibility":
        return VISIBILITY_LABELS.get(value, value)
    return value


def search_url(state: SearchState | None = None, endpoint: str = "search.results", **params) -> str:
    """URL of a search page (or feed) for `state`, or for plain `params` (q=..., theme=...)."""
    query = state.query_string() if state is not None else query_string(
        (k, str(v)) for k, v in params.items() if v not in (None, ""))
    base = endpoint_url(endpoint)
    return f"{base}?{query}" if query else base


def endpoint_url(endpoint: str) -> str:
    """`url_for(endpoint)`, built once per request: a results page links to the search
    page some thirty times (themes of each hit, pages, feed)."""
    built = g.setdefault("veille_endpoint_urls", {})
    url = built.get(endpoint)
    if url is None:
        url = built[endpoint] = url_for(endpoint)
    return url


def as_date(value) -> date | datetime | None:
    """ISO text (a Hit's `published`) or a date, as a date for `french_date`."""
    if value is None or isinstance(value, (date, datetime)):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def diff_lines(diff) -> list[tuple[str, str]]:
    """(css class, line) for a unified diff: added, removed, hunk header, or context."""
    if not diff:
        return []
    text = diff if isinstance(diff, str) else "\n".join(str(line) for line in diff)
    out = []
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            css = "file"
        elif line.startswith("+"):
            css = "added"
        elif line.startswith("-"):
            css = "removed"
        elif line.startswith("@@"):
            css = "hunk"
        else:
            css = "context"
        out.append((css, line))
    return out


# what a selected facet value adds: to its link, before its label, after it
_SELECTED = (' class="selected" aria-current="true"', '<span aria-hidden="true">✓ </span>',
             '<span class="visually-hidden"> (sélectionné, cliquer pour retirer)</span>')


def facet_items(values, estimated: bool = False) -> Markup:
    """The `<li>` of each facet value (web.search.FacetValue), a link toggling it. Written
    here and not in a template: a results page shows about a hundred values, and Jinja's
    attribute lookups and escaping per value were a fifth of a cached page's CPU."""
    approx = "≈ " if estimated else ""
    items = []
    for v in values:
        chosen, tick, hint = _SELECTED if v.selected else ("", "", "")
        items.append(f'<li><a href="{escape(v.url)}"{chosen}><span class="label">{tick}{escape(v.label)}{hint}'
                     f'</span> <span class="n">{approx if v.count else ""}{v.count}</span></a></li>')
    return Markup("".join(items))


def install(app: Flask) -> None:
    app.add_template_filter(safe_http_url, "http_url")
    app.add_template_filter(source_title, "source_title")
    app.add_template_global(source_beside_kind, "source_beside_kind")
    app.add_template_filter(kind_label, "kind_label")
    app.add_template_filter(source_kind_label, "source_kind_label")
    app.add_template_filter(describe_schedule, "schedule_words")
    app.add_template_filter(as_date, "as_date")
    app.add_template_global(search_url, "search_url")
    app.add_template_global(menu_links, "menu_links")
    app.add_template_global(facet_value_label, "facet_value_label")
    app.add_template_global(facet_items, "facet_items")
    app.add_template_global(FACET_LABELS, "FACET_LABELS")
    app.add_template_global(FACET_PARAMS, "FACET_PARAMS")
