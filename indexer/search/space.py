"""The documentation space: the catalog plus a search index, the one facade others use.

The web, the CLI, the jobs and the digest talk to `DocumentSpace`; only this package knows
which engine runs. A search goes, for every engine alike:

    parse (query.py) -> compile (compile.py) -> backend: ids, scores, facet counts
    -> ties broken by document id -> hits from the catalog -> snippets (highlight.py)
    -> "did you mean" (suggest.py)

Internal documents (`visibility: interne`) are filtered here, in the query itself, unless
the request says the reader may see them: counts, facets, suggestions and similar
documents never see what the reader cannot.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from indexer.enrich.legal import is_date_key, query_keys
from indexer.enrich.synonyms import SYNONYMS_FILE, SynonymFile
from indexer.search import citations, facet_counts, indexes
from indexer.search.backend import Backend, Query
from indexer.search.citations import Citation, CitedBy
from indexer.search.compile import Compiler
from indexer.search.expand import Expander
from indexer.search.fields import (FACET_FIELDS, SPELL_FIELD, indexed_document, local_date, local_day_bounds)
from indexer.search.highlight import highlighter_for, snippet
from indexer.search.query import ParsedQuery, parse_query, required_words
from indexer.search.request import Hit, IndexDamaged, IndexOutdated, SearchRequest, SearchResults
from indexer.search.similar import similar_query
from indexer.search.suggest import Vocabulary, did_you_mean
from veille.core.config import Config
from veille.core.facets import BY_NAME
from veille.core.progress import Progress, no_progress
from veille.core.records import VISIBILITY_INTERNAL, VISIBILITY_PUBLIC, Document
from veille.storage.catalog import Catalog

log = logging.getLogger(__name__)

BATCH = 500          # documents per commit when indexing what is pending
RELAX_BELOW = 3      # fewer documents holding every word: those holding most of them follow
RELAXED_CANDIDATES = 500   # best matches of a best-match search ranked by the words they hold
CACHE_PAGES = 256    # recent result pages kept
CITED_BY_SHOWN = 20  # newest documents citing a text, listed on its page
EDGE_MARGIN = 20     # matches fetched beyond a page, for the ties at its edge
PUBLIC = VISIBILITY_PUBLIC
INTERNAL = VISIBILITY_INTERNAL


@dataclass(frozen=True)
class IndexReport:
    indexed: int
    deleted: int
    seconds: float
    engine: str
    rebuilt: bool = False


@dataclass(frozen=True)
class _Scope:
    filters: list            # dates
    visible: Query | None    # what the reader may see (None: everything)
    withheld: list           # what the reader may not see, taken out of every match
    selections: dict         # facet name -> its selected values
    impossible: bool         # a selection no document can meet


@dataclass(frozen=True)
class _Answer:
    ranked: list
    total: int
    facets: dict
    page: int
    per_page: int
    facets_estimated: bool = False
    total_estimated: bool = False


class _Opened:
    """One open index and what is derived from it, replaced together when it changes."""

    def __init__(self, path: Path, backend: Backend):
        self.path = path
        self.backend = backend
        self.generation = None
        self.compiler = Compiler(backend)
        self.vocabulary = Vocabulary(lambda letter, limit: backend.terms(SPELL_FIELD, letter, limit))
        self.pages: OrderedDict = OrderedDict()

    def refresh(self) -> None:
        """Drop the caches when the index changed (a commit here or in another process)."""
        generation = self.backend.generation()
        if generation != self.generation:
            self.generation = generation
            self.compiler = Compiler(self.backend)
            self.pages.clear()


class DocumentSpace:
    """Catalog and index of one data directory. Safe to share between threads."""

    def __init__(self, config: Config, synonyms_path: Path | None = None, catalog: Catalog | None = None):
        """`catalog`: one the caller already has open (the web app's, the scheduler's)."""
        self.config = config
        self.layout = config.layout
        self.engine_name = config.search.engine
        self.catalog = catalog or Catalog.open(config.layout)
        self.root = self.layout.search
        self._lock = threading.RLock()
        self._opened: _Opened | None = None
        self._synonyms = SynonymFile(synonyms_path or SYNONYMS_FILE)
        self._expansions: tuple | None = None

    # ------------------------------------------------------------ the index in use

    def _current(self) -> _Opened:
        """The index CURRENT names, reopened when a rebuild swapped it; a new empty index of
        the configured engine when there is none."""
        with self._lock:
            path = indexes.current_index(self.layout)
            if path is not None and (self._opened is None or path != self._opened.path):
                try:
                    self._open(path)
                except IndexOutdated as exc:
                    log.warning("%s : un nouvel index est créé, tous les documents seront indexés à nouveau", exc)
                    path = None
            if path is None:
                path = indexes.new_index_dir(self.layout, self.engine_name)
                self._open(path, create=True)
                indexes.make_current(self.layout, path)
                self.catalog.queue.mark_all_unindexed()   # a new index holds nothing yet
            opened = self._opened
            opened.refresh()
            return opened

    def _open(self, path: Path, create: bool = False) -> None:
        backend = indexes.open_backend(path, create=create)
        if self._opened is not None:
            self._opened.backend.close()
        self._opened = _Opened(path, backend)

    def backend(self) -> Backend:
        return self._current().backend

    def missing_files(self) -> list[str]:
        """Files of the index in use that were deleted from under it (see Backend)."""
        return self.backend().missing_files()

    def check_files(self) -> None:
        """Raise IndexDamaged, saying what to run, when files of the index are missing."""
        missing = self.missing_files()
        if missing:
            raise IndexDamaged(
                f"l'index de recherche a perdu {len(missing)} fichier(s) ({', '.join(missing[:3])}) : "
                "un segment a été supprimé",
                hint="lancez `veille index --rebuild` (l'index est refait depuis le catalogue) "
                     "ou `veille restore` d'une sauvegarde")

    def stale_reason(self) -> str | None:
        """Why the index must be rebuilt before it takes new documents, in French; None if not."""
        return indexes.stale_reason(self.backend(), self.engine_name)

    # ------------------------------------------------------------ searching

    def search(self, request: SearchRequest) -> SearchResults:
        aliases = self.legal_aliases(query_keys(request.q)) if request.q else {}
        # made internal a moment ago, the index not told yet: hidden all the same
        hidden = () if request.include_internal else tuple(sorted(self.catalog.documents.internal_pending_ids()))
        opened = self._current()
        key = (_request_key(request), tuple(sorted(aliases.items())), hidden)
        with self._lock:
            cached = opened.pages.get(key)
            if cached is not None:
                opened.pages.move_to_end(key)
                return cached
        try:
            results = self._search(opened, request, aliases, hidden)
        except Exception:
            # A rebuild in another process swapped the index and removed this one's files
            # during the search: search the new index. Any other failure is a real error.
            if indexes.current_index(self.layout) in (opened.path, None):
                raise
            opened = self._current()
            results = self._search(opened, request, aliases, hidden)
        with self._lock:
            if opened.generation == opened.backend.generation():
                opened.pages[key] = results
                while len(opened.pages) > CACHE_PAGES:
                    opened.pages.popitem(last=False)
        return results

    def _search(self, opened: _Opened, request: SearchRequest, aliases, hidden: tuple[str, ...]) -> SearchResults:
        backend, compiler = opened.backend, opened.compiler
        parsed = parse_query(request.q, aliases)
        root, expansions = self._expander().expand(parsed.root)
        # without a word to weigh (no words, or only exclusions) relevance means nothing
        by_date = request.sort == "date" or not parsed.positive_words()
        text_query = compiler.compile(root)
        sample = facet_counts.sampled_part(backend) if request.facets and text_query is not None else None
        part_text = compiler.compile(root, within=sample) if sample is not None else None
        if text_query is not None and not by_date:
            text_query = compiler.with_proximity(parsed.root, text_query)
        scope = self._scope(backend, request, hidden)
        answer = self._answer(backend, text_query, scope, request, by_date, part_text=part_text)
        relaxed, strict_total = False, answer.total
        if answer.total < RELAX_BELOW:
            loose = compiler.compile_relaxed(root)
            if loose is not None:
                query = compiler.with_proximity(parsed.root, loose.query)
                wider = self._answer(backend, query, scope, request, by_date, count_words=loose.words)
                if wider.total > answer.total:
                    answer, relaxed = wider, True
        shown = ParsedQuery(root, parsed.notice, parsed.repairs)
        hits = self._hits(answer.ranked, shown, compiler, request.highlight, by_date, request.include_internal)
        suggestion = ""
        if parsed.root is not None and request.suggest:
            # a word every result holds is in a document this reader may see
            found = required_words(root) if answer.total and not relaxed else frozenset()
            on_page = backend.values("id", [hit.id for hit in hits]) if hits else None
            suggestion = did_you_mean(backend, opened.vocabulary, parsed, scope.visible, found, on_page)
        return SearchResults(total=answer.total, page=answer.page, per_page=answer.per_page,
                             hits=tuple(hits), facets=answer.facets, notice=parsed.notice,
                             suggestion=suggestion, expansions=expansions, relaxed=relaxed,
                             strict_total=strict_total, facets_estimated=answer.facets_estimated,
                             total_estimated=answer.total_estimated)

    def _expander(self) -> Expander:
        table = self._synonyms.table()
        with self._lock:
            if self._expansions is None or self._expansions[0] is not table:
                self._expansions = (table, Expander(table))
            return self._expansions[1]

    def _scope(self, backend: Backend, request: SearchRequest, hidden: tuple[str, ...] = ()) -> "_Scope":
        """What narrows a search besides its words: dates, visibility, facet selections."""
        filters = self._date_filters(backend, request)
        visible = self._visibility(backend, request, hidden)
        selections = {name: backend.values(FACET_FIELDS[name], list(values))
                      for name, values in request.filters.items()
                      if values and name in FACET_FIELDS and FACET_FIELDS[name] in backend.fields
                      and (request.include_internal or not BY_NAME[name].staff_only)}
        # a filter on a facet this index lacks (or the reader may not use) matches nothing
        impossible = any(values and name not in selections for name, values in request.filters.items())
        return _Scope(filters, visible, self._withheld(backend, request, hidden), selections, impossible)

    def _answer(self, backend: Backend, text_query: Query | None, scope: "_Scope",
                request: SearchRequest, by_date: bool, count_words: tuple = (),
                part_text: Query | None = None) -> "_Answer":
        """`part_text`: the words restricted to the part facets are first counted on."""
        base = ([text_query] if text_query is not None else []) + scope.filters
        final = backend.nothing() if scope.impossible else backend.excluding(
            backend.all_of(base + list(scope.selections.values())), scope.withheld)
        page, per_page = max(1, request.page), max(1, request.per_page)
        if count_words:
            ranked = _by_words_held(backend, final, count_words, (page - 1) * per_page, per_page, by_date)
        else:
            ranked = _window(backend, final, (page - 1) * per_page, per_page, by_date)
        facets: dict = {}
        total, estimated, total_estimated = None, False, False
        if request.facets and not scope.impossible:
            part_base = None if part_text is None else [part_text] + scope.filters
            facets, total, estimated, total_estimated = facet_counts.count(
                backend, base, scope.selections, scope.withheld, request.include_internal, part_base)
        if total is None:
            total = backend.count(final)
        return _Answer(ranked, total, facets, page, per_page, estimated, total_estimated)

    def _visibility(self, backend: Backend, request: SearchRequest, hidden: tuple[str, ...] = ()) -> Query | None:
        """What an anonymous reader may see; None: everything (staff)."""
        if request.include_internal:
            return None
        if "visibility" in backend.fields:
            public = backend.values("visibility", [PUBLIC])
            return backend.excluding(public, [backend.values("id", list(hidden))]) if hidden else public
        # an index of the previous release has no visibility: leave out what the catalog
        # says is internal, by id
        internal = self.catalog.documents.internal_ids()
        if internal:
            return backend.excluding(backend.everything(), [backend.values("id", internal)])
        return None

    def _withheld(self, backend: Backend, request: SearchRequest, hidden: tuple[str, ...] = ()) -> list[Query]:
        """The documents an anonymous reader may not see, as exclusions: taking the few
        internal documents out of a match costs about half as much as intersecting it with
        every public one (1.3 against 2.5 ms for one word at 100k). The index holds
        `interne` for every document that is not public (`fields.indexed_document`)."""
        if request.include_internal:
            return []
        if "visibility" in backend.fields:
            return [backend.values("visibility", [INTERNAL])] + ([backend.values("id", list(hidden))] if hidden else [])
        internal = self.catalog.documents.internal_ids()
        return [backend.values("id", internal)] if internal else []

    def _date_filters(self, backend: Backend, request: SearchRequest) -> list[Query]:
        tz = self.config.tz
        out = []
        if request.date_from or request.date_to:
            start = local_day_bounds(request.date_from, tz)[0] if request.date_from else None
            end = local_day_bounds(request.date_to, tz)[1] if request.date_to else None
            out.append(backend.date_range("date", start, end))
        if request.first_seen_after:
            out.append(backend.date_range("first_seen", local_day_bounds(request.first_seen_after, tz)[0], None))
        return out

    def _hits(self, ranked: list[tuple[str, float]], parsed: ParsedQuery, compiler: Compiler,
              highlight: bool, by_date: bool, include_internal: bool) -> list[Hit]:
        cards = self.catalog.documents.cards([doc_id for doc_id, _ in ranked])
        highlighter = highlighter_for(parsed, compiler.expand_wildcard) if highlight else None
        hits = []
        for doc_id, key in ranked:
            doc = cards.get(doc_id)
            if doc is None or not _visible(doc, include_internal):
                continue   # removed from the catalog, or made internal, not yet in the index
            text, page_no = "", None
            if highlighter is not None:
                text, page_no = snippet(self.catalog.documents.text_of(doc_id) or "", highlighter)
            hits.append(Hit(
                id=doc_id, title=doc.title, url=doc.url, source=doc.source, kind=doc.kind,
                published=local_date(doc, self.config.tz).isoformat(),
                score=0.0 if by_date else round(key, 4), snippet=text, page=page_no,
                themes=doc.themes, doc_type=doc.doc_type,
                visibility=doc.visibility))
        return hits

    def similar(self, doc_id: str, limit: int = 5, include_internal: bool = False) -> list[Document]:
        doc = self.document(doc_id, include_internal)
        if doc is None:
            return []
        backend = self._current().backend
        query = similar_query(backend, doc.title, doc.content or doc.summary)
        if query is None:
            return []
        parts = [query]
        hidden = () if include_internal else tuple(self.catalog.documents.internal_pending_ids())
        visible = self._visibility(backend, SearchRequest(include_internal=include_internal), hidden)
        if visible is not None:
            parts.append(visible)
        query = backend.excluding(backend.all_of(parts), [backend.term("id", doc_id)])
        ids = [i for i, _ in _window(backend, query, 0, limit, by_date=False)]
        docs = self.catalog.documents.get_many(ids)
        return [docs[i] for i in ids if i in docs and _visible(docs[i], include_internal)]

    # ------------------------------------------------------------ documents and legal links

    def document(self, doc_id: str, include_internal: bool = False) -> Document | None:
        """The document, or None when there is none or the reader may not see it (the same
        answer: an internal document does not exist for anonymous readers)."""
        doc = self.catalog.documents.get(doc_id)
        return doc if doc is not None and _visible(doc, include_internal) else None

    def cites(self, doc_id: str, include_internal: bool = False) -> list[Citation]:
        """Texts the document cites ("cite"), each with its Légifrance link and the local
        copies the reader may see."""
        doc = self.document(doc_id, include_internal)
        if doc is None:
            return []
        return [replace(c, documents=tuple(d for d in c.documents if _visible(d, include_internal)))
                for c in citations.cites(self.catalog, doc)]

    def cited_by(self, doc_id: str, include_internal: bool = False, limit: int | None = None) -> CitedBy:
        """Documents citing this legal text ("cité par"): the `limit` newest the reader may
        see, and how many there are. Asked of the index, so a text cited ten thousand
        times costs what a search does."""
        limit = CITED_BY_SHOWN if limit is None else limit
        doc = self.document(doc_id, include_internal)
        own = tuple(citations.own_keys(doc)) if doc else ()
        if not own:
            return CitedBy((), 0)
        backend = self.backend()
        if "cites" not in backend.fields:   # an index of the previous release: from the catalog
            found = [d for d in citations.cited_by(self.catalog, doc) if _visible(d, include_internal)]
            return CitedBy(tuple(found[:limit]), len(found), own)
        # its copies from other sources name it too, they do not cite it
        copies = [doc.id, *(d.id for d in citations.same_as(self.catalog, doc))]
        hidden = () if include_internal else tuple(self.catalog.documents.internal_pending_ids())
        visible = self._visibility(backend, SearchRequest(include_internal=include_internal), hidden)
        query = backend.all_of([backend.values("cites", list(own))] + ([visible] if visible is not None else []))
        query = backend.excluding(query, [backend.values("id", copies)])
        ids = [i for i, _ in _window(backend, query, 0, limit, by_date=True)]
        cards = self.catalog.documents.cards(ids)
        shown = tuple(cards[i] for i in ids if i in cards and _visible(cards[i], include_internal))
        return CitedBy(shown, backend.count(query), own)

    def same_as(self, doc_id: str, include_internal: bool = False) -> list[Document]:
        """The same legal text from other sources (feed item, API text, library PDF)."""
        doc = self.document(doc_id, include_internal)
        found = citations.same_as(self.catalog, doc) if doc else []
        return [d for d in found if _visible(d, include_internal)]

    def legal_ids(self, doc_ids) -> dict[str, str]:
        """doc id -> legal_id among `doc_ids`: results sharing one are the same text."""
        return citations.legal_ids(self.catalog, doc_ids)

    def legal_aliases(self, keys) -> dict[str, tuple[str, ...]]:
        """For each key naming a text of the catalog, the text's other keys (NOR, ELI, date)."""
        found = self.catalog.legal_keys.documents(keys, "self")
        docs = self.catalog.documents.get_many({i for ids in found.values() for i in ids})
        aliases = {}
        for key, ids in found.items():
            if is_date_key(key):  # a date names no text alone: no aliases from it
                continue
            others = [k for i in ids if i in docs for k in docs[i].extra.get("legal_ids", ()) if k != key]
            if others:
                aliases[key] = tuple(dict.fromkeys(others))
        return aliases

    def stats(self) -> dict:
        """Every catalog document, even those with no extracted text."""
        return {
            "documents": self.catalog.documents.count(),
            "by_source": self.catalog.documents.counts_by("source"),
            "by_kind": self.catalog.documents.counts_by("kind"),
            "pending": self.catalog.queue.pending_count(),
        }

    # ------------------------------------------------------------ writing

    def index_pending(self, progress: Progress = no_progress) -> IndexReport:
        """Apply the catalog's pending changes to the index, a batch per commit.

        Each batch is marked indexed after its commit; a crash in between only means the
        batch is indexed again next time (adding replaces by id).
        """
        with indexes.index_write_lock(self.layout):
            reason = self.stale_reason()
            if reason:
                raise IndexOutdated(reason)
            return self._index_pending(progress)

    def _index_pending(self, progress: Progress) -> IndexReport:
        started = time.monotonic()
        backend = self.backend()
        tz = self.config.tz
        deletions = self.catalog.queue.deletions()
        deleted = 0
        if deletions:
            deleted = backend.delete(deletions)
            self.catalog.queue.mark_indexed([], deleted=deletions)
        total = self.catalog.queue.pending_count()
        done = 0
        progress(0, total, "")
        # bounded: documents re-queued while we run wait for the next call
        while done < total:
            batch, revisions = self.catalog.queue.pending_batch(limit=BATCH)
            if not batch:
                break
            backend.add(indexed_document(doc, tz) for doc in batch)
            self.catalog.queue.mark_indexed([doc.id for doc in batch], revisions=revisions)
            done += len(batch)
            progress(min(done, total), total, batch[-1].title)
        return IndexReport(indexed=done, deleted=deleted, seconds=time.monotonic() - started,
                           engine=backend.name)

    def rebuild(self, progress: Progress = no_progress) -> IndexReport:
        """Index the whole catalog into a fresh directory of the configured engine, then
        swap it in atomically."""
        with indexes.index_write_lock(self.layout):
            return self._rebuild(progress)

    def _rebuild(self, progress: Progress) -> IndexReport:
        started = time.monotonic()
        deletions = self.catalog.queue.deletions()
        total = self.catalog.documents.count()
        # The documents waiting for the index, read before the documents themselves: one
        # changed during the rebuild (or indexed before it) is marked by its revision alone.
        # Only these are marked: a million rows already marked are not written again.
        pending = self.catalog.queue.pending_revisions()
        path = indexes.new_index_dir(self.layout, self.engine_name)
        read = 0
        tz = self.config.tz

        def documents() -> Iterator:
            nonlocal read
            for doc in self.catalog.documents.iter_all():
                read += 1
                progress(read, total, doc.title)
                yield indexed_document(doc, tz)

        fresh = indexes.open_backend(path, create=True)
        try:
            progress(0, total, "")
            indexed = fresh.add(documents())
        except BaseException:
            fresh.close()
            shutil.rmtree(path, ignore_errors=True)
            raise
        fresh.close()
        with self._lock:
            old = self._opened.path if self._opened else None
            indexes.make_current(self.layout, path)
            self._open(path)
        self.catalog.queue.mark_indexed(list(pending), deleted=deletions, revisions=pending)
        indexes.remove_other_indexes(self.layout, keep=path)
        log.info("index %s reconstruit : %d documents (précédent : %s)", self.engine_name, indexed, old)
        return IndexReport(indexed=indexed, deleted=len(deletions),
                           seconds=time.monotonic() - started, engine=self.engine_name, rebuilt=True)

    def remove_orphans(self) -> int:
        """Remove from the index the documents the catalog does not hold (an index copied a
        moment after its catalog, by a backup); returns how many."""
        with indexes.index_write_lock(self.layout):
            backend = self.backend()
            if not backend.writable:
                return 0
            known = set(self.catalog.documents.ids())
            return backend.delete([doc_id for doc_id, _ in backend.terms("id") if doc_id not in known])

    def optimize(self) -> None:
        with indexes.index_write_lock(self.layout):
            self.backend().optimize()

    def close(self) -> None:
        with self._lock:
            if self._opened is not None:
                self._opened.backend.close()
                self._opened = None
        self.catalog.close()


