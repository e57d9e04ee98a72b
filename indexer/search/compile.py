"""The one query compiler: a parsed query (indexer.search.query) to a backend's query blocks.

Written once for every engine: what a word, a phrase, a wildcard, a `field:value`, an OR or
an exclusion means is decided here, and each engine only builds the blocks it is asked for
(`indexer.search.backend`). The index's vocabulary is read through the backend (wildcards
expand to the words the index has; `theme:habitat` to the facet values it has), with
bounded caches kept for one index generation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from fnmatch import fnmatchcase

from indexer.search.analysis import analyze, fold, fold_word
from indexer.search.backend import Backend, Query
from indexer.search.fields import FIELD_BOOSTS, QUERY_FIELD_TARGETS, SPELL_FIELD
from indexer.search.highlight import wildcard_prefixes
from indexer.search.query import And, Node, Not, Or, Phrase, Word

MAX_WILDCARD_WORDS = 300     # words a wildcard may stand for
PROXIMITY_SLOP = 3           # words between those of a query that still count as together
PROXIMITY_BOOST = 1.0        # weight of two words standing together, on top of the words
MAX_PROXIMITY_PAIRS = 8
EXACT_BOOST = 1.5            # a word as typed, beside its stemmed variants
OWN_ARTICLE_BOOST = 20.0     # an article number matching the article itself, not a citation
MAX_WILDCARD_SCAN = 20_000   # most frequent words read to find them
MAX_LEXICON = 50_000         # values of a keyword field matched by `field:value`
CACHE_ENTRIES = 512

SKIP = object()   # a part of the query with nothing to search (stop words only)


@dataclass(frozen=True)
class Relaxed:
    query: Query                  # documents holding some of the words (and the strict parts)
    words: tuple[Query, ...]      # each word's query, to count how many a document holds


class Compiler:
    """Compiles queries for one backend; its caches are for one index generation."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self._lexicons: dict[str, list[str]] = {}
        self._wildcards: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ the tree

    def compile(self, node: Node | None, within: Query | None = None) -> Query | None:
        """The query of a tree; None when it places no condition on text (every document).

        `within` restricts every word and phrase to the documents it matches, each where it
        is looked up. Counting the matches of a part of the collection so costs that part's
        share: an engine takes a union of fields (or a phrase's positions) one document at
        a time, however few documents it is intersected with afterwards."""
        if node is None:
            return None
        compiled = self._node(node, within)
        if compiled is SKIP:
            return self.backend.nothing()
        return self._positive(compiled)

    def _node(self, node: Node, within: Query | None = None):
        """A backend query; SKIP for "nothing to search"; ("not", q) for an exclusion."""
        b = self.backend
        if isinstance(node, (Word, Phrase)):
            return self._leaf(node, within)
        if isinstance(node, Not):
            inner = self._node(node.node)   # an exclusion needs no restriction
            return SKIP if inner is SKIP else ("not", self._positive(inner))
        parts = [p for p in (self._node(item, within) for item in node.items) if p is not SKIP]
        if not parts:
            return SKIP
        if isinstance(node, Or):
            return b.any_of([self._positive(p) for p in parts])
        assert isinstance(node, And)
        positives = [p for p in parts if not isinstance(p, tuple)]
        negatives = [p[1] for p in parts if isinstance(p, tuple)]
        if not negatives:
            return b.all_of(positives)
        if not positives:
            return ("not", b.any_of(negatives))
        return b.excluding(b.all_of(positives), negatives)

    def compile_relaxed(self, root: Node | None) -> Relaxed | None:
        """For a query of several words that few or no documents hold all of: what matches
        documents holding some of them, and each word's own query, for the space to rank by
        how many words then by relevance. Phrases, exclusions and fields keep their strict
        meaning. None when there is nothing to relax."""
        if not isinstance(root, And):
            return None
        soft = [item for item in root.items if not _strict(item)]
        strict = [item for item in root.items if _strict(item)]
        words = [self._positive(p) for p in (self._node(item) for item in soft) if p is not SKIP]
        if not words or len(words) + len(strict) < 2:
            return None
        b = self.backend
        loose = b.any_of(words)
        if strict:
            required = self._node(And(tuple(strict)) if len(strict) > 1 else strict[0])
            if isinstance(required, tuple):   # exclusions only
                loose = b.excluding(loose, [required[1]])
            elif required is not SKIP and any(isinstance(item, Phrase) for item in strict):
                # a quoted phrase is words held for sure: the others only rank
                loose = b.rank_with(required, loose)
            elif required is not SKIP:
                loose = b.all_of([required, loose])   # fields hold, and at least one word
        return Relaxed(loose, tuple(words))

    def with_proximity(self, root: Node | None, query: Query) -> Query:
        """`query`, ranking higher the documents where its plain words stand together: each
        pair of consecutive words, as a sloppy phrase, adds to the score (on top of the
        words themselves; a document holding some of the words only can gain too)."""
        words = [item for item in (root.items if isinstance(root, And) else (root,))
                 if isinstance(item, Word) and item.field is None and not item.wildcard]
        terms = [term for word in words for term in analyze(word.text)]
        pairs = list(dict.fromkeys(zip(terms, terms[1:])))[:MAX_PROXIMITY_PAIRS]
        b = self.backend
        hints = [b.boost(b.phrase(f, pair, slop=PROXIMITY_SLOP), FIELD_BOOSTS.get(f, 1.0) * PROXIMITY_BOOST)
                 for pair in pairs for f in b.text_fields]
        if len(terms) > 2:   # all the words, in the order typed, as one expression
            hints += [b.boost(b.phrase(f, terms), FIELD_BOOSTS.get(f, 1.0) * PROXIMITY_BOOST * len(terms))
                      for f in b.text_fields]
        # the words as typed (accents and case aside) say a little more than their variants
        exact = [folded for word in words if (folded := fold_word(word.text))]
        hints += [b.boost(b.term(SPELL_FIELD, folded), EXACT_BOOST) for folded in dict.fromkeys(exact)]
        if len(exact) < 2 and not pairs:
            return query
        return b.rank_with(query, b.any_of(hints))

    def _positive(self, part) -> Query:
        if isinstance(part, tuple):   # a lone exclusion: everything but it
            return self.backend.excluding(self.backend.everything(), [part[1]])
        return part

    # ------------------------------------------------------------ words, phrases, fields

    def _leaf(self, node: Word | Phrase, within: Query | None = None):
        b = self.backend

        def inside(query: Query) -> Query:
            return query if within is None else b.all_of([query, within])

        target = QUERY_FIELD_TARGETS.get(node.field) if node.field else None
        if target is None or target == "title":
            fields = ("title",) if target == "title" else b.text_fields
            if isinstance(node, Word) and node.wildcard:
                terms = self.expand_wildcard(node.text)
                if not terms:
                    return b.nothing()
                return b.any_of([b.boost(inside(b.values(f, terms)), FIELD_BOOSTS.get(f, 1.0)) for f in fields])
            terms = analyze(node.text)
            if not terms:
                return SKIP
            found = b.any_of([b.boost(inside(b.phrase(f, terms)), FIELD_BOOSTS.get(f, 1.0)) for f in fields])
            if isinstance(node, Word) and len(terms) == 1 and "-" in terms[0] and "article" in b.fields:
                # an article number: the article itself first, then the texts citing it
                return b.any_of([found, b.boost(inside(b.term("article", terms[0])), OWN_ARTICLE_BOOST)])
            return found
        if isinstance(node, Word) and node.wildcard:
            pattern = fold(node.text)
            values = [v for v in self._lexicon(target) if fnmatchcase(fold(v), pattern)]
        else:
            values = self.field_values(target, node.text)
        return inside(b.values(target, values)) if values else b.nothing()

    def field_values(self, field: str, wanted: str) -> list[str]:
        """Values of a keyword field matching what someone typed after `field:`.

        Accents and case are optional; a whole-value match wins, else values containing the
        typed words (`theme:habitat` finds `habitat et renouvellement urbain`).
        """
        if self.backend.doc_freq(field, wanted):
            return [wanted]   # as indexed (a canonical legal key, a source slug): no lexicon read
        target = " ".join(fold(wanted).replace("-", " ").split())
        if not target:
            return []
        folded = {value: " ".join(fold(value).replace("-", " ").split()) for value in self._lexicon(field)}
        exact = [value for value, text in folded.items() if text == target]
        if exact:
            return exact
        words = target.split()
        return [value for value, text in folded.items() if all(word in text.split() for word in words)]

    def _lexicon(self, field: str) -> list[str]:
        with self._lock:
            values = self._lexicons.get(field)
        if values is None:
            values = [term for term, _ in self.backend.terms(field, "", limit=MAX_LEXICON)]
            with self._lock:
                self._lexicons[field] = values
        return values

    def expand_wildcard(self, pattern: str) -> tuple[str, ...]:
        """Index terms (stems) a wildcard stands for, from the index's folded words: the most
        frequent words matching it, at most MAX_WILDCARD_WORDS."""
        with self._lock:
            found = self._wildcards.get(pattern)
        if found is not None:
            return found
        prefixes = wildcard_prefixes(pattern)
        words: list[str] = []
        if prefixes:
            folded = fold(pattern)
            for word, _ in self.backend.terms(SPELL_FIELD, prefixes[0], limit=MAX_WILDCARD_SCAN):
                if fnmatchcase(word, folded):
                    words.append(word)
                    if len(words) >= MAX_WILDCARD_WORDS:
                        break
        found = tuple(sorted({term for word in words for term in analyze(word)}))
        with self._lock:
            self._wildcards[pattern] = found
            while len(self._wildcards) > CACHE_ENTRIES:
                self._wildcards.popitem(last=False)
        return found


def _strict(node: Node) -> bool:
    """Whether a part of a query keeps its meaning when not all words are found."""
    return isinstance(node, (Phrase, Not)) or (isinstance(node, Word) and node.field is not None)
