"""What a search asks and what it answers: the records the web, the CLI and the digest use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Mapping

from veille.core.errors import VeilleError


# What to run when the index's files are damaged or gone: the catalog is the reference.
DAMAGED_HINT = "lancez « veille index --rebuild » (ou « veille restore » d'une sauvegarde)"


class IndexOutdated(VeilleError):
    """The index on disk was built by another engine or an older Veille: rebuild it."""

    code = "index_outdated"


class IndexDamaged(VeilleError):
    """Files of the index were deleted from under it: rebuild it (or restore a backup)."""

    code = "index_damaged"


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    # facet name (veille.core.facets) -> selected values (AND across facets, OR within one)
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    date_from: date | None = None
    date_to: date | None = None
    first_seen_after: date | None = None   # digests: documents first seen since a date
    sort: str = "relevance"                # relevance | date
    page: int = 1
    per_page: int = 10
    facets: bool = True
    highlight: bool = True
    suggest: bool = True
    include_internal: bool = False         # internal documents too (staff); never by default


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    url: str | None
    source: str
    kind: str
    published: str | None        # ISO date of Document.date
    score: float
    snippet: str                 # HTML: escaped text with <mark> around matches
    page: int | None = None      # PDF page of the snippet, 1-based
    themes: tuple[str, ...] = ()
    doc_type: str = ""
    visibility: str = "public"


@dataclass(frozen=True)
class SearchResults:
    total: int
    page: int
    per_page: int
    hits: tuple[Hit, ...]
    # facet name -> (value, count) pairs, as shown
    facets: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=lambda: MappingProxyType({}))
    notice: str = ""             # one line explaining a repaired query, in French
    suggestion: str = ""         # "did you mean" query, when some words are unknown
    expansions: tuple[str, ...] = ()   # French, one line per synonym or acronym also searched
    relaxed: bool = False        # few or no documents held every word: those holding most of them
    strict_total: int = 0        # how many held every word
    facets_estimated: bool = False   # facet counts estimated on a sample (very many matches)
    total_estimated: bool = False    # the number of matches estimated on the same sample

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))
