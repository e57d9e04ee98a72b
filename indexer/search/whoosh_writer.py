"""A faster Whoosh segment writer for the Whoosh engine: the same index files, less Python.

Whoosh's own writer spent ≈ 15 ms of CPU a document on the benchmark corpus (bench/README.md):
a Token object and two dictionary updates per word, a 5-tuple per posting sorted with
millions of others, and a dozen method calls per term when writing — pickling and zlib
compressing even a one-posting block. The word-pair fields (`pairs`, `title_pairs`) made
that per-term path the main cost: most pairs occur in one or two documents (they have
since been replaced by positions, but the rare words of a large collection behave alike).

This writer produces files in Whoosh's W3 format, read by the stock reader (the segments
name the stock `W3Codec`, so an index never depends on this module), and changes only how
they are produced:

- `Analysed(text, terms)`: a field value whose index terms the caller already computed, so
  each text is analysed once per document; the postings are what Whoosh's `Frequency` or
  `Positions` format gives for those terms;
- `TermPool`: postings grouped per term as they arrive (no sort of every posting), spilled
  to sorted runs on disk beyond a memory bound and merged term by term;
- `FastFieldWriter`: writes each term's posting blocks and term record directly. A block
  whose pickle is too small for zlib to shrink is stored uncompressed (each block says how
  it is stored, and the reader honours it); the term table hashes keys with CRC32 (its
  header names the hash) and keeps its buckets in arrays, 16 bytes a term instead of ~120.
"""

from __future__ import annotations

import heapq
import logging
import marshal
import os
import socket
import subprocess
import sys
import struct
import traceback
import zlib
from array import array
from collections import Counter
from itertools import groupby, islice
from multiprocessing.connection import Connection
from operator import itemgetter, sub
from pathlib import Path
from pickle import dumps
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence
from zlib import crc32

from whoosh import formats
from whoosh.codec.whoosh3 import (LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3Codec, W3FieldWriter,
                                  W3Segment, _lenfield)
from whoosh.filedb.filetables import HashWriter, _lengths, _pointer
from whoosh.filedb.structfile import StructFile
from whoosh.system import emptybytes, pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util import random_name
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.util.numlists import GrowableArray
from whoosh.writing import SegmentWriter

log = logging.getLogger(__name__)

BLOCK_LIMIT = 128      # postings per block, as Whoosh's W3Codec
COMPRESSION = 3        # zlib level of Whoosh's W3Codec
COMPRESS_MIN = 64      # pickled blocks shorter than this are stored as they are
CRC_HASH = 1           # whoosh.filedb.filetables' hash function number for CRC32
# Memory estimates of TermPool, in bytes (measured with tracemalloc on the corpus).
TERM_BYTES = 230
POSTING_BYTES = 30
BYTES_HEADER = 40      # a bytes object's own size, with its allocator's rounding
RUN_CHUNK = 150_000    # posting list items (3 a posting) per marshal record of a spilled run

_TERMINFO = struct.Struct("!BfIBBfII")   # W3TermInfo's fixed part
_LENGTH_OF_BYTE = [0] + [byte_to_length(b) for b in range(1, 256)]
_term_key = itemgetter(0, 1)
_CHUNK_SIZE = struct.Struct("<Q")


class Analysed(NamedTuple):
    """A text field value with its index terms already computed (in order, repeats kept)."""

    text: str                  # stored, when the field is stored
    terms: Sequence[str]


class FastCodec(W3Codec):
    """Writes with `FastFieldWriter`; segments carry the stock codec for reading."""

    def field_writer(self, storage, segment):
        return FastFieldWriter(self, storage, segment)

    def new_segment(self, storage, indexname):
        return W3Segment(W3Codec(), indexname)


