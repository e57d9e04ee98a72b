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

from dataclasses import dataclass
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


@dataclass(frozen=True)
class TermPositions:
    """Where a term occurs: `positions[offsets[i]:offsets[i + 1]]` in document `ids[i]`."""

    ids: np.ndarray         # global document numbers, sorted
    offsets: np.ndarray     # len(ids) + 1
    positions: np.ndarray   # int32

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.offsets.nbytes + self.positions.nbytes

    def keys(self, docs: np.ndarray) -> np.ndarray:
        """(index in `docs` << 32) + position, for each position in `docs` (which hold it)."""
        rows = np.searchsorted(self.ids, docs)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        # CSR gather: the positions of each chosen row, one after the other
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        picked = self.positions[np.arange(total, dtype=np.int64) + shift].astype(np.int64)
        return (np.repeat(np.arange(len(docs), dtype=np.int64), lengths) << 32) + picked


def term_positions(searcher, field: str, term: str) -> TermPositions:
    """Every position of `term` in `field`, decoded from its posting list in one pass."""
    ids_parts, key_parts, count = [], [], 0
    for reader, offset in leaves(searcher):
        if (field, term) not in reader:
            continue
        ids, values = _segment_values(reader, field, term)
        keys = _position_keys(values, np.arange(len(values)))
        ids_parts.append(ids + offset)
        key_parts.append(keys + (count << 32))
        count += len(ids)
    if not ids_parts:
        empty = np.zeros(0, dtype=np.int64)
        return TermPositions(empty, np.zeros(1, dtype=np.int64), empty.astype(np.int32))
    keys = np.sort(np.concatenate(key_parts))
    rows = keys >> 32
    offsets = np.searchsorted(rows, np.arange(count + 1, dtype=np.int64))
    return TermPositions(np.concatenate(ids_parts), offsets,
                         (keys & 0xFFFFFFFF).astype(np.int32))


def phrase_docs(candidates: np.ndarray, words: list[TermPositions]) -> np.ndarray:
    """The candidates (document numbers, sorted, each holding every word) where the words
    follow each other, matched as (document, position) keys with NumPy."""
    if len(words) < 2 or not len(candidates):
        return candidates
    starts = words[0].keys(candidates)
    for i, word in enumerate(words[1:], 1):
        starts = starts[np.isin(starts, word.keys(candidates) - i)]   # phrase starts still possible
    return candidates[np.unique(starts >> 32)]


def _position_keys(values: list, rows: np.ndarray) -> np.ndarray:
    """(row << 32) + position for every position of the values at `rows`."""
    chosen = [values[r] for r in rows]
    keys = _parse_positions(chosen)
    return keys if keys is not None else _load_positions(chosen)


def _load_positions(chosen: list[bytes]) -> np.ndarray:
    """The same, one `pickle.loads` per value: what `Positions.decode_positions` does."""
    decoded = [loads(v[_INT_SIZE:] if v.endswith(b".") else v[_INT_SIZE:] + b".") for v in chosen]
    lengths = np.fromiter(map(len, decoded), dtype=np.int64, count=len(decoded))
    deltas = np.fromiter(chain.from_iterable(decoded), dtype=np.int64, count=int(lengths.sum()))
    row_of = np.repeat(np.arange(len(decoded), dtype=np.int64), lengths)
    # positions restart at each document: running sums, minus the sum before its first delta
    totals = np.cumsum(deltas)
    before = np.concatenate(([0], totals))[np.cumsum(lengths) - lengths]
    return (row_of << 32) + totals - np.repeat(before, lengths)


# A Positions value: a 4-byte big-endian count n, then `pickle.dumps(deltas, 2)`, which for
# a list of small integers always reads: PROTO 2, EMPTY_LIST, BINPUT 0, then for n == 1 the
# integer and APPEND, for n > 1 MARK, the integers and APPENDS (in batches of 1000), STOP.
# Each integer is BININT1 (K, 1 byte), BININT2 (M, 2 bytes) or BININT (J, 4 bytes).
_PICKLED_LIST = np.frombuffer(b"\x80\x02]q\x00", dtype=np.uint8)
_K, _M, _J, _APPEND, _APPENDS, _MARK, _STOP = b"KMJae(."


def _parse_positions(chosen: list[bytes]) -> np.ndarray | None:
    """`_load_positions` without unpickling each value: the integers of all values are
    read a rank at a time (first delta of every value, then the second...) with NumPy.
    None when a value is not laid out as expected (the caller then unpickles)."""
    if not chosen:
        return np.zeros(0, dtype=np.int64)
    sizes = np.fromiter(map(len, chosen), dtype=np.int64, count=len(chosen))
    data = np.frombuffer(b"".join(chosen), dtype=np.uint8)
    starts = np.cumsum(sizes) - sizes
    counts = (data[starts].astype(np.int64) << 24 | data[starts + 1].astype(np.int64) << 16
              | data[starts + 2].astype(np.int64) << 8 | data[starts + 3])
    if counts.max() > 1000:
        return None   # batched APPENDS: rare enough to leave to pickle
    head = starts[:, None] + _INT_SIZE + np.arange(len(_PICKLED_LIST))
    if not (data[head] == _PICKLED_LIST).all():
        return None
    cursor = starts + _INT_SIZE + len(_PICKLED_LIST)
    many = counts > 1
    if not (data[cursor[many]] == _MARK).all():
        return None
    cursor = cursor + many
    position = np.zeros(len(chosen), dtype=np.int64)
    keys = []
    rows = np.arange(len(chosen), dtype=np.int64)
    for rank in range(int(counts.max())):
        active = rows[counts > rank]
        at = cursor[active]
        op = data[at]
        one = data[at + 1].astype(np.int64)
        two = one | data[np.minimum(at + 2, len(data) - 1)].astype(np.int64) << 8
        four = (two | data[np.minimum(at + 3, len(data) - 1)].astype(np.int64) << 16
                | data[np.minimum(at + 4, len(data) - 1)].astype(np.int64) << 24)
        if not np.isin(op, (_K, _M, _J)).all():
            return None
        delta = np.where(op == _K, one, np.where(op == _M, two, four))
        position[active] += delta
        cursor[active] = at + np.where(op == _K, 2, np.where(op == _M, 3, 5))
        keys.append((active << 32) + position[active])
    closing = np.where(counts == 1, _APPEND, _APPENDS)
    has_items = counts > 0
    if not (data[cursor[has_items]] == closing[has_items]).all():
        return None
    cursor = cursor + has_items
    if not (data[cursor] == _STOP).all() or not (cursor + 1 == starts + sizes).all():
        return None
    return np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)


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
