"""The tantivy engine: Veille's documents, analysis and query language on a Rust index.

Selected with `search: {engine: tantivy}` in sources.yaml (then `veille index --rebuild`),
for collections of 100,000 documents and more. It answers what the Whoosh engine answers,
from the same shared pieces: `indexer.search.fields` (what a document indexes), the parsed query
of `indexer.search.query`, the snippets of `indexer.search.highlight` (from catalog text, for the shown
hits only) and the stop words of `indexer.search.analysis`; tests/test_search.py runs on both.

The French analysis runs in Rust, as a registered tantivy analyzer: words (runs of letters
and digits), lower case, accents folded *before* stemming (ascii_fold also spells out œ
and æ), then the Snowball French stemmer. Stop words and lone letters are dropped in
Python first (`kept_words`, one C-speed regex pass), so positions count kept words only,
as in `indexer.search.analysis`: the phrase `"contrat ville"` matches `contrat de ville`. The terms
equal `indexer.search.analysis.analyze`'s for all but a handful of words (the Rust Snowball is a
newer revision: `française` -> `franc` against `francais`, `époux` -> `epou`; about 2 words
in 10,000 of the French legal codes); queries go through the same Rust analyzer, so index
and queries always agree.

Facets are terms aggregations on fast fields; sorting by date reads a fast column; a
small LRU of result pages is emptied when the index changes (a commit rewrites meta.json).
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from datetime import datetime, timezone, tzinfo
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import tantivy
from tantivy import Occur, Query

from indexer.search.analysis import STOP_WORDS, WRITTEN_STOP_WORDS, fold, fold_words
from indexer.search.engine import Hit, IndexOutdated, SearchRequest, SearchResults, TextOf
from indexer.search.fields import (FACET_FIELDS, FIELD_BOOSTS, MAX_SPELL_CHARS, MAX_WILDCARD_WORDS,
                            MLT_TERMS, MLT_TEXT_CHARS, QUERY_FIELD_TARGETS, TEXT_FIELDS,
                            IndexedDocument, indexed_document, local_day_bounds,
                            matching_values, ordered_facet, PageCache)
from indexer.search.highlight import highlighter_for, snippet, wildcard_prefixes
from indexer.search.query import Not, Or, ParsedQuery, Phrase, Word, parse_query, suggestion_words
from veille.core.records import FACETS, Document
from veille.core.errors import VeilleError

SCHEMA_VERSION = 2   # 2: the `<facet>_set` columns
VERSION_FILE = "veille-tantivy.json"
FRENCH = "veille_fr"
FOLDED = "veille_fold"
KEYWORD_FIELDS = ("source", "kind", "doc_type", "themes", "territories", "legal_refs", "year")
_PY_WORD = re.compile(r"[^\W_]+")
# Stop words as they are written (accented, lower case) and folded: dropped in Python before
# the Rust analyzer sees the text, so positions count only kept words, as in
# indexer.search.analysis (`"contrat ville"` is the phrase of `contrat de ville`).
_STOP_WRITTEN = WRITTEN_STOP_WORDS | STOP_WORDS
WRITER_HEAP = 256_000_000     # split across the writer threads; bounds memory while indexing
FACET_BUCKETS = 10_000        # ask for every value, then order and cut as every engine does
# Facets a document may have several values of, or none: also indexed as one value per
# document, its values joined (`<facet>_set`). A terms aggregation on such a single-valued,
# always-filled column costs a tenth of one on the multi-valued or sparse column (100k
# documents: `themes` 2.7 -> 0.2 ms); the joined values are split again in Python. Should
# the combinations outnumber the buckets asked for, the facet is counted on its own column.
SET_FACETS = ("themes", "territories", "doc_type")
SET_SEPARATOR = "\x1f"        # the unit separator: not in a cleaned facet value
COMBINATION_BUCKETS = 10_000

_SKIP = object()   # a part of the query with nothing to search (stop words only)


class TantivyIndexError(VeilleError):
    code = "index"


def _stop_words() -> list[str]:
    lone_letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    return sorted(set(STOP_WORDS) | set(lone_letters))


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    # the simple tokenizer's words are runs of letters and digits: Python's `\w` without
    # `_`, as indexer.search.analysis splits them (and 4x faster than an equivalent regex)
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    steps = [tantivy.Filter.lowercase(), tantivy.Filter.ascii_fold(),
             tantivy.Filter.custom_stopword(_stop_words())]
    if stem:
        steps.append(tantivy.Filter.stemmer("french"))
    for step in steps:
        builder = builder.filter(step)
    return builder.build()


def french_analyzer() -> tantivy.TextAnalyzer:
    """Words, lower case, accents folded, stop words and lone letters out, then stems."""
    return _analyzer(stem=True)


def folded_analyzer() -> tantivy.TextAnalyzer:
    """The same without stemming: the words "did you mean" and wildcards pick from."""
    return _analyzer(stem=False)


_FRENCH = french_analyzer()


def kept_words(text: str) -> str:
    """`text` without its stop words and lone letters, words separated by spaces."""
    return " ".join(_kept(text))


def _kept(text: str) -> list[str]:
    return [word for word in _PY_WORD.findall(text.lower())
            if word not in _STOP_WRITTEN and (len(word) > 1 or word.isdigit())]


@lru_cache(maxsize=50_000)
def analyze(text: str) -> tuple[str, ...]:
    """Index terms of `text` from the Rust analyzer the index uses (query side)."""
    return tuple(_FRENCH.analyze(kept_words(text)))


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("title", tokenizer_name=FRENCH)
    sb.add_bytes_field("shown_title", stored=True)   # the title as written (the index has its words)
    sb.add_text_field("summary", tokenizer_name=FRENCH)
    sb.add_text_field("content", tokenizer_name=FRENCH)
    sb.add_text_field("spell", tokenizer_name=FOLDED, index_option="basic")
    for name in KEYWORD_FIELDS:
        sb.add_text_field(name, stored=name in ("source", "kind", "doc_type", "themes"),
                          fast=name in FACET_FIELDS.values(), tokenizer_name="raw", index_option="basic")
    for name in SET_FACETS:
        sb.add_text_field(_set_field(name), fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_date_field("date", indexed=True, fast=True)
    sb.add_date_field("first_seen", indexed=True, fast=True)
    sb.add_text_field("local_date", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("url", stored=True, tokenizer_name="raw", index_option="basic")
    return sb.build()


class TantivyEngine:
    """A tantivy index in `path` (created when absent); see the module docstring."""

    name = "tantivy"

    def __init__(self, path: Path, *, tz: tzinfo = timezone.utc, writer_threads: int = 0,
                 combination_buckets: int = COMBINATION_BUCKETS):
        self.path = Path(path)
        self.combination_buckets = combination_buckets
        self.tz = tz
        self.writer_threads = writer_threads
        self.path.mkdir(parents=True, exist_ok=True)
        self._check_version()
        self.schema = build_schema()
        try:
            self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except (OSError, ValueError) as exc:
            raise TantivyIndexError(f"cannot open the search index in {self.path}: {exc}",
                                    hint="run `veille index --rebuild`") from exc
        self.index.register_tokenizer(FRENCH, french_analyzer())
        self.index.register_tokenizer(FOLDED, folded_analyzer())
        self._write_lock = threading.Lock()
        self._lock = threading.Lock()
        self._cache = PageCache()
        self._cache_generation = None
        self._lexicons: dict[str, list[str]] = {}

    def _check_version(self) -> None:
        marker = self.path / VERSION_FILE
        if marker.exists():
            found = json.loads(marker.read_text(encoding="utf-8")).get("schema")
            if found != SCHEMA_VERSION:
                raise IndexOutdated(
                    f"the search index in {self.path} has layout {found}, this Veille reads "
                    f"layout {SCHEMA_VERSION}", hint="run `veille index --rebuild`")
        elif any(self.path.iterdir()):
            raise TantivyIndexError(f"{self.path} holds files that are not a Veille tantivy index",
                                    hint="run `veille index --rebuild`")
        else:
            marker.write_text(json.dumps({"schema": SCHEMA_VERSION}) + "\n", encoding="utf-8")

    # ------------------------------------------------------------ writing

    def _document(self, doc: IndexedDocument) -> tantivy.Document:
        out = tantivy.Document()
        out.add_text("id", doc.id)
        words = _kept(doc.title), _kept(doc.summary), _kept(doc.content)
        title, summary, content = (" ".join(w) for w in words)
        out.add_text("title", title)
        out.add_bytes("shown_title", doc.title.encode("utf-8"))
        out.add_text("summary", summary)
        out.add_text("content", content)
        # "did you mean" needs which words a document has, not how often (the field keeps no
        # frequencies): each distinct word once spares the analyzer half the text
        spell = {*words[0], *words[1]}
        spell.update(words[2] if len(content) <= MAX_SPELL_CHARS else content[:MAX_SPELL_CHARS].split(" "))
        out.add_text("spell", " ".join(spell))
        for name in KEYWORD_FIELDS:
            value = getattr(doc, name)
            for item in (value if isinstance(value, tuple) else (value,)):
                if item:
                    out.add_text(name, item)
        for name in SET_FACETS:
            out.add_text(_set_field(name), _joined(getattr(doc, name)))
        out.add_date("date", doc.date)
        out.add_date("first_seen", doc.first_seen)
        out.add_text("local_date", doc.local_date)
        if doc.url:
            out.add_text("url", doc.url)
        return out

    def _write(self, work) -> int:
        """Run `work(writer)` and commit it whole, or roll it back and re-raise."""
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
        self.index.reload()
        return count

    def add(self, documents: Iterable[Document]) -> int:
        """Add or replace documents, all in one commit (or none of them)."""
        def work(writer) -> int:
            # Into an empty index (a rebuild) there is nothing to replace but a document met
            # twice in this batch: no delete term per document for the commit to apply.
            self.index.reload()   # another process may have committed since this one looked
            empty = self.index.searcher().num_docs == 0
            seen: set[str] = set()
            count = 0
            for doc in documents:
                if not empty or doc.id in seen:
                    writer.delete_documents_by_term("id", doc.id)
                else:
                    seen.add(doc.id)
                writer.add_document(self._document(indexed_document(doc, self.tz, spell=False)))
                count += 1
            return count

        return self._write(work)

    def delete(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        searcher = self.index.searcher()
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
        def work(writer) -> int:
            return 0

        self._write(work)
        with self._write_lock:
            writer = self.index.writer(WRITER_HEAP, self.writer_threads)
            try:
                writer.garbage_collect_files()
            finally:
                writer.wait_merging_threads()

    def doc_count(self) -> int:
        return self.index.searcher().num_docs

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            self._lexicons.clear()

    # ------------------------------------------------------------ searching

    def _searcher(self):
        """The current searcher; the page cache and lexicons are dropped when it changed."""
        self.index.reload()
        searcher = self.index.searcher()
        generation = (searcher.num_docs, searcher.num_segments, _opstamp(self.path))
        if generation != self._cache_generation:
            self._cache.clear()
            self._lexicons.clear()
            self._cache_generation = generation
        return searcher

    def search(self, request: SearchRequest, text_of: TextOf) -> SearchResults:
        with self._lock:
            searcher = self._searcher()
            return self._cache.get_or_compute(request, lambda: self._search(searcher, request, text_of))

    def _search(self, searcher, request: SearchRequest, text_of: TextOf) -> SearchResults:
        parsed = parse_query(request.q, request.legal_aliases)
        text_query = None if parsed.root is None else self._compile(searcher, parsed.root)
        base: list[Query] = []
        if text_query is _SKIP:
            base.append(Query.empty_query())
        elif text_query is not None:
            base.append(_positive(text_query))
        base.extend(self._date_filters(request))
        selections = self._selections(request)
        final = _and(base + list(selections.values()))
        page, per_page = max(1, request.page), max(1, request.per_page)
        offset = (page - 1) * per_page
        # The facets' unfiltered scope counts every match once (a joined-values column holds
        # one value per document): the total comes from it, and the search itself need not
        # count, which lets tantivy skip documents that cannot reach the top (block-max WAND).
        count = not (request.facets and any(name not in selections for name in SET_FACETS))
        if request.sort == "date" or text_query is None or text_query is _SKIP:
            found = searcher.search(final, per_page, count=count, order_by_field="date",
                                    offset=offset, order=tantivy.Order.Desc)
            ranked = [(0.0, address) for _, address in found.hits]
        else:
            found = searcher.search(final, per_page, count=count, offset=offset)
            ranked = found.hits
        expand = lambda pattern: self._expand_wildcard(searcher, pattern)  # noqa: E731
        highlighter = highlighter_for(parsed, expand)
        hits = []
        for score, address in ranked:
            stored = searcher.doc(address).to_dict()
            doc_id = stored["id"][0]
            text, page_no = "", None
            if request.highlight:
                text, page_no = snippet(text_of(doc_id) or "", highlighter)
            hits.append(Hit(
                id=doc_id, title=_shown_title(stored), url=_first(stored, "url") or None,
                source=_first(stored, "source"), kind=_first(stored, "kind"),
                published=_first(stored, "local_date") or None, score=round(float(score), 4),
                snippet=text, page=page_no, themes=tuple(stored.get("themes", ())),
                doc_type=_first(stored, "doc_type")))
        facets, total = {}, found.count
        if request.facets:
            facets, matched = self._facets(searcher, base, selections)
            total = found.count if count else matched
        suggestion = self._suggest(searcher, parsed) if parsed.root is not None else ""
        return SearchResults(total=total, page=page, per_page=per_page, hits=tuple(hits),
                             facets=facets, notice=parsed.notice, suggestion=suggestion)

    # ------------------------------------------------------------ filters and facets

    def _date_filters(self, request: SearchRequest) -> list[Query]:
        out = []
        if request.date_from or request.date_to:
            low = local_day_bounds(request.date_from, self.tz)[0] if request.date_from else None
            high = local_day_bounds(request.date_to, self.tz)[1] if request.date_to else None
            out.append(Query.range_query(self.schema, "date", tantivy.FieldType.Date, low, high,
                                         include_upper=high is None))
        if request.first_seen_after:
            low = local_day_bounds(request.first_seen_after, self.tz)[0]
            out.append(Query.range_query(self.schema, "first_seen", tantivy.FieldType.Date, low, None))
        return out

    def _selections(self, request: SearchRequest) -> dict[str, Query]:
        out = {}
        for name, values in request.filters.items():
            field = FACET_FIELDS.get(name)
            if field is None or not values:
                continue
            out[name] = Query.term_set_query(self.schema, field, list(values))
        return out

    def _facets(self, searcher, base: list[Query], selections: dict[str, Query]) -> tuple[dict, int | None]:
        """The facets' counts, and how many documents match the whole query (None when no
        joined-values facet was counted with it)."""
        # A facet's own selection does not narrow its counts: values are OR-ed within it.
        scopes: dict[str, list[str]] = {"": [n for n in FACETS if n not in selections]}
        for name in FACETS:
            if name in selections:
                scopes[name] = [name]
        counts: dict[str, list[tuple[str, int]]] = {}
        matched = None
        for left_out, names in scopes.items():
            if not names:
                continue
            query = _and(base + [q for other, q in selections.items() if other != left_out])
            spec = {n: {"terms": {"field": _set_field(n), "size": self.combination_buckets}}
                    if n in SET_FACETS else
                    {"terms": {"field": FACET_FIELDS[n], "size": FACET_BUCKETS}} for n in names}
            found = searcher.aggregate(query, spec)
            for n in names:
                result = found.get(n, {})
                buckets = result.get("buckets", [])
                if n not in SET_FACETS:
                    counts[n] = _value_counts(buckets)
                elif len(buckets) < self.combination_buckets and not result.get("sum_other_doc_count") \
                        and not result.get("doc_count_error_upper_bound"):
                    counts[n] = _split_sets(buckets)
                    if not left_out:   # each matching document is in one bucket
                        matched = sum(bucket["doc_count"] for bucket in buckets)
                else:   # more combinations than buckets: count the values themselves
                    alone = searcher.aggregate(query, {n: {"terms": {"field": FACET_FIELDS[n],
                                                                     "size": FACET_BUCKETS}}})
                    counts[n] = _value_counts(alone.get(n, {}).get("buckets", []))
        if matched is None and any(name not in selections for name in SET_FACETS):
            matched = searcher.search(_and(base + list(selections.values())), 1, count=True).count
        return {name: ordered_facet(name, counts.get(name, [])) for name in FACETS}, matched

    # ------------------------------------------------------------ compiling queries

    def _compile(self, searcher, node):
        """A tantivy query for the tree; _SKIP for "nothing to search"; ("not", q) for a NOT."""
        if isinstance(node, (Word, Phrase)):
            return self._compile_leaf(searcher, node)
        if isinstance(node, Not):
            inner = self._compile(searcher, node.node)
            return _SKIP if inner is _SKIP else ("not", _positive(inner))
        parts = [self._compile(searcher, item) for item in node.items]
        parts = [p for p in parts if p is not _SKIP]
        if not parts:
            return _SKIP
        if isinstance(node, Or):
            return _or([_positive(p) for p in parts])
        positives = [p for p in parts if not isinstance(p, tuple)]
        negatives = [p[1] for p in parts if isinstance(p, tuple)]
        if not negatives:
            return _and(positives)
        keep = positives or [Query.all_query()]
        return Query.boolean_query([(Occur.Must, q) for q in keep]
                                   + [(Occur.MustNot, q) for q in negatives])

    def _compile_leaf(self, searcher, node):
        target = QUERY_FIELD_TARGETS.get(node.field) if node.field else None
        if target is None or target == "title":
            fields = ("title",) if target == "title" else TEXT_FIELDS
            if isinstance(node, Word) and node.wildcard:
                terms = self._expand_wildcard(searcher, node.text)
                if not terms:
                    return Query.empty_query()
                return _or([_boosted(Query.term_set_query(self.schema, f, terms), f) for f in fields])
            words = self._phrase_words(node.text)
            if not words:
                return _SKIP
            if len(words) == 1:
                subs = [Query.term_query(self.schema, f, words[0][1]) for f in fields]
            else:
                base = words[0][0]
                subs = [Query.phrase_query(self.schema, f, [(p - base, t) for p, t in words])
                        for f in fields]
            return _or([_boosted(q, f) for q, f in zip(subs, fields)])
        lexicon = self._lexicon(searcher, target)
        if isinstance(node, Word) and node.wildcard:
            pattern = fold(node.text)
            values = [v for v in lexicon if fnmatchcase(fold(v), pattern)]
        else:
            values = matching_values(lexicon, node.text)
        if not values:
            return Query.empty_query()
        return Query.term_set_query(self.schema, target, values)

    @staticmethod
    def _phrase_words(text: str) -> list[tuple[int, str]]:
        """(position, term) of the words of `text`; positions count kept words only."""
        return list(enumerate(analyze(text)))

    def _lexicon(self, searcher, field: str) -> list[str]:
        values = self._lexicons.get(field)
        if values is None:
            values = [term for term, _ in searcher.terms_with_prefix(field, "")]
            self._lexicons[field] = values
        return values

    def _expand_wildcard(self, searcher, pattern: str) -> list[str]:
        """Index terms (stems) a wildcard stands for, from the index's folded words."""
        folded = fold(pattern)
        prefixes = wildcard_prefixes(pattern)
        if not prefixes:
            return []
        words = []
        for word, _ in sorted(searcher.terms_with_prefix("spell", prefixes[0])):
            if fnmatchcase(word, folded):
                words.append(word)
                if len(words) >= MAX_WILDCARD_WORDS:
                    break
        return sorted({term for word in words for term in analyze(word)})

    # ------------------------------------------------------------ did you mean, similar

    def _suggest(self, searcher, parsed: ParsedQuery) -> str:
        replacements = {}
        for word in suggestion_words(parsed):
            terms = analyze(word)
            if not terms or all(any(searcher.doc_freq(f, t) for f in TEXT_FIELDS) for t in terms):
                continue
            folded = fold_words(word)
            if len(folded) != 1:
                continue
            best = _closest_word(searcher, folded[0])
            if best:
                replacements[word] = best
        return parsed.replace_words(replacements).text() if replacements else ""

    def more_like_this(self, doc_id: str, limit: int = 5, text_of: TextOf | None = None) -> list[str]:
        searcher = self._searcher()
        found = searcher.search(Query.term_query(self.schema, "id", doc_id), 1).hits
        if not found:
            return []
        stored = searcher.doc(found[0][1]).to_dict()
        text = ((text_of(doc_id) if text_of else "") or "")[:MLT_TEXT_CHARS]
        fields = {"title": _shown_title(stored)}
        if text:
            fields["content"] = text
        similar = Query.more_like_this_document_fields_query(
            self.schema, fields, min_doc_frequency=1, min_term_frequency=1,
            max_query_terms=MLT_TERMS, min_word_length=2)
        query = Query.boolean_query([(Occur.Should, similar),
                                     (Occur.MustNot, Query.term_query(self.schema, "id", doc_id))])
        hits = searcher.search(query, limit).hits
        return [searcher.doc(address).to_dict()["id"][0] for _, address in hits]


