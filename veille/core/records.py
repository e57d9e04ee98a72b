"""Records shared across packages: catalog documents and search requests/results."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from types import MappingProxyType
from typing import Any, Mapping

# Document kinds, as shown to users (and used as facet values).
KIND_LEGAL = "juridique"
KIND_NEWS = "actualité"
KIND_PUBLICATION = "publication"
KIND_LIBRARY = "bibliothèque"
KIND_PAGE_CHANGE = "page modifiée"
KINDS = (KIND_LEGAL, KIND_NEWS, KIND_PUBLICATION, KIND_LIBRARY, KIND_PAGE_CHANGE)

# Who may see a library folder's or a source's documents: anyone, or staff only.
VISIBILITY_PUBLIC = "public"
VISIBILITY_INTERNAL = "interne"
VISIBILITIES = (VISIBILITY_PUBLIC, VISIBILITY_INTERNAL)

# When an alert's recipients hear of what it finds: in the digest (on `digest.schedule`,
# weekly by default), or by an e-mail right after the crawl that found it.
FREQUENCY_WEEKLY = "weekly"
FREQUENCY_IMMEDIATE = "immediate"
ALERT_FREQUENCIES = (FREQUENCY_WEEKLY, FREQUENCY_IMMEDIATE)

# Facet fields, in the order they are shown.
FACETS = ("kind", "source", "themes", "territories", "doc_type", "year")


def document_id(key: str) -> str:
    """Stable, URL-safe id from a canonical URL or `library:<name>/<path>`."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def content_hash(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Document:
    """One entry of the documentation space: a crawled item or a library file."""

    id: str
    title: str
    source: str                      # source slug, or library name
    kind: str                        # one of KINDS
    first_seen: datetime
    url: str | None = None           # canonical URL of the original (crawled documents)
    path: str | None = None          # path relative to its library folder (library files)
    summary: str = ""
    content: str = ""                # extracted full text ("\f" between PDF pages)
    published: datetime | None = None
    updated: datetime | None = None
    content_hash: str = ""
    stored_file: str | None = None   # stored copy, relative to <data_dir>/files
    doc_type: str = ""               # guide, fiche d'expérience, compte-rendu, étude, décret ...
    themes: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    language: str = "fr"
    page_count: int | None = None
    status: str = "ok"               # ok | empty | error
    status_reason: str = ""          # why no text could be extracted, in plain words
    visibility: str = VISIBILITY_PUBLIC   # public | interne (staff only)
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def date(self) -> datetime:
        """The date sorted on: publication, else first seen."""
        return self.published or self.first_seen

    def day(self, tz: tzinfo | None) -> date:
        """The calendar date shown: the publication date as the source stated it (a date-time
        keeps its own offset's date, never shifted into `tz`), else the day it was first
        seen, in `tz`."""
        if self.published is not None:
            return self.published.date()
        seen = self.first_seen
        return (seen.astimezone(tz) if tz is not None and seen.tzinfo is not None else seen).date()
