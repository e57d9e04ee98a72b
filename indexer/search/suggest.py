""""Did you mean": the closest word of the index for each unknown word of a query, bounded.

The work per request does not grow with the collection nor with what a visitor types:

- only words of 3 to MAX_WORD_LETTERS letters get a suggestion (a 500-letter word gets none,
  at no cost);
- candidates come from a vocabulary read once from the engine and kept for a while: per
  first letter, the VOCABULARY_PER_LETTER most frequent words of the index (a typo is
  rarely the only spelling of a frequent word), grouped by length;
- a word is compared with at most MAX_COMPARISONS candidates — those of the same first
  letter and of a length within the allowed distance, most frequent first — by rapidfuzz's
  Damerau-Levenshtein distance (C++), with a cut-off; and one request looks up at most
  MAX_WORDS_PER_REQUEST unknown words (its budget: that many times MAX_COMPARISONS);
- the best candidates are checked against what the visitor may see (`visible`): a word
  found only in documents they cannot read is never offered.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.process import extract

from indexer.search.analysis import analyze, fold_word
from indexer.search.backend import Backend, Query
from indexer.search.fields import SPELL_FIELD
from indexer.search.query import ParsedQuery, suggestion_words

MIN_WORD_LETTERS = 3
MAX_WORD_LETTERS = 30
VOCABULARY_PER_LETTER = 20_000
MAX_COMPARISONS = 4_000
MAX_WORDS_PER_REQUEST = 8      # unknown words of one query looked up; the rest stay as typed
MAX_CHECKS = 5                 # candidates checked against what the visitor may see
VOCABULARY_SECONDS = 3_600     # a vocabulary older than this is read again
MAX_LETTERS_KEPT = 64

ReadWords = Callable[[str, int], Iterable[tuple[str, int]]]   # (first letter, limit) -> (word, count)


@dataclass
class _Bucket:
    read_at: float
    by_length: dict[int, list[str]] = field(default_factory=dict)   # most frequent first


class Vocabulary:
    """The words suggestions are taken from, read lazily per first letter from the engine."""

    def __init__(self, read_words: ReadWords, *, per_letter: int = VOCABULARY_PER_LETTER,
                 max_age: float = VOCABULARY_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._read = read_words
        self._per_letter = per_letter
        self._max_age = max_age
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self.comparisons = 0      # candidates compared so far (the tests read it)

    def _bucket(self, letter: str) -> _Bucket:
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(letter)
        if bucket is not None and now - bucket.read_at < self._max_age:
            return bucket
        bucket = _Bucket(read_at=now)
        for word, _count in self._read(letter, self._per_letter):
            if MIN_WORD_LETTERS <= len(word) <= MAX_WORD_LETTERS + 2 and word.isalpha():
                bucket.by_length.setdefault(len(word), []).append(word)
        with self._lock:
            self._buckets[letter] = bucket
            while len(self._buckets) > MAX_LETTERS_KEPT:
                self._buckets.pop(next(iter(self._buckets)))
        return bucket

    def closest(self, word: str, visible: Callable[[str], bool] = lambda w: True) -> str | None:
        """The closest word of the vocabulary within 1 edit (words of up to 4 letters) or 2,
        most frequent among equals, that `visible` accepts; None when there is none."""
        if not (MIN_WORD_LETTERS <= len(word) <= MAX_WORD_LETTERS) or not word.isalpha():
            return None
        maxdist = 1 if len(word) <= 4 else 2
        bucket = self._bucket(word[0])
        candidates: list[str] = []
        for length in sorted(range(len(word) - maxdist, len(word) + maxdist + 1),
                             key=lambda n: abs(n - len(word))):
            candidates.extend(bucket.by_length.get(length, ()))
        candidates = [c for c in candidates if c != word][:MAX_COMPARISONS]
        self.comparisons += len(candidates)
        if not candidates:
            return None
        # rank keeps the vocabulary's order (most frequent first) among equal distances
        found = extract(word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=maxdist,
                        limit=MAX_CHECKS * 4)
        found.sort(key=lambda item: (item[1], item[2]))
        for candidate, _distance, _index in found[:MAX_CHECKS]:
            if visible(candidate):
                return candidate
        return None


def did_you_mean(backend: Backend, vocabulary: Vocabulary, parsed: ParsedQuery, visible: Query | None,
                 found_words: frozenset[str] = frozenset(), shown: Query | None = None) -> str:
    """The query with each unknown word replaced by the closest word of the index that the
    visitor may see (`visible`: None for all), or "" when there is nothing to offer.
    `found_words` are known to be in documents the visitor may see (every result of the
    search holds them): they are not looked up again. `shown` are documents the visitor
    sees (the page of results): a word one of them holds is known without counting every
    document holding it (5 ms for a common word at 100k)."""

    def found(query: Query) -> bool:
        return backend.count(backend.all_of([query] + ([visible] if visible is not None else []))) > 0

    def known_word(query: Query) -> bool:
        if shown is not None and backend.count(backend.all_of([query, shown])):
            return True
        return found(query)

    replacements = {}
    looked_up = 0
    for word in suggestion_words(parsed):
        if word in found_words:
            continue
        if looked_up >= MAX_WORDS_PER_REQUEST:
            break   # the request's budget: the other words stay as typed
        terms = analyze(word)
        if not terms:
            continue
        known = backend.any_of([backend.term(f, t) for t in terms for f in backend.text_fields])
        if (known_word(known) if visible is not None
                else any(backend.doc_freq(f, t) for t in terms for f in backend.text_fields)):
            continue
        folded = fold_word(word)
        if not folded:
            continue
        looked_up += 1
        best = vocabulary.closest(folded, lambda w: found(backend.term(SPELL_FIELD, w)))
        if best:
            replacements[word] = best
    return parsed.replace_words(replacements).text() if replacements else ""