class FastSegmentWriter(SegmentWriter):
    """Whoosh's SegmentWriter with `Analysed` values, `TermPool` and `FastFieldWriter`.

    Documents take no boosts nor `_stored_` values (Veille passes none); fields given as
    `Analysed` must use the `Frequency` format (KEYWORD, TEXT without phrases) or the
    `Positions` format (TEXT with phrases).
    """

    def __init__(self, ix, limitmb: int = 128, **kwargs):
        # Not compound: Whoosh reads a compound segment's parts through a memory map, but
        # wraps each part in a BytesIO, a copy: every reader opened (each search process,
        # each incremental commit) held the whole term and posting files in memory.
        kwargs.setdefault("compound", False)
        super().__init__(ix, limitmb=limitmb, codec=FastCodec(), **kwargs)
        self.pool = TermPool(self._tempstorage, limitmb=limitmb)
        self._checked: set[str] = set()
        self._extra_segments: list = []

    def add_segments(self, segments) -> None:
        """Segments written by other writers of this index (`write_segments`), committed
        with this writer's own."""
        self._extra_segments.extend(segments)

    def _commit_toc(self, segments):
        super()._commit_toc(list(segments) + self._extra_segments)

    def add_document(self, **fields):
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        pool = self.pool
        fieldnames = sorted(fields)
        if fieldnames and fieldnames[0].startswith("_"):
            raise ValueError("boosts and _stored_ values are not supported by this writer")
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                if fieldname not in self._checked:
                    self._check_field(fieldname, field, value)
                length = 0
                if isinstance(value, Analysed):
                    if type(field.format) is formats.Positions:
                        length = pool.add_positions(fieldname, docnum, value.terms,
                                                    field.format.field_boost)
                    else:
                        length = pool.add_terms(fieldname, docnum, value.terms,
                                                field.format.field_boost)
                    if not field.scorable:
                        length = 0
                    value = value.text
                elif field.indexed:
                    scorable = field.scorable
                    add = pool.add
                    for tbytes, freq, weight, vbytes in field.index(value):
                        if scorable:
                            length += freq
                        add((fieldname, tbytes, docnum, weight, vbytes))
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                column = field.column_type
                if column and value is not None:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _check_field(self, fieldname: str, field, value) -> None:
        # What Whoosh's add_document does and this one does not: refuse rather than drop it.
        if field.indexed and (field.separate_spelling() or field.vector):
            raise ValueError(f"field {fieldname!r}: spelling and vectors are not supported here")
        if isinstance(value, Analysed) and (
                not field.indexed or type(field.format) not in (formats.Frequency, formats.Positions)):
            raise ValueError(f"field {fieldname!r}: pre-analysed values need the Frequency "
                             "or Positions format")
        self._checked.add(fieldname)

    def _flush_segment(self):
        self.perdocwriter.close()
        lengths = self.per_document_reader()
        try:
            self.fieldwriter.add_term_postings(self.schema, lengths, self.pool.iter_terms())
            self.fieldwriter.close()
        finally:
            lengths.close()


