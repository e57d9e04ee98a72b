"""The Whoosh engine: pure Python, the default. Implements `indexer.search.engine.SearchEngine`.

How it stays fast and safe (see issue 8):
- one long-lived searcher, reopened only when the index generation changed; a lock makes
  it safe to share between the web's threads;
- document text is analysed but not stored: snippets come from the catalog, for the shown
  hits only (`indexer.search.highlight`);
- Whoosh's matchers (Python, one document at a time) are bypassed when searching: posting
  lists are read in bulk into NumPy arrays (`indexer.search.whoosh_arrays`); a query is evaluated
  as boolean masks over document numbers, ranked by BM25 computed for all matches at once,
  and facet counts are `bincount`s of per-document value codes (built once per searcher);
- a phrase is checked on the documents holding all its words only, their positions
  decoded in one pass over the posting blocks;
- sorting by date and date filters read the `date` column once per searcher;
- a deadline bounds every query (~1 s): past it, the terms not read yet count as absent,
  and the results are flagged `partial`;
- an LRU of recent result pages, emptied whenever the index changes;
- writes go through one writer context: committed whole, or cancelled and re-raised;
  commits merge only small segments; `optimize()` merges everything (`veille run` does it
  on the `search.optimize` schedule, Sunday night by default);
- a writer killed mid-commit leaves the previous generation readable (Whoosh writes the new
  table of contents last, by rename); its lock owner file is found on the next write, the
  dead process detected and the lock cleared.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo
from fnmatch import fnmatchcase
from functools import partial
from itertools import chain, islice
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Iterable, Iterator

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.support.levenshtein import damerau_levenshtein
from whoosh.util.filelock import FileLock
from whoosh.util.times import datetime_to_long

from indexer.search import whoosh_arrays as arrays
from indexer.search.analysis import FrenchTokenizer, analyze, analyze_for_index, fold, fold_words
from indexer.search.engine import Hit, IndexOutdated, SearchRequest, SearchResults
from indexer.search.fields import (FACET_FIELDS, MAX_SPELL_CHARS, MAX_WILDCARD_WORDS, MLT_TERMS,
                            MLT_TEXT_CHARS, QUERY_FIELD_TARGETS, TITLE_BOOST, indexed_document,
                            local_day_bounds, matching_values, ordered_facet, PageCache)
from indexer.search.highlight import Highlighter, highlighter_for, snippet, wildcard_prefixes
from indexer.search.query import Not, Or, ParsedQuery, Phrase, Word, parse_query, suggestion_words
from veille.core.records import FACETS, Document
from indexer.search.whoosh_writer import Analysed, FastSegmentWriter, write_segments
from veille.core.errors import VeilleError

log = logging.getLogger(__name__)

OWNER_FILE = "veille-writer.json"
LOCK_FILE = "MAIN_WRITELOCK"
TIME_LIMIT = 1.0
BM25_B, BM25_K1 = 0.75, 1.2           # Whoosh's BM25F defaults, which scored searches before
POSTINGS_CACHE_BYTES = 96 * 2**20     # posting lists and positions kept between searches
WRITE_TIMEOUT = 30.0
WRITER_MB = 128      # postings held in memory by a writer before spilling sorted runs
BULK_MIN = 2_000     # documents into an empty index from which worker processes write it
BULK_PROCS = min(2, os.cpu_count() or 1)
BULK_BATCH = 100     # documents sent to a worker at a time

_SKIP = object()   # a part of the query with nothing to search (stop words only)
_DROP = object()   # an exclusion, left out of the ranking query


class IndexBusy(VeilleError):
    code = "index_busy"


def build_schema() -> Schema:
    # Keyword fields are "scorable" only so Whoosh writes their length column: without it,
    # its codec checks the file system for that column once per posting written (3x slower).
    analyzer = FrenchTokenizer()
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer, stored=True, phrase=True, field_boost=TITLE_BOOST),
        content=TEXT(analyzer=analyzer, phrase=True),   # title + summary + content
        source=ID(stored=True),
        kind=ID(stored=True),
        doc_type=ID(stored=True),
        themes=KEYWORD(stored=True, commas=True, scorable=True),
        territories=KEYWORD(stored=True, commas=True, scorable=True),
        legal_refs=KEYWORD(commas=True, scorable=True),
        year=ID(),
        date=DATETIME(sortable=True),
        local_date=STORED(),
        first_seen=DATETIME(sortable=True),
        published=DATETIME(),
        location=ID(stored=True),
        url=STORED(),
        page_count=NUMERIC(stored=True),
        language=ID(stored=True),
        spell=KEYWORD(scorable=True),     # folded unstemmed words: "did you mean", wildcards
    )


def index_fields(doc: Document, tz: tzinfo) -> dict:
    """The Whoosh fields of a document (a module function: worker processes import it)."""
    # Each text analysed once, by the caller of the writer rather than FrenchTokenizer
    # (the same terms, see indexer.search.whoosh_writer.Analysed); the same folding gives the
    # "did you mean" words (indexed_document's, for a text cut for them).
    long_text = len(doc.content) > MAX_SPELL_CHARS
    d = indexed_document(doc, tz, spell=long_text)
    terms, words = analyze_for_index(d.text)
    spell_words = d.spell_words if long_text else sorted(set(words))
    title_terms = analyze(d.title)
    fields = {
        "id": d.id, "title": Analysed(d.title, title_terms), "content": Analysed(d.text, terms),
        "source": d.source, "kind": d.kind, "themes": ",".join(d.themes),
        "territories": ",".join(d.territories), "legal_refs": ",".join(d.legal_refs),
        "year": d.year, "date": d.date, "local_date": d.local_date,
        "first_seen": d.first_seen, "location": d.location, "url": d.url,
        "language": d.language, "spell": Analysed("", spell_words),
    }
    if d.doc_type:
        fields["doc_type"] = d.doc_type
    if d.published:
        fields["published"] = d.published
    if d.page_count is not None:
        fields["page_count"] = d.page_count
    return fields


def _picklable(doc: Document) -> Document:
    # The catalog hands `extra` out read-only (a mappingproxy, which pickle refuses)
    return replace(doc, extra=dict(doc.extra)) if isinstance(doc.extra, MappingProxyType) else doc


class _State:
    """A searcher and the arrays derived from it, dropped together when the index changes.

    Everything a search computes over the whole collection works on NumPy arrays indexed by
    document number (`indexer.search.whoosh_arrays`): a boolean mask per query part, facet value
    codes per document, the date columns, field lengths for scoring. Posting lists and
    positions read for a query are kept (LRU, POSTINGS_CACHE_BYTES) for the next searches.
    """

    def __init__(self, searcher):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size = searcher.doc_count_all()
        self._live: np.ndarray | None = None
        self._postings: OrderedDict = OrderedDict()
        self._postings_bytes = 0
        self._facets: dict[str, _FacetColumn] = {}
        self._columns: dict[str, np.ndarray] = {}
        self._lengths: dict[str, np.ndarray] = {}
        self._lexicons: dict[str, list[str]] = {}

    def live(self) -> np.ndarray:
        if self._live is None:
            self._live = arrays.live_mask(self.searcher)
        return self._live

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, weights) of a term, from a bounded LRU."""
        def read():
            ids, weights = arrays.postings(self.searcher, field, term, weights=True)
            return ids.astype(np.int32), weights
        return self._cached(("postings", field, term), read)

    def positions(self, field: str, term: str) -> arrays.TermPositions:
        def read():
            found = arrays.term_positions(self.searcher, field, term)
            # The same blocks hold the posting list: its documents, and weights that are the
            # position counts times the field's boost. Kept too, rather than read again to
            # find and rank the phrase's documents.
            boost = self.searcher.schema[field].format.field_boost
            self._cached(("postings", field, term), lambda: (
                found.ids.astype(np.int32), (np.diff(found.offsets) * boost).astype(np.float32)))
            return found
        return self._cached(("positions", field, term), read)

    def _cached(self, key: tuple, read: Callable[[], object]):
        found = self._postings.get(key)
        if found is not None:
            self._postings.move_to_end(key)
            return found
        found = read()
        self._postings[key] = found
        self._postings_bytes += _nbytes(found)
        while self._postings_bytes > POSTINGS_CACHE_BYTES and len(self._postings) > 1:
            _, old = self._postings.popitem(last=False)
            self._postings_bytes -= _nbytes(old)
        return found

    def term_mask(self, field: str, term: str) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[self.postings(field, term)[0]] = True
        return mask

    def facet(self, field: str) -> "_FacetColumn":
        column = self._facets.get(field)
        if column is None:
            values, docs, codes = [], [], []
            for value in self.reader.field_terms(field):
                ids = arrays.postings(self.searcher, field, value)
                if len(ids):
                    docs.append(ids)
                    codes.append(np.full(len(ids), len(values), dtype=np.int32))
                    values.append(value)
            column = _FacetColumn(
                values, np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64),
                np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32))
            self._facets[field] = column
        return column

    def column(self, field: str) -> np.ndarray:
        """A sortable field's raw values by document number (dates: Whoosh's long form)."""
        values = self._columns.get(field)
        if values is None:
            values = arrays.numeric_column(self.searcher, field)
            self._columns[field] = values
        return values

    def lengths(self, field: str) -> np.ndarray:
        values = self._lengths.get(field)
        if values is None:
            values = arrays.field_lengths(self.searcher, field)
            self._lengths[field] = values
        return values

    def lexicon(self, field: str) -> list[str]:
        values = self._lexicons.get(field)
        if values is None:
            values = list(self.reader.field_terms(field))
            self._lexicons[field] = values
        return values

    def close(self) -> None:
        self.searcher.close()