# ---------------------------------------------------------------- helpers


def _set_field(facet: str) -> str:
    return facet + "_set"


def _joined(value: str | tuple[str, ...]) -> str:
    """A document's values of a facet as one term, the same for any order; "" for none."""
    values = value if isinstance(value, tuple) else (value,) if value else ()
    return SET_SEPARATOR.join(sorted(values))


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


def _boosted(query: Query, field: str) -> Query:
    boost = FIELD_BOOSTS.get(field, 1.0)
    return Query.boost_query(query, boost) if boost != 1.0 else query


def _and(queries: list[Query]) -> Query:
    if not queries:
        return Query.all_query()
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Must, q) for q in queries])


def _or(queries: list[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Should, q) for q in queries])


def _positive(part):
    if isinstance(part, tuple):   # a lone NOT: everything but it
        return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, part[1])])
    return part


def _first(stored: dict, name: str) -> str:
    values = stored.get(name) or [""]
    value = values[0]
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _shown_title(stored: dict) -> str:
    values = stored.get("shown_title") or [b""]
    return bytes(values[0]).decode("utf-8")


def _opstamp(path: Path) -> float:
    """When the index last changed (a commit rewrites meta.json): invalidates cached pages."""
    try:
        return (path / "meta.json").stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _closest_word(searcher, word: str) -> str | None:
    maxdist = 1 if len(word) <= 4 else 2
    candidates = []
    for candidate, frequency in searcher.terms_with_prefix("spell", word[:1]):
        if candidate == word or len(candidate) < 3 or not candidate.isalpha():
            continue
        if abs(len(candidate) - len(word)) > maxdist:
            continue
        distance = _damerau_levenshtein(word, candidate, maxdist)
        if distance <= maxdist:
            candidates.append((distance, -frequency, candidate))
    return min(candidates)[2] if candidates else None


def _damerau_levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance with adjacent transpositions; gives up past `limit`."""
    before, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]
