"""NumPy views of a Whoosh index: posting lists, term frequencies and columns as arrays.

Whoosh hands out postings one document at a time through Python matchers, which is what
made facet counts, filters and broad queries slow (hundreds of ms at 50,000 documents).
Its on-disk format is simpler: each posting list is a chain of blocks holding pickled
arrays of delta-encoded document numbers and weights; fixed-width columns (dates, field
lengths) are contiguous big-endian numbers. These functions read them in bulk into NumPy
arrays indexed by the searcher's global document numbers. Each falls back on Whoosh's
public (slower) API when a reader is not the on-disk kind it knows (an in-memory or
future codec), so results never depend on the fast path.
"""

from __future__ import annotations

from itertools import chain
from pickle import loads

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

# Whoosh stores a field's length per document as one byte (a lossy log scale).
_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


def leaves(searcher) -> list[tuple[object, int]]:
    """(segment reader, offset of its first document) for each segment of `searcher`."""
    subs = searcher.subsearchers if not searcher.is_atomic() else [(searcher, 0)]
    return [(sub.reader(), offset) for sub, offset in subs]


def postings(searcher, field: str, term: str, weights: bool = False):
    """Global document numbers holding `term` (sorted), and their weights if asked.

    Deleted documents may be included: callers intersect with the live mask.
    """
    ids_parts, weight_parts = [], []
    for reader, offset in leaves(searcher):
        if (field, term) not in reader:
            continue
        ids, w = _segment_postings(reader, field, term, weights)
        ids_parts.append(ids + offset)
        if weights:
            weight_parts.append(w)
    ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, dtype=np.int64)
    if not weights:
        return ids
    w = np.concatenate(weight_parts) if weight_parts else np.zeros(0, dtype=np.float32)
    return ids, w


def _segment_postings(reader, field: str, term: str, weights: bool):
    raw = _raw_matcher(reader, field, term)
    if not isinstance(raw, W3LeafMatcher):
        matcher = reader.postings(field, term)
        pairs = [(matcher.id(), matcher.weight()) for _ in _active(matcher)]
        ids = np.array([p[0] for p in pairs], dtype=np.int64)
        return ids, np.array([p[1] for p in pairs], dtype=np.float32)
    id_blocks, weight_blocks = [], []
    for data, count in _blocks(raw):
        id_blocks.append(_block_ids(raw, data))
        if weights:
            w = data[1]
            if w is None:
                weight_blocks.append(np.ones(count, dtype=np.float32))
            elif isinstance(w, float):
                weight_blocks.append(np.full(count, w, dtype=np.float32))
            else:
                weight_blocks.append(np.asarray(w, dtype=np.float32))
    ids = np.concatenate(id_blocks) if id_blocks else np.zeros(0, dtype=np.int64)
    w = np.concatenate(weight_blocks) if weight_blocks else None
    return ids, w


def phrase_docs(searcher, field: str, words: list[str], candidates: np.ndarray,
                timed_out=lambda: False) -> np.ndarray:
    """The candidates (global document numbers, sorted, each holding every word) where the
    words follow each other. Positions are decoded for the candidates only, then matched
    as (document, position) keys with NumPy rather than document by document."""
    if len(words) < 2 or not len(candidates):
        return candidates
    found = []
    for reader, offset in leaves(searcher):
        count = reader.doc_count_all()
        local = candidates[(candidates >= offset) & (candidates < offset + count)] - offset
        if not len(local):
            continue
        first = None
        for i, word in enumerate(words):
            if timed_out():
                return np.array(found, dtype=np.int64)
            ids, values = _segment_values(reader, field, word)
            keys = _position_keys(values, np.searchsorted(ids, local)) - i
            if first is None:
                first = keys
            else:
                first = first[np.isin(first, keys)]   # phrase starts still possible
        found.extend((local[np.unique(first >> 32)] + offset).tolist())
    return np.array(found, dtype=np.int64)


def _position_keys(values: list, rows: np.ndarray) -> np.ndarray:
    """(row << 32) + position for every position of the values at `rows` (a Positions
    format value is a 4-byte count, then the pickled list of position deltas)."""
    decoded = [loads(v[_INT_SIZE:] if v.endswith(b".") else v[_INT_SIZE:] + b".")
               for v in (values[r] for r in rows)]
    lengths = np.fromiter(map(len, decoded), dtype=np.int64, count=len(decoded))
    deltas = np.fromiter(chain.from_iterable(decoded), dtype=np.int64, count=int(lengths.sum()))
    row_of = np.repeat(np.arange(len(decoded), dtype=np.int64), lengths)
    # positions restart at each document: running sums, minus the sum before its first delta
    totals = np.cumsum(deltas)
    before = np.concatenate(([0], totals))[np.cumsum(lengths) - lengths]
    positions = totals - np.repeat(before, lengths)
    return (row_of << 32) + positions


