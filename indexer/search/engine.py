"""The search-engine interface: requests, results, and the protocol each engine implements.

Only `indexer/` knows which engine runs (Whoosh by default, tantivy for large collections);
everything else talks to `indexer.search.space.DocumentSpace`, which speaks these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Callable, Iterable, Mapping, Protocol

from veille.core.records import Document
from veille.core.errors import VeilleError


class IndexOutdated(VeilleError):
    """The index on disk was built with another schema (an older Veille): rebuild it."""

    code = "index_outdated"


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    # facet field -> selected values (AND across fields, OR within one field)
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    date_from: date | None = None
    date_to: date | None = None
    first_seen_after: date | None = None   # digests: documents first seen since a date
    sort: str = "relevance"                # relevance | date
    page: int = 1
    per_page: int = 10
    facets: bool = True
    highlight: bool = True
    # legal key named in `q` -> other keys of the same text in the catalog (its NOR, ELI,
    # date...), so `loi 2014-173` also finds texts citing the law by NOR or date. Filled by
    # DocumentSpace.search; engines pass it to indexer.search.query.parse_query.
    legal_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


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


@dataclass(frozen=True)
class SearchResults:
    total: int
    page: int
    per_page: int
    hits: tuple[Hit, ...]
    facets: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=lambda: MappingProxyType({}))
    notice: str = ""             # one line explaining a repaired query, in French
    suggestion: str = ""         # "did you mean" query, when some words are unknown
    partial: bool = False        # the time limit cut the search short

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


TextOf = Callable[[str], str]   # document id -> its text, from the catalog (the index stores none)


class SearchEngine(Protocol):
    """What an engine provides. Document text is fetched from the catalog for highlights.

    An engine class is built as `Engine(path, tz=tzinfo)`: the index lives in the directory
    `path` (created when absent); `tz` is the centre's time zone, used for the `year` facet,
    `Hit.published` and date filters (whole local days). Engines share `indexer.search.analysis`
    (terms), `indexer.search.query` (syntax), `indexer.search.fields` (what is indexed) and
    `indexer.search.highlight` (snippets), so they answer alike; `tests/test_search.py` runs
    against each. `add` and `delete` commit whole or not at all.
    """

    name: str

    def add(self, documents: Iterable[Document]) -> int: ...
    def delete(self, ids: Iterable[str]) -> int: ...
    def search(self, request: SearchRequest, text_of: TextOf) -> SearchResults: ...
    def more_like_this(self, doc_id: str, limit: int = 5, text_of: TextOf | None = None) -> list[str]: ...
    def doc_count(self) -> int: ...
    def optimize(self) -> None: ...
    def close(self) -> None: ...