class TermPool:
    """Postings grouped by (field, term): flat lists [docnum, weight, value, docnum, ...].

    Documents arrive in docnum order, so each list is in docnum order. Beyond `limitmb`
    (estimated), the terms go to a sorted run on disk; `iter_terms` merges the runs and
    what is in memory term by term, concatenating a term's lists in run order.
    """

    def __init__(self, tempstore, limitmb: int = 128):
        self.tempstore = tempstore
        self.limit = limitmb * 1024 * 1024
        self.size = 0
        self.fields: dict[str, dict[bytes, list]] = {}
        self.runs: list[str] = []
        self._weights: dict[tuple[int, float], float] = {}   # shared objects, less memory
        self._values: dict[int, bytes] = {}

    def add(self, item) -> None:
        """A posting (fieldname, term bytes, docnum, weight, value bytes or None)."""
        fieldname, tbytes, docnum, weight, vbytes = item
        table = self.fields.get(fieldname)
        if table is None:
            table = self.fields[fieldname] = {}
        postings = table.get(tbytes)
        if postings is None:
            table[tbytes] = [docnum, weight, vbytes]
            self.size += TERM_BYTES + POSTING_BYTES
        else:
            postings += (docnum, weight, vbytes)
            self.size += POSTING_BYTES
        if self.size > self.limit:
            self._spill()

    def add_terms(self, fieldname: str, docnum: int, terms: Sequence[str], boost: float) -> int:
        """One document's terms for a Frequency field; returns how many (the field length)."""
        counts = Counter(terms)
        values = self._values

        def postings():
            for term, freq in counts.items():
                value = values.get(freq)
                if value is None:
                    value = values[freq] = pack_uint(freq)
                yield term, freq, value
        self._add_document(fieldname, docnum, postings(), boost,
                           (len(terms) - len(counts)) * POSTING_BYTES)
        return len(terms)

    def add_positions(self, fieldname: str, docnum: int, terms: Sequence[str], boost: float) -> int:
        """One document's terms for a Positions field (position = index in `terms`)."""
        positions: dict[str, list[int]] = {}
        for position, term in enumerate(terms):
            found = positions.get(term)
            if found is None:
                positions[term] = [position]
            else:
                found.append(position)

        def postings():
            for term, where in positions.items():
                # Positions.encode: the count, then the pickled position deltas
                yield term, len(where), pack_uint(len(where)) + dumps(list(map(sub, where, [0] + where[:-1])), 2)
        # each value is its own bytes object (33 bytes of header), unlike Frequency's shared ones
        self._add_document(fieldname, docnum, postings(), boost,
                           len(positions) * BYTES_HEADER + 5 * len(terms))
        return len(terms)

    def _add_document(self, fieldname: str, docnum: int, postings: Iterable[tuple[str, int, bytes]],
                      boost: float, extra_bytes: int) -> None:
        table = self.fields.get(fieldname)
        if table is None:
            table = self.fields[fieldname] = {}
        weights = self._weights
        new = count = 0
        for term, freq, value in postings:
            weight = weights.get((freq, boost))
            if weight is None:   # as Whoosh's formats: the sum of 1.0 per token, times the boost
                weight = weights[(freq, boost)] = float(freq) * boost * 1.0
            key = term.encode("utf-8")
            found = table.get(key)
            if found is None:
                table[key] = [docnum, weight, value]
                new += 1
            else:
                found += (docnum, weight, value)
            count += 1
        self.size += new * TERM_BYTES + count * POSTING_BYTES + extra_bytes
        if self.size > self.limit:
            self._spill()

    def _sorted_terms(self) -> Iterator[tuple[str, bytes, list]]:
        for fieldname in sorted(self.fields):
            table = self.fields[fieldname]
            for tbytes in sorted(table):
                yield fieldname, tbytes, table[tbytes]

    def _spill(self) -> None:
        path = f"{random_name()}.run"
        with self.tempstore.create_file(path).raw_file() as run:
            chunk, size = [], 0
            for record in self._sorted_terms():
                chunk.append(record)
                size += len(record[2])
                if size >= RUN_CHUNK:   # merging holds one chunk per run in memory
                    _dump_chunk(chunk, run)
                    chunk, size = [], 0
            if chunk:
                _dump_chunk(chunk, run)
        self.runs.append(path)
        self.fields = {}
        self.size = 0

    def _read_run(self, path: str) -> Iterator[tuple[str, bytes, list]]:
        with self.tempstore.open_file(path).raw_file() as run:
            while True:
                header = run.read(8)
                if not header:
                    return
                yield from marshal.loads(run.read(_CHUNK_SIZE.unpack(header)[0]))

    def iter_terms(self) -> Iterator[tuple[str, bytes, list]]:
        """(fieldname, term bytes, postings) in (fieldname, term) order."""
        if not self.runs:
            yield from self._sorted_terms()
            return
        sources = [self._read_run(path) for path in self.runs] + [self._sorted_terms()]
        for key, group in groupby(heapq.merge(*sources, key=_term_key), key=_term_key):
            postings = next(group)[2]
            for record in group:
                postings = postings + record[2]
            yield key[0], key[1], postings

    def cleanup(self) -> None:
        for path in self.runs:
            try:
                self.tempstore.delete_file(path)
            except OSError:
                pass
        self.runs = []
        self.fields = {}


def _dump_chunk(chunk: list, run) -> None:
    # Length-prefixed: marshal.load on a file reads it in many small calls, loads() at once
    data = marshal.dumps(chunk)
    run.write(_CHUNK_SIZE.pack(len(data)))
    run.write(data)


class _Buffered:
    """Appends to a file in large writes, knowing its position without asking it."""

    def __init__(self, dbfile):
        self.file = dbfile
        self.pos = dbfile.tell()
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.pos += len(data)
        self.size += len(data)
        if self.size > 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.file.write(emptybytes.join(self.parts))
            self.parts = []
            self.size = 0