def _segment_values(reader, field: str, term: str) -> tuple[np.ndarray, list]:
    """A segment's posting list of `term`: document numbers and raw (encoded) values."""
    raw = _raw_matcher(reader, field, term)
    if not isinstance(raw, W3LeafMatcher):
        matcher = reader.postings(field, term)
        pairs = [(matcher.id(), matcher.value()) for _ in _active(matcher)]
        return np.array([p[0] for p in pairs], dtype=np.int64), [p[1] for p in pairs]
    id_blocks, values = [], []
    for data, _ in _blocks(raw):
        id_blocks.append(_block_ids(raw, data))
        raw._read_values()
        values.extend(raw._values)
    return (np.concatenate(id_blocks) if id_blocks else np.zeros(0, dtype=np.int64)), values


def _blocks(raw):
    """(unpickled data, posting count) of each block of a posting list, in order."""
    while raw.is_active():
        if raw._data is None:
            raw._read_data()
        yield raw._data, raw._blocklength
        raw._next_block()


def _block_ids(raw, data) -> np.ndarray:
    ids = np.asarray(data[0], dtype=np.int64)
    return ids if raw._byteids else np.cumsum(ids)   # document numbers are delta-encoded


def _raw_matcher(reader, field: str, term: str):
    """The codec's own matcher (without the deletion filter SegmentReader wraps it in)."""
    terms = getattr(reader, "_terms", None)
    if terms is None or field not in reader.schema:
        return None
    fieldobj = reader.schema[field]
    try:
        return terms.matcher(field, fieldobj.to_bytes(term), fieldobj.format)
    except (KeyError, TypeError, AttributeError):
        return None


def _active(matcher):
    while matcher.is_active():
        yield
        matcher.next()


def live_mask(searcher) -> np.ndarray:
    """True for each document number not deleted."""
    mask = np.ones(searcher.doc_count_all(), dtype=bool)
    for reader, offset in leaves(searcher):
        if reader.has_deletions():
            count = reader.doc_count_all()
            perdoc = getattr(reader, "_perdoc", None)
            if perdoc is not None and hasattr(perdoc, "deleted_docs"):
                deleted = np.fromiter(perdoc.deleted_docs(), dtype=np.int64)
            else:
                deleted = np.array([n for n in range(count) if reader.is_deleted(n)], dtype=np.int64)
            mask[deleted + offset] = False
    return mask


def numeric_column(searcher, field: str, dtype=np.int64) -> np.ndarray:
    """A fixed-width (sortable numeric or date) column, by document number; 0 where unset."""
    out = np.zeros(searcher.doc_count_all(), dtype=dtype)
    for reader, offset in leaves(searcher):
        count = reader.doc_count_all()
        if not count or not reader.has_column(field):
            continue
        column = reader.column_reader(field, translate=False)
        out[offset:offset + count] = _fixed_values(column, count, dtype)
    return out


def field_lengths(searcher, field: str) -> np.ndarray:
    """Each document's length in `field` (terms), as Whoosh stores it for scoring."""
    out = np.zeros(searcher.doc_count_all(), dtype=np.float32)
    for reader, offset in leaves(searcher):
        count = reader.doc_count_all()
        perdoc = getattr(reader, "_perdoc", None)
        column = None
        if perdoc is not None and hasattr(perdoc, "_cached_reader"):
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
            column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        if column is not None and hasattr(column, "_basepos"):
            # the column stops at the last document holding the field: the rest are 0
            stored = min(count, getattr(column, "_count", count))
            raw = column._dbfile.get(column._basepos, stored)
            out[offset:offset + len(raw)] = _BYTE_LENGTHS[np.frombuffer(raw, dtype=np.uint8)]
        else:
            out[offset:offset + count] = [reader.doc_field_length(n, field, 0) for n in range(count)]
    return out


def _fixed_values(column, count: int, dtype) -> np.ndarray:
    typecode = getattr(column, "_typecode", None)
    if typecode is not None and hasattr(column, "_basepos"):
        width = np.dtype(">" + typecode).itemsize
        stored = min(count, getattr(column, "_count", count))
        raw = column._dbfile.get(column._basepos, width * stored)
        if len(raw) == width * stored:
            values = np.zeros(count, dtype=dtype)
            found = np.frombuffer(raw, dtype=">" + typecode)
            if found.dtype.kind == "u" and np.dtype(dtype).kind == "i":
                # unsigned 64-bit columns mark "no value" with their maximum: read it as 0
                found = np.where(found > np.iinfo(dtype).max, 0, found)
            values[:stored] = found
            return values
    limit = np.iinfo(dtype).max if np.dtype(dtype).kind == "i" else None
    return np.array([value if value and (limit is None or value <= limit) else 0
                     for value in column], dtype=dtype)
