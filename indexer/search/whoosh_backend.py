"""The pure-Python engine: stock Whoosh (`whoosh-reloaded`, public API only) behind `Backend`.

For a centre that wants no compiled engine: slower than tantivy on large collections (see
bench/README.md), the same answers. Documents are analysed by `indexer.search.analysis`
(`FrenchAnalyzer` is that pipeline as a Whoosh tokenizer); queries are Whoosh query
objects; facets are `groupedby` counts; scores are Whoosh's BM25F with tantivy's idf, so
both engines rank alike.

Writes go through one writer committed whole, or cancelled and re-raised. Whoosh's write
lock is an fcntl lock, released by the system when a writer dies, and a commit writes the
new table of contents last, by rename: a writer killed mid-commit leaves the previous
generation readable. Readers open with Veille's own schema, never the pickled one.
"""

from __future__ import annotations

import json
import math
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring, sorting
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.index import LockError

from indexer.search.analysis import analyze, folded_words
from indexer.search.fields import KEYWORD_FIELDS, NEW_FIELDS, SPELL_FIELD, TEXT_FIELDS, IndexedDocument
from indexer.search.request import DAMAGED_HINT, IndexOutdated
from veille.core.errors import VeilleError

LAYOUT = 2            # 2: stock Whoosh, one field per text, visibility
LEGACY_LAYOUT = 1     # Veille's own Whoosh writer: title + one field of all text, no visibility
VERSION_FILE = "veille-whoosh.json"
WRITE_TIMEOUT = 30.0
WRITER_MB = 256
BULK_PROCS = min(2, os.cpu_count() or 1)
BULK_MIN = 2_000      # documents into an empty index from which several processes write it
_LEGACY_TEXT = ("title", "content")


class IndexLocked(VeilleError):
    code = "index_busy"


class FrenchAnalyzer(Tokenizer):
    """`indexer.search.analysis.analyze` as a Whoosh analyzer: terms and their positions.

    Whoosh pickles the schema with the index: the class keeps no state, so its name and
    module are all an index depends on. Highlights are Veille's own, so no character spans.
    """

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self).__name__)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        terms = analyze(value) if tokenize else [value]
        for pos, term in enumerate(terms, start_pos):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = pos
            if chars:
                token.startchar = token.endchar = start_char
            yield token


def build_schema() -> Schema:
    text = dict(analyzer=FrenchAnalyzer(), phrase=True)
    keywords = {name: KEYWORD(commas=True, scorable=True) for name in KEYWORD_FIELDS}
    return Schema(id=ID(stored=True, unique=True), title=TEXT(**text), summary=TEXT(**text),
                  content=TEXT(**text), spell=KEYWORD(scorable=True), **keywords,
                  date=DATETIME(sortable=True), first_seen=DATETIME(sortable=True))


def legacy_schema() -> Schema:
    """The fields of indexes written by Veille's former Whoosh engine, read as they are."""
    text = dict(analyzer=FrenchAnalyzer(), phrase=True)
    return Schema(
        id=ID(stored=True, unique=True), title=TEXT(stored=True, field_boost=3.0, **text),
        content=TEXT(**text), source=ID(stored=True), kind=ID(stored=True), doc_type=ID(stored=True),
        themes=KEYWORD(stored=True, commas=True, scorable=True),
        territories=KEYWORD(stored=True, commas=True, scorable=True),
        legal_refs=KEYWORD(commas=True, scorable=True), year=ID(), date=DATETIME(sortable=True),
        local_date=STORED(), first_seen=DATETIME(sortable=True), published=DATETIME(),
        location=ID(stored=True), url=STORED(), page_count=NUMERIC(stored=True),
        language=ID(stored=True), spell=KEYWORD(scorable=True))