class _TermTable(HashWriter):
    """Whoosh's OrderedHashWriter (same file), with CRC32 hashes and array buckets."""

    def __init__(self, dbfile):
        super().__init__(dbfile, hashtype=CRC_HASH)
        self.index = GrowableArray("H")
        self.lastkey = emptybytes
        self._hashes = [array("I") for _ in range(256)]
        self._positions = [array("q") for _ in range(256)]
        self._out = _Buffered(dbfile)

    def add(self, key: bytes, value: bytes) -> None:
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        out = self._out
        pos = out.pos
        self.index.append(pos)
        out.write(_lengths.pack(len(key), len(value)) + key + value)
        h = crc32(key) & 0xFFFFFFFF
        self._hashes[h & 255].append(h)
        self._positions[h & 255].append(pos)
        self.lastkey = key

    def tell(self) -> int:
        return self._out.pos

    def _write_hashes(self) -> None:
        self._out.flush()
        dbfile = self.dbfile
        pack = _pointer.pack
        for hashes, positions in zip(self._hashes, self._positions):
            pos = dbfile.tell()
            numslots = 2 * len(hashes)
            self.directory.append((pos, numslots))
            slot_hashes = array("I", bytes(4 * numslots))
            slot_positions = array("q", bytes(8 * numslots))   # 0: empty (no key starts at 0)
            for h, position in zip(hashes, positions):
                slot = (h >> 8) % numslots
                while slot_positions[slot]:
                    slot = (slot + 1) % numslots
                slot_hashes[slot] = h
                slot_positions[slot] = position
            dbfile.write(emptybytes.join(map(pack, slot_hashes, slot_positions)))

    def _write_extras(self) -> None:
        self.extras["indextype"] = self.index.typecode
        self.extras["indexlen"] = len(self.index)
        HashWriter._write_extras(self)
        self.index.to_file(self.dbfile)


