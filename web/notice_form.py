"""The description of a document as staff type it: read from a form, checked, compared.

One form serves the « Modifier la notice » page and the upload page: title, authors, date,
themes, territories (completed from the thesaurus), document type, summary, visibility.
`parse_description` reads it (French problems, nothing raised); `changes` says which fields
differ from a document, so an edit records only what staff changed and the rest keeps
following the source.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from indexer.enrich.thesaurus import default_thesaurus
from indexer.library.sync import DOC_TYPES
from veille.core.dates import calendar_date
from veille.core.records import VISIBILITIES, Document

MAX_TITLE = 500
MAX_SUMMARY = 5000
MAX_ITEMS = 30
MAX_ITEM = 200
LIST_FIELDS = ("authors", "themes", "territories")


@dataclass(frozen=True)
class Description:
    title: str = ""
    authors: tuple[str, ...] = ()
    published: date | None = None
    themes: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    doc_type: str = ""
    summary: str = ""
    visibility: str = ""


@dataclass(frozen=True)
class NoticeVocabulary:
    """What the form's fields complete from (HTML <datalist>: no script needed)."""
    themes: tuple[str, ...]
    territories: tuple[str, ...]
    doc_types: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def vocabulary() -> NoticeVocabulary:
    thesaurus = default_thesaurus()
    return NoticeVocabulary(themes=tuple(sorted(t.name for t in thesaurus.themes)),
                            territories=tuple(sorted(t.name for t in thesaurus.territories)),
                            doc_types=DOC_TYPES)


def _line(text: str) -> str:
    return " ".join((text or "").split())


def _items(values: list[str], label: str, problems: list[str]) -> tuple[str, ...]:
    # one value per field; a value typed with ";" in one field is several
    items = [_line(part) for value in values for part in value.split(";")]
    items = list(dict.fromkeys(item for item in items if item))
    if any(len(item) > MAX_ITEM for item in items):
        problems.append(f"{label} : {MAX_ITEM} caractères au plus par valeur.")
        items = [item[:MAX_ITEM] for item in items]
    if len(items) > MAX_ITEMS:
        problems.append(f"{label} : {MAX_ITEMS} valeurs au plus.")
        items = items[:MAX_ITEMS]
    return tuple(items)


def parse_description(form, *, title_required: bool = True) -> tuple[Description, list[str]]:
    """The description a form holds, and what is wrong with it (French, one line each)."""
    problems: list[str] = []
    title = _line(form.get("title", ""))
    if title_required and not title:
        problems.append("Le titre est obligatoire.")
    if len(title) > MAX_TITLE:
        problems.append(f"Le titre est trop long ({MAX_TITLE} caractères au plus).")
    published = None
    typed = form.get("published", "").strip()
    if typed:
        try:
            published = date.fromisoformat(typed)
        except ValueError:
            problems.append(f"La date « {typed} » n'est pas une date (AAAA-MM-JJ).")
    summary = "\n".join(line.rstrip() for line in form.get("summary", "").strip().splitlines())
    if len(summary) > MAX_SUMMARY:
        problems.append(f"Le résumé est trop long ({MAX_SUMMARY} caractères au plus).")
    visibility = form.get("visibility", "")
    if visibility and visibility not in VISIBILITIES:
        problems.append("Visibilité inconnue : « public » ou « interne ».")
        visibility = ""
    thesaurus = default_thesaurus()
    return Description(
        title=title[:MAX_TITLE],
        authors=_items(form.getlist("authors"), "Auteurs", problems),
        published=published,
        themes=thesaurus.canonical(_items(form.getlist("themes"), "Thèmes", problems)),
        territories=thesaurus.canonical(_items(form.getlist("territories"), "Territoires", problems)),
        doc_type=_line(form.get("doc_type", ""))[:MAX_ITEM],
        summary=summary[:MAX_SUMMARY],
        visibility=visibility,
    ), problems


def as_datetime(day: date | None, tz: tzinfo) -> datetime | None:
    """A typed day as the catalog keeps dates: midnight, in the centre's time zone."""
    return datetime(day.year, day.month, day.day, tzinfo=tz) if day else None


def changes(doc: Document, description: Description, tz: tzinfo) -> dict[str, Any]:
    """The edits (field -> value, as `catalog.edits.record` takes them) that make `doc` say
    what `description` says; fields it already says are left out."""
    found: dict[str, Any] = {}
    for field in ("title", "visibility"):     # never emptied: the form requires them
        value = getattr(description, field)
        if value and value != getattr(doc, field):
            found[field] = value
    if description.doc_type != doc.doc_type:
        found["doc_type"] = description.doc_type
    if description.summary != " ".join(doc.summary.split()) and description.summary != doc.summary:
        found["summary"] = description.summary
    for field in LIST_FIELDS:
        value = getattr(description, field)
        if value != getattr(doc, field):
            found[field] = value
    if description.published != stated_day(doc):
        found["published"] = as_datetime(description.published, tz)
    return found


def stated_day(doc: Document) -> date | None:
    """The publication date as its source stated it (never moved into the centre's zone)."""
    return calendar_date(doc.published) if doc.published else None


def description_of(doc: Document) -> Description:
    """What the form shows first: the document as it is."""
    return Description(title=doc.title, authors=doc.authors, published=stated_day(doc),
                       themes=doc.themes, territories=doc.territories, doc_type=doc.doc_type,
                       summary=doc.summary, visibility=doc.visibility)
