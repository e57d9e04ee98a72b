"""French text analysis shared by every search engine: words in, index terms out.

One pipeline, used at index and at query time so both sides agree:

1. split the original text into words (`\\w+`), keeping each word's character span so
   highlights can mark the original text;
2. fold each word: NFKC (ligatures such as `ﬁ` become `fi`), case folding, then accents
   removed and `œ`/`æ` spelled out — *before* stemming, so `collectivite` and `collectivité`
   give the same term and `Schoelcher` finds `Schœlcher`;
3. drop French stop words (the list is folded too) and lone letters left by elisions (`l'`);
4. stem with the Snowball French stemmer. Numbers are kept as they are (`2024`, `1234`).

Positions count only kept words, so a quoted phrase with a stop word in it (`"contrat de
ville"`) matches the same words in the text. `analyze(text)` is the pure entry point any
engine can use; `FrenchTokenizer` wraps the same pipeline as a Whoosh analyzer.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterator, NamedTuple

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.snowball.french import FrenchStemmer

# Words: letters and digits, with combining accents (text in decomposed form, `e\u0301`, is one
# word, as it is once folded; so word-by-word and whole-text analysis agree).
WORD_RE = re.compile("[\\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")

# Letters NFKD does not decompose into a base letter plus accents. Replaced one by one, only
# when present: str.translate looks every character up in a dict, ten times slower on a
# page of French; no replacement holds a letter of the table, so the order does not matter.
_SPELLED_OUT = (
    ("œ", "oe"), ("æ", "ae"), ("ø", "o"), ("ł", "l"), ("đ", "d"), ("ð", "d"), ("þ", "th"),
    ("ı", "i"), ("ŀ", "l"), ("ĳ", "ij"), ("_", " "),
)

_STOP_WORDS_ACCENTED = """
a à ai aie aient aies ait as au aura aurai auraient aurais aurait auras aurez auriez aurions
aurons auront aux avaient avais avait avec avez aviez avions avons ayant ayante ayantes ayants
ayez ayons c ce ceci cela celà ces cet cette ceux celle celles celui d dans de des du dont
elle elles en es est et eu eue eues eurent eus eusse eussent eusses eussiez eussions eut eux
eûmes eût eûtes furent fus fusse fussent fusses fussiez fussions fut fûmes fût fûtes il ils
j je l la le les leur leurs lui m ma mais me mes moi mon même mêmes n ne ni nos notre nous on
ont ou où par pas pour qu que quel quelle quelles quels qui s sa sans se sera serai seraient
serais serait seras serez seriez serions serons seront ses si soient sois soit sommes son
sont soyez soyons suis sur t ta te tes toi ton tu un une vos votre vous y étaient étais était
étant étante étantes étants étiez étions été étée étées étés êtes jusqu lorsqu puisqu quoi
"""


# Combining marks left by NFKD: accents, cedillas, diaereses (and the rarer blocks).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def fold(text: str) -> str:
    """Compatibility-normalised, case-folded, accent-free text (`Schœlcher` -> `schoelcher`)."""
    if text.isascii():   # the common case, ten times faster; same result
        return text.lower().replace("_", " ")
    text = unicodedata.normalize("NFKC", text).casefold()
    for letter, spelled in _SPELLED_OUT:
        if letter in text:
            text = text.replace(letter, spelled)
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


STOP_WORDS = frozenset(fold(word) for word in _STOP_WORDS_ACCENTED.split())
# As written (accents kept): lets an engine drop stop words before its own folding.
WRITTEN_STOP_WORDS = frozenset(_STOP_WORDS_ACCENTED.split())

_stemmer = FrenchStemmer()


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """Snowball French stem of an already folded word; numbers are kept whole."""
    if word.isdigit():
        return word
    return _stemmer.stem(word)


class WordToken(NamedTuple):   # a tuple: millions are made while highlighting
    term: str      # the index term (folded, stemmed)
    word: str      # the folded word before stemming
    pos: int       # position among kept words
    start: int     # character span in the original text
    end: int


def _folded_words(text: str) -> Iterator[tuple[str, int, int]]:
    """(folded word, start, end) for each word of the original text, stop words included."""
    for match in WORD_RE.finditer(text):
        raw = match.group()
        folded = fold(raw)
        if folded.isalnum():
            yield folded, match.start(), match.end()
        else:  # folding split it (`½` -> `1⁄2`): every piece points at the original span
            for piece in WORD_RE.findall(folded):
                yield piece, match.start(), match.end()


def is_kept(word: str) -> bool:
    """Whether a folded word is indexed: not a stop word nor a lone letter."""
    if word in STOP_WORDS:
        return False
    return len(word) > 1 or word.isdigit()


@lru_cache(maxsize=200_000)
def word_terms(word: str) -> tuple[str, ...]:
    """Index terms of one word as WORD_RE finds it in a text; cached, as words repeat."""
    return tuple(stem(folded) for folded, _, _ in _folded_words(word) if is_kept(folded))


def tokens(text: str) -> Iterator[WordToken]:
    """Index tokens of `text` with positions and original character spans."""
    pos = 0
    for word, start, end in _folded_words(text):
        if not is_kept(word):
            continue
        yield WordToken(stem(word), word, pos, start, end)
        pos += 1


def analyze(text: str) -> list[str]:
    """Index terms of `text`, in order: the pure pipeline every engine shares.

    Folds the whole text at once (no character spans needed), which is several times
    faster than `tokens()` and gives the same terms.
    """
    return [stem(word) for word in WORD_RE.findall(fold(text))
            if word not in STOP_WORDS and (len(word) > 1 or word.isdigit())]


def analyze_for_index(text: str) -> tuple[list[str], list[str]]:
    """`analyze(text)` and `fold_words(text)` from one folding of the text: indexing needs
    both (terms, and the words offered by "did you mean")."""
    words = WORD_RE.findall(fold(text))
    terms = [stem(word) for word in words
             if word not in STOP_WORDS and (len(word) > 1 or word.isdigit())]
    return terms, [word for word in words if len(word) > 2 and word.isalpha() and word not in STOP_WORDS]


def fold_words(text: str) -> list[str]:
    """Folded, unstemmed words worth suggesting in "did you mean" (no stop words, no numbers)."""
    return [word for word in WORD_RE.findall(fold(text))
            if len(word) > 2 and word.isalpha() and word not in STOP_WORDS]


class FrenchTokenizer(Tokenizer):
    """The analysis pipeline as a Whoosh analyzer (tokenizer, folding, stop words, stemming).

    Whoosh pickles the schema with the index: this class keeps no state, so its name and
    module are all an index depends on.
    """

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self).__name__)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not chars and not keeporiginal:   # indexing: terms and positions only, fast path
            token.boost, token.stopped = 1.0, False
            for pos, term in enumerate(analyze(value), start_pos):
                token.text = term
                token.pos = pos
                yield token
            return
        for item in tokens(value):
            token.text = item.term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[item.start:item.end]
            if positions:
                token.pos = start_pos + item.pos
            if chars:
                token.startchar = start_char + item.start
                token.endchar = start_char + item.end
            yield token


def french_analyzer() -> FrenchTokenizer:
    return FrenchTokenizer()
