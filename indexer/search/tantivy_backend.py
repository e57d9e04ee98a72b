"""The tantivy engine (the default): Veille's fields on a Rust index, behind `Backend`.

Text fields are analysed in Rust by the chains of `indexer.search.analysis`, registered
under their names: the index holds exactly the terms `analyze` gives, and the stop words
and lone letters are dropped in Python first (`kept_text`), so positions count kept words.
Facets are terms aggregations on fast fields; the date sort reads a fast column.

Facets a document may have several values of, or none, are also indexed as one value per
document, its values joined (`<facet>_set`): a terms aggregation on such a single-valued,
always-filled column costs a tenth of one on the multi-valued or sparse column (100k
documents: `themes` 2.7 -> 0.2 ms); the joined values are split again in Python. Should the
combinations outnumber the buckets asked for, the facet is counted on its own column.
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import tantivy
from tantivy import Occur, Query

from indexer.search.analysis import FOLDED, STEMMED, analyzer_chain, kept_words
from indexer.search.fields import (KEYWORD_FIELDS, MAX_SPELL_CHARS, NEW_FIELDS, SPELL_FIELD, TEXT_FIELDS,
                                   IndexedDocument)
from indexer.search.request import DAMAGED_HINT, IndexOutdated
from veille.core.errors import VeilleError

LAYOUT = 3            # 3: analysis chains of indexer.search.analysis, visibility, no stored text
READABLE_LAYOUTS = (2, 3)
VERSION_FILE = "veille-tantivy.json"
WRITER_HEAP = 256_000_000     # split across the writer threads; bounds memory while indexing
FACET_BUCKETS = 10_000        # ask for every value; the space orders and cuts them
SET_FACETS = ("themes", "territories", "doc_type")
SET_SEPARATOR = "\x1f"        # the unit separator: not in a cleaned facet value
COMBINATION_BUCKETS = 10_000
FAST_FIELDS = ("kind", "source", "themes", "territories", "doc_type", "year", "visibility")
_LAYOUT_FIELDS = {
    2: frozenset({"id", *TEXT_FIELDS, SPELL_FIELD, "date", "first_seen",
                  *(f for f in KEYWORD_FIELDS if f not in NEW_FIELDS)}),
    3: frozenset({"id", *TEXT_FIELDS, SPELL_FIELD, "date", "first_seen", *KEYWORD_FIELDS}),
}


def _in_schema(schema: tantivy.Schema, name: str) -> bool:
    try:
        tantivy.Query.term_query(schema, name, "")
    except ValueError:      # "Field `name` is not defined in the schema"
        return False
    return True


class TantivyIndexError(VeilleError):
    code = "index"


def build_schema(keyword_fields: Iterable[str] = KEYWORD_FIELDS) -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name=STEMMED)
    sb.add_text_field(SPELL_FIELD, tokenizer_name=FOLDED, index_option="basic")
    for name in keyword_fields:
        sb.add_text_field(name, fast=name in FAST_FIELDS, tokenizer_name="raw", index_option="basic")
    for name in SET_FACETS:
        sb.add_text_field(_set_field(name), fast=True, tokenizer_name="raw", index_option="basic")
    for name in ("date", "first_seen"):
        sb.add_date_field(name, indexed=True, fast=True)
    return sb.build()


class TantivyBackend:
    """A tantivy index in `path`; see the module docstring and `indexer.search.backend`."""

    name = "tantivy"

    def __init__(self, path: Path, *, create: bool = False, writer_threads: int = 0,
                 combination_buckets: int = COMBINATION_BUCKETS):
        self.path = Path(path)
        self.writer_threads = writer_threads
        self.combination_buckets = combination_buckets
        self.layout = self._read_layout(create)
        self.writable = self.layout == LAYOUT
        self.fields = _LAYOUT_FIELDS[self.layout]
        self.text_fields = TEXT_FIELDS
        try:
            if create:
                self.schema = build_schema()
                self.index = tantivy.Index(self.schema, path=str(self.path), reuse=False)
            else:
                self.index = tantivy.Index.open(str(self.path))
                self.schema = self.index.schema
        except (OSError, ValueError) as exc:
            raise TantivyIndexError(f"l'index de recherche {self.path} ne peut pas être ouvert : {exc}",
                                    hint=DAMAGED_HINT) from exc
        if self.layout == LAYOUT:
            # a field added to the layout after this index was built is left out of it (its
            # queries and writes) until a rebuild: the index keeps answering and taking documents
            self.fields = frozenset(name for name in self.fields if _in_schema(self.schema, name))
        self.index.register_tokenizer(STEMMED, analyzer_chain(stem=True))
        self.index.register_tokenizer(FOLDED, analyzer_chain(stem=False))
        self._write_lock = threading.Lock()
        self._current: tuple[tuple[int, int, int] | None, tantivy.Searcher] | None = None

    def _read_layout(self, create: bool) -> int:
        marker = self.path / VERSION_FILE
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
            if any(self.path.iterdir()):
                raise TantivyIndexError(f"{self.path} n'est pas vide : un nouvel index ne peut pas y être créé")
            marker.write_text(json.dumps({"schema": LAYOUT}) + "\n", encoding="utf-8")
            return LAYOUT
        try:
            found = json.loads(marker.read_text(encoding="utf-8")).get("schema")
        except FileNotFoundError:
            found = None
        except (OSError, ValueError, AttributeError) as exc:
            raise TantivyIndexError(f"l'index de recherche {self.path} est endommagé ({exc})",
                                    hint=DAMAGED_HINT) from exc
        if found not in READABLE_LAYOUTS:
            raise IndexOutdated(f"l'index de recherche {self.path} n'est pas un index tantivy que "
                                "cette version de Veille sait lire", hint="lancez « veille index --rebuild »")
        return found

    # ------------------------------------------------------------ writing

    def _document(self, doc: IndexedDocument) -> tantivy.Document:
        out = tantivy.Document()
        out.add_text("id", doc.id)
        # Each text's words are split and sifted once: the spell field takes the distinct
        # words of the same lists (it keeps no positions nor frequencies).
        spell: dict[str, None] = {}
        for name in TEXT_FIELDS:
            text = getattr(doc, name)
            words = kept_words(text)
            out.add_text(name, " ".join(words))
            if len(text) > MAX_SPELL_CHARS:
                words = kept_words(text[:MAX_SPELL_CHARS])
            spell.update(dict.fromkeys(words))
        out.add_text(SPELL_FIELD, " ".join(spell))
        for name in KEYWORD_FIELDS:
            if name not in self.fields:
                continue
            for value in doc.keywords.get(name, ()):
                out.add_text(name, value)
        for name in SET_FACETS:
            out.add_text(_set_field(name), SET_SEPARATOR.join(sorted(doc.keywords.get(name, ()))))
        out.add_date("date", doc.date)
        out.add_date("first_seen", doc.first_seen)
        return out

    def _write(self, work) -> int:
        """Run `work(writer)` and commit it whole, or roll it back and re-raise."""
        if not self.writable:
            raise IndexOutdated(f"l'index de recherche {self.path} date d'une version précédente",
                                hint="lancez « veille index --rebuild »")
        with self._write_lock:
            writer = self.index.writer(WRITER_HEAP, self.writer_threads)
            try:
                count = work(writer)
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()   # also releases the index's write lock
        return count   # the commit replaced meta.json: the next read reloads

    def add(self, documents: Iterable[IndexedDocument]) -> int:
        def work(writer) -> int:
            # Into an empty index (a rebuild) there is nothing to replace but a document met
            # twice in this batch: no delete term per document for the commit to apply.
            empty = self._searcher().num_docs == 0
            seen: set[str] = set()
            for doc in documents:
                if not empty or doc.id in seen:
                    writer.delete_documents_by_term("id", doc.id)
                seen.add(doc.id)
                writer.add_document(self._document(doc))
            return len(seen)

        return self._write(work)

    def delete(self, ids: Iterable[str]) -> int:
        searcher = self._searcher()
        present = [doc_id for doc_id in ids if searcher.doc_freq("id", doc_id)]
        if not present:
            return 0

        def work(writer) -> int:
            for doc_id in present:
                writer.delete_documents_by_term("id", doc_id)
            return len(present)

        return self._write(work)

    def optimize(self) -> None:
        # tantivy merges segments in the background after commits (log merge policy); an
        # explicit optimise waits for those merges and collects the files they replaced.
        self._write(lambda writer: 0)
        with self._write_lock:
            writer = self.index.writer(WRITER_HEAP, self.writer_threads)
            try:
                writer.garbage_collect_files()
            finally:
                writer.wait_merging_threads()

    # ------------------------------------------------------------ query blocks

    def term(self, field: str, term: str) -> Query:
        return Query.term_query(self.schema, field, term)

    def phrase(self, field: str, terms: Sequence[str], slop: int = 0) -> Query:
        if len(terms) == 1:
            return self.term(field, terms[0])
        return Query.phrase_query(self.schema, field, list(terms), slop)

    def values(self, field: str, values: Sequence[str]) -> Query:
        return Query.term_set_query(self.schema, field, list(values))

    def all_of(self, queries: Sequence[Query]) -> Query:
        if not queries:
            return Query.all_query()
        if len(queries) == 1:
            return queries[0]
        return Query.boolean_query([(Occur.Must, q) for q in queries])

    def any_of(self, queries: Sequence[Query]) -> Query:
        if not queries:
            return Query.empty_query()
        if len(queries) == 1:
            return queries[0]
        return Query.boolean_query([(Occur.Should, q) for q in queries])

    def excluding(self, query: Query, excluded: Sequence[Query]) -> Query:
        if not excluded:
            return query
        return Query.boolean_query([(Occur.Must, query)] + [(Occur.MustNot, q) for q in excluded])

    def date_range(self, field: str, start: datetime | None, end: datetime | None) -> Query:
        return Query.range_query(self.schema, field, tantivy.FieldType.Date, start, end,
                                 include_upper=end is None)

    def boost(self, query: Query, factor: float) -> Query:
        return query if factor == 1.0 else Query.boost_query(query, factor)

    def rank_with(self, required: Query, optional: Query) -> Query:
        return Query.boolean_query([(Occur.Must, required), (Occur.Should, optional)])

    def everything(self) -> Query:
        return Query.all_query()

    def nothing(self) -> Query:
        return Query.empty_query()

    # ------------------------------------------------------------ reading

    def _searcher(self):
        """The index as last committed, by any process. Reloading costs 0.1-0.2 ms (more
        with more segments) and a search page reads the index several times; every commit
        and merge replaces `meta.json`, so the searcher is kept until that file changes.
        The file is looked at before reloading: a commit in between is seen next time."""
        stamp = self._meta_stamp()
        current = self._current
        if current is None or current[0] != stamp or stamp is None:
            self.index.reload()
            current = self._current = (stamp, self.index.searcher())
        return current[1]

    def _meta_stamp(self) -> tuple[int, int, int] | None:
        try:
            found = os.stat(self.path / "meta.json")
        except OSError:
            return None
        return (found.st_ino, found.st_mtime_ns, found.st_size)

    def top(self, query: Query, limit: int, by_date: bool = False) -> list[tuple[str, float]]:
        if limit <= 0:
            return []
        searcher = self._searcher()
        if by_date:
            found = searcher.search(query, limit, count=False, order_by_field="date",
                                    order=tantivy.Order.Desc)
        else:
            found = searcher.search(query, limit, count=False)
        return [(searcher.doc(address)["id"][0], float(key)) for key, address in found.hits]

    def count(self, query: Query) -> int:
        return self._searcher().search(query, 1, count=True).count

    def facet_counts(self, query: Query, fields: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        searcher = self._searcher()
        fields = [f for f in fields if f in self.fields]
        if not fields:
            return {}
        spec = {f: {"terms": {"field": _set_field(f), "size": self.combination_buckets}}
                if f in SET_FACETS else {"terms": {"field": f, "size": FACET_BUCKETS}} for f in fields}
        found = searcher.aggregate(query, spec)
        counts: dict[str, list[tuple[str, int]]] = {}
        for f in fields:
            result = found.get(f, {})
            buckets = result.get("buckets", [])
            if f not in SET_FACETS:
                counts[f] = _value_counts(buckets)
            elif len(buckets) < self.combination_buckets and not result.get("sum_other_doc_count") \
                    and not result.get("doc_count_error_upper_bound"):
                counts[f] = _split_sets(buckets)
            else:   # more combinations than buckets: count the values themselves
                alone = searcher.aggregate(query, {f: {"terms": {"field": f, "size": FACET_BUCKETS}}})
                counts[f] = _value_counts(alone.get(f, {}).get("buckets", []))
        return counts

    def terms(self, field: str, prefix: str = "", limit: int | None = None) -> list[tuple[str, int]]:
        if field not in self.fields:
            return []
        found = self._searcher().terms_with_prefix(field, prefix, limit=limit)
        return [(str(term), int(count)) for term, count in found]

    def doc_freq(self, field: str, term: str) -> int:
        if field not in self.fields:
            return 0
        return self._searcher().doc_freq(field, term)

    def doc_freqs(self, pairs: Sequence[tuple[str, str]]) -> list[int]:
        searcher = self._searcher()   # one reload for them all (0.2 ms each at a million documents)
        return [searcher.doc_freq(field, term) if field in self.fields else 0 for field, term in pairs]

    def doc_count(self) -> int:
        return self._searcher().num_docs

    def segment_count(self) -> int:
        return self._searcher().num_segments

    def missing_files(self) -> list[str]:
        import json

        try:
            meta = json.loads((self.path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return ["meta.json"]
        present = {p.name for p in self.path.iterdir()}
        missing = []
        for segment in meta.get("segments", ()):
            stem = str(segment.get("segment_id", "")).replace("-", "")
            wanted = [f"{stem}{ext}" for ext in (".store", ".term", ".idx", ".fast", ".fieldnorm")]
            deletes = segment.get("deletes")
            if deletes:
                wanted.append(f"{stem}.{deletes.get('opstamp')}.del")
            missing += [name for name in wanted if name not in present]
        return missing

    def generation(self) -> object:
        searcher = self._searcher()
        try:
            stamp = (self.path / "meta.json").stat().st_mtime_ns
        except FileNotFoundError:
            stamp = 0
        return (searcher.num_docs, searcher.num_segments, stamp)

    def close(self) -> None:
        return None


def _set_field(facet: str) -> str:
    return facet + "_set"


def _value_counts(buckets: list[dict]) -> list[tuple[str, int]]:
    return [(str(b["key"]), int(b["doc_count"])) for b in buckets if b["doc_count"]]


def _split_sets(buckets: list[dict]) -> list[tuple[str, int]]:
    """(value, count) from the buckets of joined values: each document counts once a value."""
    counts: defaultdict[str, int] = defaultdict(int)
    for bucket in buckets:
        count = bucket["doc_count"]
        if count:
            for value in _set_values(bucket["key"]):
                counts[value] += count
    return list(counts.items())


@lru_cache(maxsize=65_536)
def _set_values(key: str) -> tuple[str, ...]:
    return tuple(value for value in str(key).split(SET_SEPARATOR) if value)