class TantivyIdfBM25(scoring.BM25F):
    """Whoosh's BM25F with the idf tantivy uses, ln(1 + (N - n + 0.5) / (n + 0.5)), so that
    the two engines order documents alike."""

    def scorer(self, searcher, fieldname, text, qf=1):
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        if hasattr(scorer, "idf"):
            n = searcher.doc_frequency(fieldname, text)
            total = searcher.doc_count_all()
            scorer.idf = math.log(1 + (total - n + 0.5) / (n + 0.5))
        return scorer


class WhooshBackend:
    """A Whoosh index in `path`; see the module docstring and `indexer.search.backend`."""

    name = "whoosh"

    def __init__(self, path: Path, *, create: bool = False):
        self.path = Path(path)
        self._lock = threading.RLock()
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
            if any(self.path.iterdir()):
                raise VeilleError(f"{self.path} n'est pas vide : un nouvel index ne peut pas y être créé")
            self._ix = whoosh_index.create_in(str(self.path), build_schema())
            (self.path / VERSION_FILE).write_text(json.dumps({"schema": LAYOUT}) + "\n", encoding="utf-8")
            self.layout = LAYOUT
        else:
            self.layout = self._read_layout()
            schema = build_schema() if self.layout == LAYOUT else legacy_schema()
            try:
                self._ix = whoosh_index.open_dir(str(self.path), schema=schema)
            except Exception as exc:   # a damaged table of contents, missing files
                raise IndexOutdated(f"l'index de recherche {self.path} ne peut pas être lu ({exc})",
                                    hint=DAMAGED_HINT) from exc
            if self.layout == LEGACY_LAYOUT:
                self._check_legacy()
        self.writable = self.layout == LAYOUT
        if self.layout == LAYOUT:
            self.fields = frozenset({"id", *TEXT_FIELDS, SPELL_FIELD, *KEYWORD_FIELDS, "date", "first_seen"})
            self.text_fields = TEXT_FIELDS
        else:
            self.fields = frozenset({"id", *_LEGACY_TEXT, SPELL_FIELD, "date", "first_seen",
                                     *(f for f in KEYWORD_FIELDS if f not in NEW_FIELDS)})
            self.text_fields = _LEGACY_TEXT
        self._searcher = None

    def _read_layout(self) -> int:
        try:
            found = json.loads((self.path / VERSION_FILE).read_text(encoding="utf-8")).get("schema")
        except FileNotFoundError:
            # a table of contents (`_MAIN_<generation>.toc`), looked for rather than opened:
            # opening without a schema would unpickle the one stored in it
            if not any(self.path.glob("_MAIN_*.toc")):
                raise IndexOutdated(f"{self.path} ne contient pas d'index Whoosh",
                                    hint="lancez « veille index --rebuild »") from None
            return LEGACY_LAYOUT
        except (OSError, ValueError, AttributeError) as exc:
            raise VeilleError(f"l'index de recherche {self.path} est endommagé ({exc})",
                              hint="lancez « veille index --rebuild »") from exc
        if found != LAYOUT:
            raise IndexOutdated(f"l'index de recherche {self.path} n'est pas un index Whoosh que "
                                "cette version de Veille sait lire", hint="lancez « veille index --rebuild »")
        return found

    def _check_legacy(self) -> None:
        """An index without Veille's marker is read only if it has the former engine's
        fields; anything else (empty, foreign) is no index of ours."""
        with self._ix.reader() as reader:
            names = set(reader.indexed_field_names())
        if not {"title", "content"} <= names:
            raise IndexOutdated(f"{self.path} ne contient pas d'index de Veille",
                                hint="lancez « veille index --rebuild »")

    # ------------------------------------------------------------ writing

    def _fields(self, doc: IndexedDocument) -> dict:
        fields = {"id": doc.id, "title": doc.title, "summary": doc.summary, "content": doc.content,
                  SPELL_FIELD: " ".join(dict.fromkeys(folded_words(doc.spell_text))),
                  "date": doc.date, "first_seen": doc.first_seen}
        for name in KEYWORD_FIELDS:
            values = doc.keywords.get(name, ())
            if values:
                fields[name] = ",".join(values)
        return fields

    def _writer(self, **options):
        if not self.writable:
            raise IndexOutdated(f"l'index de recherche {self.path} date d'une version précédente",
                                hint="lancez « veille index --rebuild »")
        try:
            return self._ix.writer(timeout=WRITE_TIMEOUT, limitmb=WRITER_MB, **options)
        except LockError:
            raise IndexLocked(f"l'index de recherche {self.path} est en cours d'écriture par un autre processus",
                              hint="réessayez quand il aura fini") from None

    def _commit(self, writer, work, **commit_options) -> int:
        try:
            count = work(writer)
            writer.commit(**commit_options)
        except BaseException:
            try:
                writer.cancel()
            except Exception:  # the original error matters, not the cleanup's
                pass
            raise
        self._refresh()
        return count

    def add(self, documents: Iterable[IndexedDocument]) -> int:
        documents = iter(documents)
        with self._lock:
            empty = self._ix.doc_count_all() == 0
            first = []
            if empty:   # a rebuild: large ones are written by several processes
                for doc in documents:
                    first.append(doc)
                    if len(first) >= BULK_MIN:
                        break
            if empty and len(first) >= BULK_MIN and BULK_PROCS > 1:
                # the whole catalog, each document once (its primary key)
                writer = self._writer(procs=BULK_PROCS, multisegment=True)
                return self._commit(writer, lambda w: self._write_all(w, (*first, *documents), w.add_document))
            # A writer does not see its own uncommitted documents, so a document met twice in
            # one batch is kept once, in its last version.
            batch = {doc.id: doc for doc in (*first, *documents)}
            write = "add_document" if empty else "update_document"
            return self._commit(self._writer(), lambda w: self._write_all(w, batch.values(), getattr(w, write)))

    def _write_all(self, writer, documents, write) -> int:
        ids = set()
        for doc in documents:
            write(**self._fields(doc))
            ids.add(doc.id)
        return len(ids)

    def delete(self, ids: Iterable[str]) -> int:
        ids = [doc_id for doc_id in ids if self.doc_freq("id", doc_id)]
        if not ids:
            return 0
        with self._lock:
            return self._commit(self._writer(), lambda w: sum(w.delete_by_term("id", i) for i in ids))

    def optimize(self) -> None:
        with self._lock:
            self._commit(self._writer(), lambda w: 0, optimize=True)

    # ------------------------------------------------------------ query blocks

    def term(self, field: str, term: str):
        return wq.Term(field, term)

    def phrase(self, field: str, terms: Sequence[str], slop: int = 0):
        if len(terms) == 1:
            return wq.Term(field, terms[0])
        return wq.Phrase(field, list(terms), slop=slop + 1)

    def values(self, field: str, values: Sequence[str]):
        return wq.Or([wq.Term(field, value) for value in values]) if values else wq.NullQuery

    def all_of(self, queries):
        queries = list(queries)
        if not queries:
            return wq.Every()
        return queries[0] if len(queries) == 1 else wq.And(queries)

    def any_of(self, queries):
        queries = list(queries)
        if not queries:
            return wq.NullQuery
        return queries[0] if len(queries) == 1 else wq.Or(queries)

    def excluding(self, query, excluded):
        excluded = list(excluded)
        if not excluded:
            return query
        # Not inside And, not Whoosh's AndNot: its matcher let an excluded document through
        # (tests/test_backends.py, test_an_exclusion_takes_out_every_document_it_names)
        return wq.And([query, wq.Not(excluded[0] if len(excluded) == 1 else wq.Or(excluded))])

    def date_range(self, field: str, start: datetime | None, end: datetime | None):
        # Whoosh's range is inclusive: the end is exclusive everywhere else in Veille
        if end is not None:
            end = datetime.fromtimestamp(end.replace(tzinfo=timezone.utc).timestamp() - 1e-6,
                                         timezone.utc).replace(tzinfo=None)
        return wq.DateRange(field, start, end)

    def boost(self, query, factor: float):
        if factor == 1.0:
            return query
        boosted = query.copy()
        boosted.boost = getattr(query, "boost", 1.0) * factor
        return boosted

    def rank_with(self, required, optional):
        return wq.AndMaybe(required, optional)

    def everything(self):
        return wq.Every()

    def nothing(self):
        return wq.NullQuery

    # ------------------------------------------------------------ reading

    def _refresh(self) -> None:
        with self._lock:
            if self._searcher is not None and not self._searcher.up_to_date():
                self._searcher.close()
                self._searcher = None

    def _current(self):
        # A new searcher rather than Searcher.refresh(): refreshing reuses the old segment
        # readers and brings back segments a merge had replaced.
        with self._lock:
            self._refresh()
            if self._searcher is None:
                self._searcher = self._ix.searcher(weighting=TantivyIdfBM25())
            return self._searcher

    def top(self, query, limit: int, by_date: bool = False) -> list[tuple[str, float]]:
        if limit <= 0:
            return []
        with self._lock:
            searcher = self._current()
            if by_date:
                results = searcher.search(query, limit=limit, sortedby=sorting.FieldFacet("date", reverse=True),
                                          scored=False, terms=False)
                if results.is_empty():
                    return []
                dates = searcher.reader().column_reader("date", translate=True)
                return [(hit["id"], _timestamp(dates[hit.docnum])) for hit in results]
            # optimize=False: the block-quality shortcut misjudges constant-score parts and
            # leaves out documents that belong in the top
            results = searcher.search(query, limit=limit, terms=False, optimize=False)
            return [(hit["id"], float(hit.score)) for hit in results]

    def count(self, query) -> int:
        with self._lock:
            return len(self._current().search(query, limit=1, scored=False, terms=False))

    def facet_counts(self, query, fields: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        fields = [f for f in fields if f in self.fields]
        if not fields:
            return {}
        facets = {f: sorting.FieldFacet(f, allow_overlap=True, maptype=sorting.Count) for f in fields}
        with self._lock:
            results = self._current().search(query, limit=1, scored=False, terms=False, groupedby=facets)
            return {f: [(_text(value), count) for value, count in results.groups(f).items()
                        if value not in (None, "", b"")] for f in fields}

    def terms(self, field: str, prefix: str = "", limit: int | None = None) -> list[tuple[str, int]]:
        if field not in self.fields:
            return []
        with self._lock:
            reader = self._current().reader()
            if limit is not None:
                return [(_text(term), int(freq)) for freq, term in
                        reader.most_frequent_terms(field, number=limit, prefix=prefix)]
            return [(_text(term), info.doc_frequency()) for term, info in reader.iter_prefix(field, prefix)]

    def doc_freq(self, field: str, term: str) -> int:
        if field not in self.fields:
            return 0
        with self._lock:
            return self._current().doc_frequency(field, term)

    def doc_freqs(self, pairs: Sequence[tuple[str, str]]) -> list[int]:
        with self._lock:
            searcher = self._current()
            return [searcher.doc_frequency(field, term) if field in self.fields else 0 for field, term in pairs]

    def doc_count(self) -> int:
        with self._lock:
            return self._current().doc_count()

    def segment_count(self) -> int:
        with self._lock:
            return len(self._current().reader().leaf_readers())

    def missing_files(self) -> list[str]:
        with self._lock:
            segments = self._ix._segments()
        present = [p.name for p in self.path.iterdir()]
        return [f"{segment.segment_id()}.*" for segment in segments
                if not any(name.startswith(segment.segment_id() + ".") for name in present)]

    def generation(self) -> object:
        return self._ix.latest_generation()

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self._ix.close()


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _timestamp(value) -> float:
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc).timestamp() if value.tzinfo is None else value.timestamp()
    return float(value or 0)
