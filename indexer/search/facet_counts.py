"""Facet counts of a search: how many matches hold each value of each facet.

Counting is a pass over every match, so where a search matches more than
FACETS_SAMPLED_ABOVE documents the counts come from one part of the collection in
SAMPLE_PARTS and are scaled: a broad search costs about the same at a million documents
as at a hundred thousand, and the page says its numbers are estimates."""

from __future__ import annotations

from indexer.search.analysis import fold
from indexer.search.backend import Backend, Query
from indexer.search.fields import FACET_FIELDS, MAX_FACET_VALUES, SAMPLE_PARTS, SAMPLED_PART, SINGLE_VALUED
from veille.core.facets import BY_NAME, FACET_NAMES

FACETS_SAMPLED_ABOVE = 100_000   # matches beyond which facets are counted on a sample


def count(backend: Backend, base: list[Query], selections: dict[str, Query],
          include_internal: bool) -> tuple[dict, int | None, bool]:
    """Facet counts (a facet's own selection does not narrow its counts: values are OR-ed
    within it), the number of documents matched when one scope tells it, and whether the
    counts are estimates (a scope counted on the part `fields.sample_part` calls SAMPLED_PART)."""
    names = [n for n in FACET_NAMES if FACET_FIELDS[n] in backend.fields
             and (include_internal or not BY_NAME[n].staff_only)]
    scopes: dict[str, list[str]] = {"": [n for n in names if n not in selections]}
    for name in names:
        if name in selections:
            scopes[name] = [name]
    counts: dict[str, list[tuple[str, int]]] = {}
    total, estimated = None, False
    for left_out, members in scopes.items():
        if not members:
            continue
        query = backend.all_of(base + [q for other, q in selections.items() if other != left_out])
        sampled = _sampled(backend, query)
        found = backend.facet_counts(sampled or query, [FACET_FIELDS[n] for n in members])
        for name in members:
            counts[name] = found.get(FACET_FIELDS[name], [])
            if sampled is not None:
                counts[name] = [(value, _estimate(count * SAMPLE_PARTS)) for value, count in counts[name]]
        estimated = estimated or sampled is not None
        if not left_out:
            whole = [n for n in members if FACET_FIELDS[n] in SINGLE_VALUED]
            if sampled is not None:
                total = backend.count(query)
            elif whole:   # each matched document has exactly one value of it
                total = sum(count for _, count in counts[whole[0]])
    return {name: ordered(name, counts.get(name, [])) for name in names}, total, estimated


def _sampled(backend: Backend, query: Query) -> Query | None:
    """`query` narrowed to the sampled part when it matches too many documents to count
    them all; None otherwise (or when the index has no parts)."""
    if "sample" not in backend.fields:
        return None
    part = backend.all_of([query, backend.values("sample", [SAMPLED_PART])])
    return part if backend.count(part) * SAMPLE_PARTS > FACETS_SAMPLED_ABOVE else None


def _estimate(count: int) -> int:
    """A count estimated from a sample, to two significant digits: 12,345 -> 12,000."""
    if count < 100:
        return count
    step = 10 ** (len(str(count)) - 2)
    return round(count / step) * step


def ordered(name: str, counts: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """A facet's (value, count) pairs as shown: years newest first, others most frequent first."""
    if name == "year":
        counts = sorted(counts, key=lambda item: item[0], reverse=True)
    else:
        counts = sorted(counts, key=lambda item: (-item[1], fold(item[0])))
    return tuple(counts[:MAX_FACET_VALUES])
