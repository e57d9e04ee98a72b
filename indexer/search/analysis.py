"""The French analyser: words in, index terms out, the same for every engine and every use.

One pipeline for indexing, querying and highlighting, whichever engine runs:

1. words are runs of letters and digits (`[^\\W_]+`) of the text in Unicode NFC form, and
   the article numbers of the codes, however they are spelled (`L. 121-2`, `L.121-2`,
   `L 121-2`, `art. L. 121-2`, `R*129-9`, `LO 1112-10`), are one word: `l121-2`;
2. French stop words (`le`, `de`, `été`...) and lone letters left by elisions (`l'`) are
   dropped, so positions count kept words only and the phrase `"contrat ville"` matches
   `contrat de ville`;
3. each kept word is lower-cased and folded to ASCII (`Schœlcher` -> `schoelcher`, accents
   out *before* stemming, so `collectivite` and `collectivité` meet), then stemmed with the
   Snowball French stemmer (`rénovations` -> `renov`). Numbers stay whole.

Step 3 is one tantivy text analyzer (Rust: lowercase, ASCII folding, Snowball). The tantivy
engine registers the same chain as its tokenizer, so its index holds exactly the terms
`analyze` gives; the Whoosh engine and the highlighter call `analyze` itself. There is one
stemmer in Veille, and the word it marks is the word that matched.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterator, NamedTuple

import tantivy

WORD_RE = re.compile(r"[^\W_]+")
# An article of a code: its letters (L, R, D, A, LO; a star for articles decreed in the
# Conseil d'État) and a number of at least two parts. One index term, `l121-2`: an exact
# reference then beats a longer one that starts with it (`L121-2-1`), and `L.` is no
# longer a lone letter thrown away.
ARTICLE_ID = (r"(?<![^\W_])(?:art\.?\s*)?\*?(?P<letter>lo|[lrda])\s?\.?\s?\*?\s?"
              r"(?P<number>\d+(?:-\d+)+)(?![^\W_]|-\d)")
ARTICLE_ID_RE = re.compile(ARTICLE_ID, re.IGNORECASE)
_TOKEN_RE = re.compile(ARTICLE_ID + r"|([^\W_]+)", re.IGNORECASE)
_HAS_ID = re.compile(r"\d-\d")


def article_id(letter: str, number: str) -> str:
    return letter.lower() + number


def glue_article_ids(text: str) -> str:
    """`art. L. 121-2` -> `L121-2`: the article numbers of `text` written as one word."""
    if not _HAS_ID.search(text):
        return text
    return ARTICLE_ID_RE.sub(lambda m: m.group("letter").upper() + m.group("number"), text)

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

# Letters NFKD does not decompose into a base letter plus accents.
_SPELLED_OUT = (
    ("œ", "oe"), ("æ", "ae"), ("ø", "o"), ("ł", "l"), ("đ", "d"), ("ð", "d"), ("þ", "th"),
    ("ı", "i"), ("ŀ", "l"), ("ĳ", "ij"), ("_", " "),
)
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def fold(text: str) -> str:
    """Compatibility-normalised, case-folded, accent-free text (`Schœlcher` -> `schoelcher`):
    for comparing names and values (facet values, field names, sources), not for terms."""
    if text.isascii():
        return text.lower().replace("_", " ")
    text = unicodedata.normalize("NFKC", text).casefold()
    for letter, spelled in _SPELLED_OUT:
        if letter in text:
            text = text.replace(letter, spelled)
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


WRITTEN_STOP_WORDS = frozenset(_STOP_WORDS_ACCENTED.split())
STOP_WORDS = frozenset(fold(word) for word in WRITTEN_STOP_WORDS)
_DROPPED = WRITTEN_STOP_WORDS | STOP_WORDS

# The analyzer chains, by the name the tantivy engine registers them under.
STEMMED = "veille_fr"      # lower case, ASCII folding, Snowball French
FOLDED = "veille_fold"     # lower case, ASCII folding: the words themselves


def analyzer_chain(stem: bool) -> tantivy.TextAnalyzer:
    """The Rust chain applied to kept words separated by spaces (see `kept_text`)."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
    steps = [tantivy.Filter.lowercase(), tantivy.Filter.ascii_fold()]
    if stem:
        steps.append(tantivy.Filter.stemmer("french"))
    for step in steps:
        builder = builder.filter(step)
    return builder.build()


_STEMMED = analyzer_chain(stem=True)
_FOLDED = analyzer_chain(stem=False)


def normalized(text: str) -> str:
    """`text` in NFC form: a decomposed accent (`e` + U+0301) stays inside its word."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def is_kept(word: str) -> bool:
    """Whether a lower-cased word is indexed: not a stop word nor a lone letter."""
    return word not in _DROPPED and (len(word) > 1 or word.isdigit())


def kept_words(text: str) -> list[str]:
    """The kept words of `text`, lower-cased, in order (an article number is one word)."""
    text = normalized(text).lower()
    if not _HAS_ID.search(text):
        return [word for word in WORD_RE.findall(text) if word not in _DROPPED and (len(word) > 1 or word.isdigit())]
    return [letter + number if letter else word for letter, number, word in _TOKEN_RE.findall(text)
            if letter or (word not in _DROPPED and (len(word) > 1 or word.isdigit()))]


def kept_text(text: str) -> str:
    """Kept words separated by spaces: what the engines' analyzer chain reads."""
    return " ".join(kept_words(text))


def analyze(text: str) -> list[str]:
    """Index terms of `text`, in order; a term's position is its index in the list."""
    kept = kept_text(text)
    return _STEMMED.analyze(kept) if kept else []


@lru_cache(maxsize=200_000)
def word_terms(word: str) -> tuple[str, ...]:
    """Index terms of one word as WORD_RE finds it in a text; cached, as words repeat."""
    return tuple(analyze(word))


@lru_cache(maxsize=100_000)
def stem(folded: str) -> str:
    """The stem of an already folded word (for wildcard prefixes)."""
    found = _STEMMED.analyze(folded)
    return found[0] if found else folded


def folded_words(text: str) -> list[str]:
    """Kept words folded but not stemmed: the vocabulary wildcards and suggestions use."""
    kept = kept_text(text)
    return _FOLDED.analyze(kept) if kept else []


@lru_cache(maxsize=10_000)
def fold_word(word: str) -> str:
    """One word folded as the index folds it (`Schœlcher` -> `schoelcher`), or ""."""
    found = _FOLDED.analyze(word.lower())
    return found[0] if len(found) == 1 else ""


class WordToken(NamedTuple):
    term: str      # the index term
    pos: int       # position among kept words
    start: int     # character span in the (NFC) text
    end: int


def tokens(text: str) -> Iterator[WordToken]:
    """Index terms of `text` with positions and character spans, word by word: the plain
    definition `indexer.search.highlight`'s faster path must agree with."""
    pos = 0
    for match in _TOKEN_RE.finditer(normalized(text)):
        if match.group("letter"):
            yield WordToken(article_id(match.group("letter"), match.group("number")), pos,
                            match.start(), match.end())
            pos += 1
            continue
        for term in word_terms(match.group()):
            yield WordToken(term, pos, match.start(), match.end())
            pos += 1
