"""The source forms of the sources page, read and checked: pure functions, no I/O.

A new source (a feed or a listing page) becomes the values of its `sources.yaml` entry, in
the order the file writes them; the change form touches only title, schedule, tags and
visibility. Whatever the configuration's own checks then find (veille.core.config, through
veille.core.config_write) comes back as `file:line: sources[N].key: message` problems,
turned here into a message beside the field concerned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from veille.core.config import Source
from veille.core.records import KIND_LEGAL, KIND_NEWS, KIND_PUBLICATION, VISIBILITIES, VISIBILITY_PUBLIC

ADDABLE_KINDS = ("feed", "page")
# The document kinds a source's first tag may give its documents (see watch.crawler.source_kind).
NATURES = (KIND_NEWS, KIND_PUBLICATION, KIND_LEGAL)
SCHEDULES = ("30m", "1h", "6h", "12h", "1d", "1w")
SELECTORS = ("item", "link", "title", "date", "summary")
DEFAULT_SCHEDULE = "6h"


@dataclass(frozen=True)
class SourceForm:
    values: dict[str, Any]                              # the entry as sources.yaml writes it
    errors: dict[str, str] = field(default_factory=dict)  # form field -> what is wrong, in French


def _text(form: Mapping[str, str], name: str, limit: int = 500) -> str:
    return " ".join(str(form.get(name, "")).split())[:limit]


def _tags(form: Mapping[str, str]) -> list[str]:
    """The nature (a document kind), then the other labels, comma-separated, each once."""
    tags = [tag.strip() for tag in str(form.get("tags", "")).split(",") if tag.strip()]
    nature = _text(form, "nature")
    if nature in NATURES:
        tags = [nature] + [t for t in tags if t not in NATURES]
    return list(dict.fromkeys(tag[:100] for tag in tags))


def parse_new_source(form: Mapping[str, str], name: str) -> SourceForm:
    """A new feed or page source from the form; `name` is the one it will get (unique)."""
    errors: dict[str, str] = {}
    title = _text(form, "title", 200)
    kind = _text(form, "kind")
    if not title:
        errors["title"] = "Donnez un nom à la source."
    if kind not in ADDABLE_KINDS:
        errors["kind"] = "Choisissez un flux RSS/Atom ou une page de liste."
        kind = "feed"
    url = _text(form, "url", 2000)
    if not url:
        errors["url"] = "Indiquez l'adresse du flux ou de la page."
    values: dict[str, Any] = {"name": name, "title": title, "kind": kind, "url": url,
                              "schedule": _text(form, "schedule") or DEFAULT_SCHEDULE, "tags": _tags(form)}
    visibility = _text(form, "visibility")
    if visibility and visibility != VISIBILITY_PUBLIC:
        values["visibility"] = visibility
    if kind == "feed":
        values["fetch_full"] = True if form.get("fetch_full") else None
    else:
        select = {key: _text(form, f"select_{key}") for key in SELECTORS}
        for key in ("item", "link"):
            if not select[key]:
                errors[f"select_{key}"] = "Ce sélecteur est nécessaire pour une page de liste."
        values["select"] = {k: v for k, v in select.items() if v}
        values["next"] = _text(form, "next") or None
        values["follow"] = True if form.get("follow") else None
    return SourceForm(values, errors)


def parse_source_changes(form: Mapping[str, str]) -> SourceForm:
    """What the change form sets on an existing source; empty values fall back to defaults."""
    errors: dict[str, str] = {}
    title = _text(form, "title", 200)
    if not title:
        errors["title"] = "Donnez un nom à la source."
    visibility = _text(form, "visibility")
    return SourceForm({"title": title, "schedule": _text(form, "schedule") or DEFAULT_SCHEDULE,
                       "tags": _tags(form),
                       "visibility": visibility if visibility in VISIBILITIES and visibility != VISIBILITY_PUBLIC
                       else None}, errors)


def form_values(source: Source) -> dict[str, str]:
    """The change form filled in from a source as configured."""
    nature = next((tag for tag in source.tags if tag in NATURES), "")
    return {"title": source.title, "schedule": source.schedule, "nature": nature,
            "tags": ", ".join(tag for tag in source.tags if tag != nature), "visibility": source.visibility}


PROBLEM_RE = re.compile(r"^[^:]*:\d+: sources\[\d+\]\.([\w.]+?)(?:\[\d+\])?: (.*)$")
FIELDS = {"select.item": "select_item", "select.link": "select_link", "select.title": "select_title",
          "select.date": "select_date", "select.summary": "select_summary"}


def errors_from_problems(problems: list[str], fields: tuple[str, ...]) -> dict[str, str]:
    """The configuration's problems beside the form's fields (`general` for the others)."""
    errors: dict[str, str] = {}
    for problem in problems:
        match = PROBLEM_RE.match(problem)
        key = FIELDS.get(match.group(1), match.group(1)) if match else ""
        name = key if key in fields else "general"
        message = match.group(2) if match and name != "general" else problem
        errors[name] = f"{errors[name]} ; {message}" if name in errors else message
    return errors