class FastFieldWriter(W3FieldWriter):
    """W3FieldWriter's files, written a term at a time from whole posting lists."""

    def __init__(self, codec, storage, segment):
        self._codec = codec
        self._storage = storage
        self._segment = segment
        self._fieldname = None
        self._fieldid = None
        self._btext = None
        self._fieldobj = None
        self._format = None
        self._tindex = _TermTable(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"] = {}
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False

    def add_postings(self, schema, lengths, items):
        """Whoosh's interface: (fieldname, btext, docnum, weight, value) in term order."""
        def terms():
            for key, group in groupby(items, key=_term_key):
                postings = []
                for _, _, docnum, weight, value in group:
                    if docnum != -1:   # Whoosh's marker of spelling words, not postings
                        postings += (docnum, weight, value)
                if postings:
                    yield key[0], key[1], postings
        self.add_term_postings(schema, lengths, terms())

    def add_term_postings(self, schema, lengths, terms: Iterable[tuple[str, bytes, list]]) -> None:
        out = _Buffered(self._postfile)
        add_term = self._tindex.add
        fieldmap = self._fieldmap
        last_field = None
        fieldid_bytes = b""
        lens: list[int] | None = None
        fixedsize = None
        for fieldname, btext, postings in terms:
            if fieldname != last_field:
                fieldid = fieldmap.setdefault(fieldname, len(fieldmap))
                fieldid_bytes = pack_ushort(fieldid)
                fixedsize = schema[fieldname].format.fixed_value_size()
                lens = _field_lengths(lengths, fieldname)
                last_field = fieldname
            add_term(fieldid_bytes + btext, _write_postings(out, postings, lens, fixedsize))
        out.flush()


def _field_lengths(lengths, fieldname: str) -> list[int] | None:
    """Field length of each document (0 when none), as Whoosh's doc_field_length gives it."""
    if lengths is None:
        return None
    reader = lengths._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if reader is None:
        return None
    table = _LENGTH_OF_BYTE
    return [table[b] for b in reader.load()]


_FLOAT32: dict[float, float] = {}      # weight -> as stored in a block (float32)
_LENGTH_BYTES: dict[int | None, int] = {}


def _length_byte(length: int | None) -> int:
    """length_to_byte, cached (0 for None and 0: no length)."""
    byte = _LENGTH_BYTES.get(length)
    if byte is None:
        byte = _LENGTH_BYTES[length] = length_to_byte(length)
    return byte


def _write_postings(out: _Buffered, postings: list, lens, fixedsize) -> bytes:
    """Write one term's blocks as W3PostingsWriter does; return its W3TermInfo bytes."""
    if len(postings) == 3:   # most terms (word pairs): one posting, a shorter way
        docnum, weight, value = postings
        length = lens[docnum] if lens is not None else 0
        length_byte = _length_byte(length)
        weight32 = _FLOAT32.get(weight)
        if weight32 is None:
            weight32 = _FLOAT32[weight] = array("f", (weight,))[0]
        if value is None:
            value = emptybytes
        if fixedsize is None or fixedsize < 0:
            mini_values = (value,)
        elif fixedsize == 0:
            mini_values = None
        else:
            mini_values = value
        data = dumps(((docnum,), None if weight32 == 1.0 else weight32, mini_values), 2)
        comp = COMPRESSION if len(data) >= COMPRESS_MIN else 0
        if comp:
            data = zlib.compress(data, comp)
        maxweight = weight if weight > 0 else 0
        info = dumps((1, docnum, maxweight, comp, length_byte, length_byte), 2)
        start = out.pos
        out.write(WHOOSH3_HEADER_MAGIC + pack_int(-(len(info) + len(data))) + info + data)
        return (_TERMINFO.pack(0, weight32, 1, length_byte, length_byte, maxweight, docnum, docnum)
                + pack_long(start) + pack_int(out.pos - start))
    ids = postings[0::3]
    weights = postings[1::3]
    values = postings[2::3]
    count = len(ids)
    start = out.pos
    out.write(WHOOSH3_HEADER_MAGIC)
    total_weight = 0.0
    term_min = None
    term_max = 0
    term_maxweight = 0
    for first in range(0, count, BLOCK_LIMIT):
        last = first + BLOCK_LIMIT
        block_ids = ids[first:last]
        raw_weights = weights[first:last]
        block_weights = array("f", raw_weights)
        block_values = values[first:last]
        if lens is None:
            block_min, block_max = None, 0
        else:
            block_lens = [lens[d] for d in block_ids]
            block_max = max(block_lens)
            block_min = min(block_lens) if block_max else None
            if block_max and not block_min:   # some documents without a length
                block_min = min(x for x in block_lens if x)
        maxweight = max(raw_weights)
        if not maxweight > 0:
            maxweight = 0
        # The minified block, as W3PostingsWriter._mini_ids/_mini_weights/_mini_values
        mini_ids = tuple(map(sub, block_ids, [0] + block_ids[:-1]))
        w0 = block_weights[0]
        if w0 == 1.0 and block_weights.count(1.0) == len(block_weights):
            mini_weights = None
        elif block_weights.count(w0) == len(block_weights):
            mini_weights = w0
        else:
            mini_weights = tuple(block_weights)
        block_values = [emptybytes if v is None else v for v in block_values]
        if fixedsize is None or fixedsize < 0:
            mini_values = tuple(block_values)
        elif fixedsize == 0:
            mini_values = None
        else:
            mini_values = emptybytes.join(block_values)
        data = dumps((mini_ids, mini_weights, mini_values), 2)
        comp = COMPRESSION if len(data) >= COMPRESS_MIN else 0
        if comp:
            data = zlib.compress(data, comp)
        info = dumps((len(block_ids), block_ids[-1], maxweight, comp,
                      _length_byte(block_min), _length_byte(block_max)), 2)
        length = len(info) + len(data)
        out.write(pack_int(-length if last >= count else length) + info + data)
        # the term's statistics, as W3TermInfo.add_block
        total_weight += sum(block_weights)
        if term_min is None:
            term_min = block_min
        elif block_min is not None:
            term_min = min(term_min, block_min)
        term_max = max(term_max, block_max)
        term_maxweight = max(term_maxweight, maxweight)
    return (_TERMINFO.pack(0, total_weight, count, 0 if term_min is None else _length_byte(term_min),
                           _length_byte(term_max), term_maxweight, ids[0], ids[-1])
            + pack_long(start) + pack_int(out.pos - start))


# ---------------------------------------------------------------- bulk loads in worker processes


class WorkerFailed(RuntimeError):
    """A worker process of a bulk load failed; the message holds its traceback."""


def write_segments(index_dir: str, items: Iterable, to_fields: Callable[[object], dict], *,
                   procs: int, limitmb: int, batch: int = 100) -> tuple[list, int]:
    """Index `items` in `procs` worker processes, each writing one new segment of the index
    in `index_dir`; return the segments (for the caller's writer to commit, nothing is
    committed here) and how many items there were.

    The caller holds the index's write lock and iterates `items` (a catalog cursor stays in
    its process); batches go to the workers in turn. A worker's failure is raised here as
    WorkerFailed; if the caller fails or dies, the workers see their socket close, drop
    their files and exit. Workers are fresh interpreters importing this module (not forked,
    the caller may run threads; not multiprocessing's spawn, which re-runs the caller's
    main script).
    """
    workers = []
    try:
        for _ in range(procs):
            workers.append(_start_worker(index_dir, to_fields, limitmb))
        count = 0
        for number, chunk in enumerate(_chunks(items, batch)):
            process, conn = workers[number % procs]
            try:
                conn.send(chunk)
            except OSError:
                raise _failure(process, conn) from None
            count += len(chunk)
        for process, conn in workers:
            try:
                conn.send(None)
            except OSError:
                raise _failure(process, conn) from None
        segments = []
        for process, conn in workers:
            try:
                reply = conn.recv()
            except (EOFError, OSError):
                raise _failure(process, conn) from None
            if reply[0] != "done":
                raise WorkerFailed(f"an index worker failed:\n{reply[1]}")
            if reply[1] is not None:
                segments.append(reply[1])
            log.info("index worker %s: %s documents, peak memory %.0f MB", process.pid, reply[2], reply[3])
        return segments, count
    finally:
        for process, conn in workers:
            conn.close()
        for process, conn in workers:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _start_worker(index_dir: str, to_fields, limitmb: int):
    ours, theirs = socket.socketpair()
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (package_root, env.get("PYTHONPATH"))))
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from indexer.search.whoosh_writer import _worker_main; "
         "_worker_main(int(sys.argv[1]))", str(theirs.fileno())],
        pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL)
    theirs.close()
    conn = Connection(ours.detach())
    conn.send((index_dir, to_fields, limitmb))
    return process, conn


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _failure(process, conn) -> WorkerFailed:
    try:
        if conn.poll(5):
            reply = conn.recv()
            if reply and reply[0] == "error":
                return WorkerFailed(f"an index worker failed:\n{reply[1]}")
    except (EOFError, OSError):
        pass
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        code = None
    return WorkerFailed(f"an index worker stopped (exit code {code})")


def _worker_main(fd: int) -> None:
    """A worker process: its orders come through the socket `fd`."""
    conn = Connection(fd)
    try:
        index_dir, to_fields, limitmb = conn.recv()
    except (EOFError, OSError):
        return
    _segment_worker(index_dir, to_fields, limitmb, conn)


def _segment_worker(index_dir: str, to_fields, limitmb: int, conn) -> None:
    """A worker's life: documents from `conn` into a new segment, returned when told."""
    from whoosh import index as whoosh_index

    writer = None
    try:
        writer = FastSegmentWriter(whoosh_index.open_dir(index_dir), limitmb=limitmb, _lk=False)
        count = 0
        while (chunk := conn.recv()) is not None:
            for item in chunk:
                writer.add_document(**to_fields(item))
            count += len(chunk)
        if writer._added:
            segment = writer._finalize_segment()
        else:
            writer._close_segment()
            segment = None
        writer = None
        conn.send(("done", segment, count, _peak_rss_mb()))
    except EOFError:   # the caller gave up or died: nothing to report to
        pass
    except BaseException:
        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass
    finally:
        if writer is not None:
            try:
                writer._close_segment()   # its run files; the segment's files are never committed
            except Exception:
                pass
        conn.close()


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