def _visible(doc: Document, include_internal: bool) -> bool:
    return include_internal or doc.visibility == PUBLIC


def _window(backend: Backend, query: Query, start: int, count: int, by_date: bool) -> list[tuple[str, float]]:
    """Matches `start` to `start + count` in the order (best key first, then document id).

    Engines return equal keys in their own order (a rebuild may change it): the matches
    sharing the key at the page's edge are all fetched, then everything is sorted by id
    among equals, so every page is the same slice of one stable order."""
    want = start + count
    if count <= 0:
        return []
    # engines' scores tie often (lengths are stored coarsely): fetching a margin beyond the
    # page costs less than asking again when the edge falls inside a run of equal keys
    limit = want + 1 + max(want, EDGE_MARGIN)
    while True:
        found = backend.top(query, limit, by_date)
        if len(found) < limit or found[-1][1] != found[want - 1][1]:
            break
        limit *= 2
    found.sort(key=lambda item: (-item[1], item[0]))
    return found[start:want]


def _by_words_held(backend: Backend, query: Query, words: tuple, start: int, count: int,
                   by_date: bool) -> list[tuple[str, float]]:
    """Matches `start` to `start + count`, ranked by how many of `words` they hold, then
    by their key (relevance, or date), then id. The RELAXED_CANDIDATES best matches are
    ranked so; beyond them (a search this loose rarely gets read that far) the key alone."""
    want = start + count
    candidates = backend.top(query, max(RELAXED_CANDIDATES, want + 1), by_date)
    held: dict[str, int] = {doc_id: 0 for doc_id, _ in candidates[:RELAXED_CANDIDATES]}
    if held:
        among = backend.values("id", list(held))
        for word in words:
            for doc_id, _ in backend.top(backend.all_of([word, among]), len(held)):
                held[doc_id] += 1
    head = sorted(candidates[:RELAXED_CANDIDATES], key=lambda item: (-held[item[0]], -item[1], item[0]))
    return (head + candidates[RELAXED_CANDIDATES:])[start:want]


def _request_key(request: SearchRequest) -> tuple:
    filters = tuple(sorted((k, tuple(v)) for k, v in request.filters.items() if v))
    return (request.q, filters, request.date_from, request.date_to, request.first_seen_after,
            request.sort, request.page, request.per_page, request.facets, request.highlight,
            request.suggest, request.include_internal)

