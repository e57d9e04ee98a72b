"""Facet counts of a search: how many matches hold each value of each facet.

Counting is a pass over every match, so where a search matches more than
FACETS_SAMPLED_ABOVE documents the counts come from one part of the collection in
SAMPLE_PARTS and are scaled: a broad search costs about the same at a million documents
as at a hundred thousand (the number of matches is estimated on the same part), and the
page says its numbers are estimates."""

from __future__ import annotations

from indexer.search.analysis import fold
from indexer.search.backend import Backend, Query
from indexer.search.fields import FACET_FIELDS, MAX_FACET_VALUES, SAMPLE_PARTS, SAMPLED_PART, SINGLE_VALUED
from veille.core.facets import BY_NAME, FACET_NAMES

FACETS_SAMPLED_ABOVE = 100_000   # matches beyond which facets are counted on a sample


def sampled_part(backend: Backend) -> Query | None:
    """The part of the collection facets are counted on first, or None where the
    collection is counted whole."""
    if "sample" not in backend.fields or backend.doc_count() <= FACETS_SAMPLED_ABOVE:
        return None
    return backend.values("sample", [SAMPLED_PART])


def count(backend: Backend, base: list[Query], selections: dict[str, Query], withheld: list[Query],
          include_internal: bool, part_base: list[Query] | None = None) -> tuple[dict, int | None, bool, bool]:
    """Facet counts of the matches of `base` less `withheld` (a facet's own selection does
    not narrow its counts: values are OR-ed within it), the number of documents matched when
    one scope tells it, whether the counts are estimates (a scope counted on the part
    `fields.sample_part` calls SAMPLED_PART), and whether the number matched is one too.
    `part_base` is `base` with its words restricted to that part one by one
    (`Compiler.compile(within=...)`), cheaper to count on it than `base` intersected whole."""
    names = [n for n in FACET_NAMES if FACET_FIELDS[n] in backend.fields
             and (include_internal or not BY_NAME[n].staff_only)]
    scopes: dict[str, list[str]] = {"": [n for n in names if n not in selections]}
    for name in names:
        if name in selections:
            scopes[name] = [name]
    counts: dict[str, list[tuple[str, int]]] = {}
    total, estimated, total_estimated = None, False, False
    for left_out, members in scopes.items():
        if not members:
            continue
        others = [q for other, q in selections.items() if other != left_out]
        query = backend.excluding(backend.all_of(base + others), withheld)
        part = None if part_base is None else backend.excluding(backend.all_of(part_base + others), withheld)
        found, sampled, matched = _aggregate(backend, query, [FACET_FIELDS[n] for n in members], part)
        for name in members:
            counts[name] = found.get(FACET_FIELDS[name], [])
            if sampled:
                counts[name] = [(value, _estimate(count * SAMPLE_PARTS)) for value, count in counts[name]]
        estimated = estimated or sampled
        if not left_out:
            whole = [n for n in members if FACET_FIELDS[n] in SINGLE_VALUED]
            if sampled:   # counting every match exactly would cost the pass the sample saves
                total, total_estimated = _estimate(matched * SAMPLE_PARTS), True
            elif whole:   # each matched document has exactly one value of it
                total = sum(count for _, count in counts[whole[0]])
    return {name: ordered(name, counts.get(name, [])) for name in names}, total, estimated, total_estimated


def _aggregate(backend: Backend, query: Query, fields: list[str], part: Query | None = None) -> tuple[dict, bool, int]:
    """The facet counts of `query` over `fields`, whether they were counted on the sampled
    part only, and then how many documents of the part matched (0 otherwise). A collection
    no larger than FACETS_SAMPLED_ABOVE is counted whole at once; in a larger one the part
    is counted first (a sixteenth of the work), and the whole only when the part shows the
    search is narrow enough. `part`: `query` restricted to the part, if compiled so."""
    sample = sampled_part(backend)
    if sample is None:
        return backend.facet_counts(query, fields), False, 0
    # a single-valued field's counts add up to the number of documents matched
    counter = next((f for f in fields if f in SINGLE_VALUED), SINGLE_VALUED[0])
    part = backend.all_of([query if part is None else part, sample])
    found = backend.facet_counts(part, fields if counter in fields else [*fields, counter])
    matched = sum(n for _, n in found.get(counter, []))
    if matched * SAMPLE_PARTS > FACETS_SAMPLED_ABOVE:
        return found, True, matched
    return backend.facet_counts(query, fields), False, 0


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
