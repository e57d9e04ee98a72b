""""Did you mean" does bounded work whatever the vocabulary and whatever is typed.

Nothing is timed: the work is counted (`Vocabulary.comparisons`, words read from the
engine) on a 200,000-word vocabulary, and the vocabulary's cache runs on a fake clock.
"""

from __future__ import annotations

import random
import string

from indexer.search.suggest import MAX_COMPARISONS, MAX_WORD_LETTERS, VOCABULARY_PER_LETTER, Vocabulary

VOCABULARY_SIZE = 200_000


class Engine:
    """A vocabulary of 200,000 words, all of one first letter (the worst case), read as the
    engine's most frequent terms; it counts what it is asked for."""

    def __init__(self) -> None:
        rng = random.Random(15)
        words = {"renovation", "rehabilitation", "residence", "reglementation"}
        while len(words) < VOCABULARY_SIZE:
            words.add("r" + "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 14))))
        # most frequent first: the real words lead
        self.words = sorted(words, key=lambda w: (w not in {"renovation", "residence"}, w))
        self.reads = 0
        self.words_read = 0

    def read(self, letter: str, limit: int):
        self.reads += 1
        for word in (w for w in self.words if w[0] == letter):
            if limit == 0:
                return
            limit -= 1
            self.words_read += 1
            yield word, 1


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_500_letter_word_costs_nothing_on_a_200000_word_vocabulary():
    engine = Engine()
    vocabulary = Vocabulary(engine.read, clock=Clock())
    assert vocabulary.closest("p" * 490) is None
    assert vocabulary.closest("r" * 500) is None
    assert vocabulary.closest("r" * (MAX_WORD_LETTERS + 1)) is None
    assert vocabulary.comparisons == 0 and engine.reads == 0


def test_every_word_is_compared_with_a_bounded_number_of_candidates():
    engine = Engine()
    vocabulary = Vocabulary(engine.read, clock=Clock())
    assert vocabulary.closest("renovatoin") == "renovation"
    assert engine.words_read == VOCABULARY_PER_LETTER < VOCABULARY_SIZE   # a bounded read
    for length in range(3, MAX_WORD_LETTERS + 1):
        before = vocabulary.comparisons
        vocabulary.closest("r" + "e" * (length - 1))
        assert vocabulary.comparisons - before <= MAX_COMPARISONS
    assert engine.reads == 1                                            # read once, then cached
    assert vocabulary.comparisons <= MAX_COMPARISONS * (MAX_WORD_LETTERS - 1)


def test_the_vocabulary_is_read_again_once_old():
    engine, clock = Engine(), Clock()
    vocabulary = Vocabulary(engine.read, clock=clock, max_age=60)
    vocabulary.closest("residense")
    clock.now = 59
    vocabulary.closest("residense")
    assert engine.reads == 1
    clock.now = 61
    assert vocabulary.closest("residense") == "residence"
    assert engine.reads == 2


def test_a_word_only_in_documents_the_reader_cannot_see_is_never_offered():
    engine = Engine()
    vocabulary = Vocabulary(engine.read, clock=Clock())
    assert vocabulary.closest("renovatoin", visible=lambda word: word != "renovation") != "renovation"
