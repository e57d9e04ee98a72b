"""The narrow interface every search engine implements, and nothing more.

An engine stores `IndexedDocument`s and answers queries built from a handful of blocks
(term, phrase, set of values, all/any, exclusion, date range, boost); it returns document
ids with their scores, counts, facet counts and the terms of a field. Everything else —
the query language, wildcards, "did you mean", snippets, similar documents, visibility,
tie order, page caches — is written once above it (`indexer.search.compile`,
`indexer.search.space`). Only the adapters (`tantivy_backend`, `whoosh_backend`) import
their engine.

A backend is opened as `Backend(path, create=...)` on one index directory; `layout` says
which version of Veille's field layout the directory holds. An index of an older layout is
opened read-only (`writable` False) and may lack fields: `fields` lists those it has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Protocol, Sequence

from indexer.search.fields import IndexedDocument

Query = object   # an engine's own query object, opaque above the backend


class Backend(Protocol):
    name: str
    layout: int
    writable: bool
    fields: frozenset[str]
    text_fields: tuple[str, ...]

    # ------------------------------------------------------------ writing (all or nothing)
    def add(self, documents: Iterable[IndexedDocument]) -> int:
        """Add or replace documents in one commit; returns how many distinct ids."""
    def delete(self, ids: Iterable[str]) -> int: ...
    def optimize(self) -> None: ...

    # ------------------------------------------------------------ query blocks
    def term(self, field: str, term: str) -> Query: ...
    def phrase(self, field: str, terms: Sequence[str], slop: int = 0) -> Query: ...
    def values(self, field: str, values: Sequence[str]) -> Query: ...
    def all_of(self, queries: Sequence[Query]) -> Query: ...
    def any_of(self, queries: Sequence[Query]) -> Query: ...
    def excluding(self, query: Query, excluded: Sequence[Query]) -> Query: ...
    def date_range(self, field: str, start: datetime | None, end: datetime | None) -> Query: ...
    def boost(self, query: Query, factor: float) -> Query: ...
    def rank_with(self, required: Query, optional: Query) -> Query:
        """Matches what `required` matches; documents matching `optional` too score more."""
    def everything(self) -> Query: ...
    def nothing(self) -> Query: ...

    # ------------------------------------------------------------ reading
    def top(self, query: Query, limit: int, by_date: bool = False) -> list[tuple[str, float]]:
        """(id, key) of the best `limit` matches, best first: the key is the score, or with
        `by_date` the date (a timestamp), newest first. Equal keys come in any order."""
    def count(self, query: Query) -> int: ...
    def facet_counts(self, query: Query, fields: Sequence[str]) -> dict[str, list[tuple[str, int]]]: ...
    def terms(self, field: str, prefix: str = "", limit: int | None = None) -> list[tuple[str, int]]:
        """(term, document frequency) of a field starting with `prefix`; with `limit`, the
        most frequent ones, most frequent first."""
    def doc_freq(self, field: str, term: str) -> int: ...
    def doc_freqs(self, pairs: Sequence[tuple[str, str]]) -> list[int]:
        """`doc_freq` of each (field, term), read from one view of the index."""
    def doc_count(self) -> int: ...
    def segment_count(self) -> int: ...
    def missing_files(self) -> list[str]:
        """Files the index's table of contents names that are gone from its directory (a
        deleted segment): the engine would fail on the searches that reach them."""
    def generation(self) -> object:
        """Changes whenever the index does (another process's commit included)."""
    def close(self) -> None: ...