@dataclass(frozen=True)
class _FacetColumn:
    """A keyword field as (document, value code) pairs: one pair per value a document holds."""

    values: list[str]
    docs: np.ndarray
    codes: np.ndarray

    def counts(self, scope: np.ndarray) -> list[tuple[str, int]]:
        counts = np.bincount(self.codes[scope[self.docs]], minlength=len(self.values))
        return [(self.values[i], int(counts[i])) for i in np.flatnonzero(counts)]

    def mask(self, chosen: Iterable[str], size: int) -> np.ndarray:
        wanted = [i for i, value in enumerate(self.values) if value in set(chosen)]
        mask = np.zeros(size, dtype=bool)
        if wanted:
            mask[self.docs[np.isin(self.codes, wanted)]] = True
        return mask


class _Deadline:
    """The time limit of one search: once past, the rest of the query reads as empty."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.passed = False

    def check(self) -> bool:
        if not self.passed and time.monotonic() > self.at:
            self.passed = True
        return self.passed


class WhooshEngine:
    """A Whoosh index in `path` (created when absent)."""

    name = "whoosh"

    def __init__(self, path: Path, *, tz: tzinfo = timezone.utc, time_limit: float = TIME_LIMIT,
                 write_timeout: float = WRITE_TIMEOUT):
        self.path = Path(path)
        self.tz = tz
        self.time_limit = time_limit
        self.write_timeout = write_timeout
        self.path.mkdir(parents=True, exist_ok=True)
        self.clear_stale_lock()
        if whoosh_index.exists_in(str(self.path)):
            self._ix = whoosh_index.open_dir(str(self.path))
            if _schema_signature(self._ix.schema) != _schema_signature(build_schema()):
                self._ix.close()
                raise IndexOutdated(f"the search index in {self.path} was built by another version",
                                    hint="run `veille index --rebuild`")
        else:
            self._ix = whoosh_index.create_in(str(self.path), build_schema())
        self._lock = threading.RLock()
        self._state: _State | None = None
        self._cache = PageCache()

    # ------------------------------------------------------------ writing

    def add(self, documents: Iterable[Document]) -> int:
        """Add or replace documents, all in one commit (or none of them).

        An empty index given at least BULK_MIN documents (a rebuild) is filled by
        BULK_PROCS worker processes, each writing a segment; the commit is still this one.
        """
        count = 0
        with self._writer() as writer:
            fresh = self._ix.doc_count_all() == 0
            if fresh and BULK_PROCS > 1:
                documents = iter(documents)
                head = list(islice(documents, BULK_MIN))
                if len(head) == BULK_MIN:
                    segments, count = write_segments(
                        str(self.path), map(_picklable, chain(head, documents)),
                        partial(index_fields, tz=self.tz), procs=BULK_PROCS, limitmb=WRITER_MB,
                        batch=BULK_BATCH)
                    writer.add_segments(segments)
                    return count
                documents = head
            put = writer.add_document if fresh else writer.update_document
            for doc in documents:
                put(**self._fields(doc))
                count += 1
        return count

    def delete(self, ids: Iterable[str]) -> int:
        count = 0
        with self._writer() as writer:
            for doc_id in ids:
                count += writer.delete_by_term("id", doc_id) or 0
        return count

    def optimize(self) -> None:
        with self._writer(optimize=True):
            pass  # the commit merges every segment into one

    def _fields(self, doc: Document) -> dict:
        return index_fields(doc, self.tz)

    @contextmanager
    def _writer(self, **commit_options) -> Iterator:
        """A writer committed whole when the block succeeds, else cancelled and re-raised."""
        writer = self._acquire_writer()
        try:
            yield writer
            writer.commit(**commit_options)
        except BaseException:
            try:
                writer.cancel()
            except Exception:  # the original error matters, not the cleanup's
                log.exception("cancelling the index writer failed")
            raise
        finally:
            self._release_owner()
            self._changed()

    def _acquire_writer(self):
        deadline = time.monotonic() + self.write_timeout
        while True:
            try:
                writer = FastSegmentWriter(self._ix, limitmb=WRITER_MB)
                break
            except LockError:
                if self.clear_stale_lock():
                    continue
                if time.monotonic() > deadline:
                    raise IndexBusy(f"the search index in {self.path} is being written by another process",
                                    hint="try again when it has finished") from None
                time.sleep(0.2)
        self._write_owner()
        return writer

    def _write_owner(self) -> None:
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        (self.path / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")

    def _release_owner(self) -> None:
        try:
            (self.path / OWNER_FILE).unlink()
        except FileNotFoundError:
            pass

    def clear_stale_lock(self) -> bool:
        """Clear the write lock of a writer that died (killed mid-commit); True if cleared.

        The owner file names the writing process; if that process is gone, its lock is
        stale. The lock file is removed only when nobody holds it.
        """
        owner_path = self.path / OWNER_FILE
        try:
            owner = json.loads(owner_path.read_text(encoding="utf-8"))
            pid, host = int(owner["pid"]), owner.get("host")
        except FileNotFoundError:
            return False
        except (ValueError, KeyError, TypeError, OSError):
            pid, host = -1, socket.gethostname()   # unreadable: written by a dying process
        if host != socket.gethostname() or (pid != os.getpid() and _alive(pid)):
            return False
        if pid == os.getpid():
            return False
        lock = FileLock(str(self.path / LOCK_FILE))
        if not lock.acquire(blocking=False):
            return False   # a live writer holds it after all
        try:
            owner_path.unlink(missing_ok=True)
            (self.path / LOCK_FILE).unlink(missing_ok=True)
        finally:
            lock.release()
        log.warning("search index %s: cleared the stale write lock of process %s (no longer running)",
                    self.path, pid)
        return True

    def _changed(self) -> None:
        with self._lock:
            self._cache.clear()

    # ------------------------------------------------------------ reading

    def _current(self) -> _State:
        """The long-lived searcher, reopened only when the index has a new generation."""
        state = self._state
        if state is None:
            self._state = _State(self._ix.searcher())
            self._cache.clear()
        elif not state.searcher.up_to_date():
            # A new searcher, not searcher.refresh(): Whoosh's refresh adds the segments of
            # the old reader back (FileIndex._reader), so after a merge (optimize()) every
            # merged document was found twice. (It also failed on an empty index.)
            state.searcher.close()
            self._state = _State(self._ix.searcher())
            self._cache.clear()
        return self._state

    def doc_count(self) -> int:
        with self._lock:
            return self._current().searcher.doc_count()

    def search(self, request: SearchRequest, text_of: Callable[[str], str]) -> SearchResults:
        with self._lock:
            state = self._current()
            return self._cache.get_or_compute(request, lambda: self._search(state, request, text_of))

    def _search(self, state: _State, request: SearchRequest, text_of) -> SearchResults:
        deadline = _Deadline(self.time_limit)
        parsed = parse_query(request.q, request.legal_aliases)
        query = self._compile(state, parsed.root)
        if isinstance(query, tuple):   # only exclusions: everything but them
            query = _positive(query)
        live = state.live()
        if query is None:
            base = live
        elif query is _SKIP:
            base = np.zeros(state.size, dtype=bool)
        else:
            base = self._mask(state, query, deadline) & live
        base = self._date_filter(state, request, base)
        selections = self._selections(state, request)
        final = _intersect(base, selections.values())
        facets = self._facet_counts(state, base, selections, final) if request.facets else {}
        per_page = max(1, request.per_page)
        page = max(1, request.page)
        wanted = page * per_page
        by_date = request.sort == "date" or query is None or query is _SKIP
        candidates = np.flatnonzero(final)
        if not len(candidates):
            ranked = []
        elif by_date:
            dates = state.column("date")[candidates]
            ranked = [(0.0, int(n)) for n in _top(candidates, dates, wanted)]
        else:
            ranking = self._compile(state, parsed.root, relaxed=True)
            if ranking is _DROP:
                ranking = wq.Every()
            ranking = self._with_title_boost(state, parsed, ranking)
            scores = self._scores(state, ranking, deadline)[candidates]
            ranked = [(float(scores[i]), int(candidates[i]))
                      for i in _top(np.arange(len(candidates)), scores, wanted)]
        shown = ranked[(page - 1) * per_page:wanted]
        highlighter = highlighter_for(parsed, lambda p: self._expand_wildcard(state, p)[1])
        hits = tuple(self._hit(state, score, docnum, highlighter, request.highlight, text_of)
                     for score, docnum in shown)
        suggestion = self._suggest(state, parsed) if parsed.root is not None else ""
        return SearchResults(total=len(candidates), page=page, per_page=per_page, hits=hits,
                             facets=facets, notice=parsed.notice, suggestion=suggestion,
                             partial=deadline.passed)

    def _with_title_boost(self, state: _State, parsed: ParsedQuery, query):
        """Rank documents whose title holds the words first: title terms add to the score
        of documents the query matched."""
        boosts = []
        for node in parsed.positive_words():
            if node.field is not None or (isinstance(node, Word) and node.wildcard):
                continue
            terms = analyze(node.text)
            if len(terms) == 1:
                boosts.append(wq.Term("title", terms[0]))
            elif terms:
                boosts.append(wq.Phrase("title", terms))
        if not boosts:
            return query
        return wq.AndMaybe(query, wq.Or(boosts) if len(boosts) > 1 else boosts[0])

    # ------------------------------------------------------------ evaluating queries

    def _mask(self, state: _State, query, deadline: _Deadline) -> np.ndarray:
        """The documents a compiled query matches, as a boolean mask (deletions included)."""
        if isinstance(query, wq.Term):
            if deadline.check():
                return np.zeros(state.size, dtype=bool)
            return state.term_mask(query.fieldname, query.text)
        if isinstance(query, wq.Every):
            return np.ones(state.size, dtype=bool)
        if isinstance(query, wq.And):
            masks = [self._mask(state, q, deadline) for q in query.subqueries]
            return np.logical_and.reduce(masks) if masks else np.ones(state.size, dtype=bool)
        if isinstance(query, wq.Or):
            masks = [self._mask(state, q, deadline) for q in query.subqueries]
            return np.logical_or.reduce(masks) if masks else np.zeros(state.size, dtype=bool)
        if isinstance(query, wq.AndNot):
            return self._mask(state, query.a, deadline) & ~self._mask(state, query.b, deadline)
        if isinstance(query, wq.AndMaybe):
            return self._mask(state, query.a, deadline)
        if isinstance(query, wq.Phrase):
            if deadline.check():
                return np.zeros(state.size, dtype=bool)
            # positions first: reading them also keeps the words' posting lists
            positions = [state.positions(query.fieldname, word) for word in query.words]
            masks = [self._mask(state, wq.Term(query.fieldname, word), deadline)
                     for word in query.words]
            candidates = np.flatnonzero(np.logical_and.reduce(masks) & state.live())
            found = arrays.phrase_docs(candidates, positions)
            mask = np.zeros(state.size, dtype=bool)
            mask[found] = True
            return mask
        if query is wq.NullQuery:
            return np.zeros(state.size, dtype=bool)
        raise TypeError(f"no mask for the query {query!r}")

    def _scores(self, state: _State, query, deadline: _Deadline) -> np.ndarray:
        """BM25 (as Whoosh's BM25F scores one field) summed over the query's positive terms,
        for every document at once; callers read it where the query matched."""
        scores = np.zeros(state.size, dtype=np.float32)
        for term in _positive_terms(query):
            if deadline.check():
                break
            ids, tf = state.postings(term.fieldname, term.text)
            if not len(ids):
                continue
            searcher = state.searcher
            if not searcher.schema[term.fieldname].scorable:
                scores[ids] += term.boost * tf    # Whoosh scores such fields by weight alone
                continue
            avg = searcher.avg_field_length(term.fieldname) or 1.0
            lengths = state.lengths(term.fieldname)[ids]
            norm = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / avg)
            idf = searcher.idf(term.fieldname, term.text)
            scores[ids] += (term.boost * idf) * (tf * (BM25_K1 + 1)) / (tf + norm)
        return scores

    def _hit(self, state: _State, score: float, docnum: int, highlighter: Highlighter,
             highlight: bool, text_of) -> Hit:
        stored = state.searcher.stored_fields(docnum)
        text, page = "", None
        if highlight:
            text, page = snippet(text_of(stored["id"]) or "", highlighter)
        return Hit(id=stored["id"], title=stored.get("title", ""), url=stored.get("url"),
                   source=stored.get("source", ""), kind=stored.get("kind", ""),
                   published=stored.get("local_date"), score=round(float(score), 4),
                   snippet=text, page=page, themes=_split(stored.get("themes")),
                   doc_type=stored.get("doc_type", ""))

    # ------------------------------------------------------------ filters and facets

    def _date_filter(self, state: _State, request: SearchRequest, base: np.ndarray) -> np.ndarray:
        if request.date_from or request.date_to:
            start = local_day_bounds(request.date_from, self.tz)[0] if request.date_from else None
            end = local_day_bounds(request.date_to, self.tz)[1] if request.date_to else None
            base = base & _in_range(state.column("date"), start, end)
        if request.first_seen_after:
            start = local_day_bounds(request.first_seen_after, self.tz)[0]
            base = base & _in_range(state.column("first_seen"), start, None)
        return base

    def _selections(self, state: _State, request: SearchRequest) -> dict[str, np.ndarray]:
        selections = {}
        for name, values in request.filters.items():
            field = FACET_FIELDS.get(name)
            if field is None or not values:
                continue
            selections[name] = state.facet(field).mask(values, state.size)
        return selections

    def _facet_counts(self, state: _State, base, selections, final) -> dict:
        facets = {}
        for name in FACETS:
            others = [s for other, s in selections.items() if other != name]
            # A facet's own selection does not narrow its counts: values are OR-ed within it.
            scope = _intersect(base, others) if name in selections else final
            facets[name] = ordered_facet(name, state.facet(FACET_FIELDS[name]).counts(scope))
        return facets

    # ------------------------------------------------------------ compiling queries

    def _compile(self, state: _State, node, relaxed: bool = False):
        """A Whoosh query for the tree; None for "everything", _SKIP for "nothing to search".

        `relaxed` builds the query that only ranks documents already known to match: phrases
        become plain ANDs and exclusions are left out, which spares Whoosh's slow position
        checks a second time.
        """
        if node is None:
            return None
        if isinstance(node, (Word, Phrase)):
            return self._compile_leaf(state, node, relaxed)
        if isinstance(node, Not):
            if relaxed:
                return _DROP
            inner = self._compile(state, node.node)
            return _SKIP if inner is _SKIP or inner is None else ("not", inner)
        parts = [self._compile(state, item, relaxed) for item in node.items]
        parts = [p for p in parts if p is not _SKIP]
        if not parts:
            return _SKIP
        if _DROP in parts:
            if isinstance(node, Or):
                return wq.Every()
            parts = [p for p in parts if p is not _DROP] or [wq.Every()]
        if isinstance(node, Or):
            subs = [_positive(p) for p in parts]
            return wq.Or(subs) if len(subs) > 1 else subs[0]
        positives = [p for p in parts if not isinstance(p, tuple)]
        negatives = [p[1] for p in parts if isinstance(p, tuple)]
        if not negatives:
            return wq.And(positives) if len(positives) > 1 else positives[0]
        keep = wq.And(positives) if len(positives) > 1 else positives[0] if positives else wq.Every()
        drop = wq.Or(negatives) if len(negatives) > 1 else negatives[0]
        return wq.AndNot(keep, drop)

    def _compile_leaf(self, state: _State, node, relaxed: bool = False):
        target = QUERY_FIELD_TARGETS.get(node.field, None) if node.field else None
        if target is None or target == "title":
            fields = ("title",) if target == "title" else ("content",)
            if isinstance(node, Word) and node.wildcard:
                terms, _ = self._expand_wildcard(state, node.text)
                if not terms:
                    return wq.NullQuery()
                return wq.Or([wq.Term(f, t) for f in fields for t in terms])
            terms = analyze(node.text)
            if not terms:
                return _SKIP
            if len(terms) == 1:
                subs = [wq.Term(f, terms[0]) for f in fields]
            elif relaxed:
                subs = [wq.And([wq.Term(f, t) for t in terms]) for f in fields]
            else:
                subs = [wq.Phrase(f, terms) for f in fields]
            return wq.Or(subs) if len(subs) > 1 else subs[0]
        lexicon = state.lexicon(target)   # legal_refs holds every key cited: read it once
        if isinstance(node, Word) and node.wildcard:
            pattern = fold(node.text)
            values = [v for v in lexicon if fnmatchcase(fold(v), pattern)]
        else:
            values = matching_values(lexicon, node.text)
        if not values:
            return wq.NullQuery()
        subs = [wq.Term(target, v) for v in values]
        return wq.Or(subs) if len(subs) > 1 else subs[0]

    def _expand_wildcard(self, state: _State, pattern: str) -> tuple[list[str], list[str]]:
        """Index terms (stems) and words a wildcard stands for, from the index's vocabulary."""
        folded = fold(pattern)
        prefixes = wildcard_prefixes(pattern)
        if not prefixes:
            return [], []
        words = []
        for raw in state.reader.expand_prefix("spell", prefixes[0]):
            word = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if fnmatchcase(word, folded):
                words.append(word)
                if len(words) >= MAX_WILDCARD_WORDS:
                    break
        terms = sorted({term for word in words for term in analyze(word)})
        return terms, terms

    # ------------------------------------------------------------ did you mean, similar

    def _suggest(self, state: _State, parsed: ParsedQuery) -> str:
        reader = state.reader
        replacements = {}
        for word in suggestion_words(parsed):
            terms = analyze(word)
            if not terms or all(reader.doc_frequency("content", t) for t in terms):
                continue
            folded = fold_words(word)
            if len(folded) != 1:
                continue
            best = self._closest_word(reader, folded[0])
            if best:
                replacements[word] = best
        return parsed.replace_words(replacements).text() if replacements else ""

    @staticmethod
    def _closest_word(reader, word: str) -> str | None:
        maxdist = 1 if len(word) <= 4 else 2
        candidates = []
        for candidate in reader.terms_within("spell", word, maxdist, prefix=1):
            if isinstance(candidate, bytes):
                candidate = candidate.decode("utf-8")
            if candidate == word:
                continue
            distance = damerau_levenshtein(word, candidate)
            candidates.append((distance, -reader.doc_frequency("spell", candidate), candidate))
        return min(candidates)[2] if candidates else None

    def more_like_this(self, doc_id: str, limit: int = 5, text_of: Callable[[str], str] | None = None) -> list[str]:
        with self._lock:
            state = self._current()
            searcher = state.searcher
            docnum = searcher.document_number(id=doc_id)
            if docnum is None:
                return []
            stored = searcher.stored_fields(docnum)
            text = stored.get("title", "") + "\n" + ((text_of(doc_id) if text_of else "") or "")
            keys = searcher.key_terms_from_text("content", text[:MLT_TEXT_CHARS], numterms=MLT_TERMS)
            if not keys:
                return []
            query = wq.Or([wq.Term("content", term, boost=weight) for term, weight in keys]
                          + [wq.Term("title", term, boost=weight) for term, weight in keys])
            results = searcher.search(query, limit=limit + 1, mask=wq.Term("id", doc_id))
            return [hit["id"] for hit in results[:limit]]

    def close(self) -> None:
        with self._lock:
            if self._state is not None:
                self._state.close()
                self._state = None
            self._cache.clear()
            self._ix.close()


# ---------------------------------------------------------------- helpers


def _schema_signature(schema: Schema) -> list[tuple]:
    return sorted((name, type(field).__name__, type(field.format).__name__,
                   bool(field.column_type), field.scorable)
                  for name, field in schema.items())


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _positive(part):
    if isinstance(part, tuple):   # a lone NOT inside an OR: everything but it
        return wq.AndNot(wq.Every(), part[1])
    return part


def _nbytes(cached) -> int:
    return cached.nbytes if isinstance(cached, arrays.TermPositions) else sum(a.nbytes for a in cached)


def _intersect(base: np.ndarray, masks) -> np.ndarray:
    result = base
    for mask in masks:
        result = result & mask
    return result


def _in_range(column: np.ndarray, start: datetime | None, end: datetime | None) -> np.ndarray:
    """start <= value < end on a date column (Whoosh's long form of datetimes)."""
    mask = np.ones(len(column), dtype=bool)
    if start is not None:
        mask &= column >= datetime_to_long(start)
    if end is not None:
        mask &= column < datetime_to_long(end)
    return mask


def _top(items: np.ndarray, keys: np.ndarray, count: int) -> np.ndarray:
    """The `count` items of highest key, in order; ties go to the lower document number,
    as Whoosh orders them."""
    if len(items) > count * 4:
        keep = np.argpartition(-keys, count - 1)[:count] if count < len(items) else np.arange(len(items))
        # argpartition cuts ties anywhere: keep every item tied with the last one kept
        threshold = keys[keep].min()
        keep = np.flatnonzero(keys >= threshold)
        items, keys = items[keep], keys[keep]
    order = np.lexsort((items, -keys))
    return items[order[:count]]


def _positive_terms(query) -> Iterator:
    """The terms of a compiled query that add to a document's score (not exclusions)."""
    if isinstance(query, wq.Term):
        yield query
    elif isinstance(query, wq.Phrase):   # ranked by its words (matching is checked apart)
        for word in dict.fromkeys(query.words):
            yield wq.Term(query.fieldname, word, boost=query.boost)
    elif isinstance(query, (wq.And, wq.Or)):
        for sub in query.subqueries:
            yield from _positive_terms(sub)
    elif isinstance(query, (wq.AndNot,)):
        yield from _positive_terms(query.a)
    elif isinstance(query, wq.AndMaybe):
        yield from _positive_terms(query.a)
        yield from _positive_terms(query.b)


def _split(value) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(v.strip() for v in str(value).split(",") if v.strip())
