"""Snippets: the best passage of a document for a query, HTML-escaped, matches in <mark>.

Computed only for the hits shown, from the catalog's text (the index stores no text). The
text is analysed with the same pipeline as the index (`indexer.search.analysis`, on its
NFC form), so `renovations` marks `rénovation`. Everything that is not a <mark> tag comes
out of `html.escape`: crawled text can never inject markup. Work is bounded: only the
first MAX_SCAN_CHARS characters are scanned.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from indexer.search.analysis import (ARTICLE_ID_RE, WORD_RE, analyze, article_id, fold_word, normalized,
                                     stem, word_terms)
from indexer.search.query import ParsedQuery, Phrase, Word

MAX_SCAN_CHARS = 200_000
SNIPPET_CHARS = 240
PAGE_BREAK = "\f"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Highlighter:
    """The terms of a query worth marking: index terms, plus wildcard prefixes."""

    terms: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def matches(self, term: str) -> bool:
        return term in self.terms or any(term.startswith(p) for p in self.prefixes)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.prefixes


def highlighter_for(parsed: ParsedQuery, expand: Callable[[str], Iterable[str]] | None = None) -> Highlighter:
    """What to mark for a query; `expand` turns a wildcard into the index terms it matched."""
    terms: set[str] = set()
    prefixes: list[str] = []
    for node in parsed.positive_words():
        if node.field not in (None, "title"):
            continue
        if isinstance(node, Word) and node.wildcard:
            if expand is not None:
                terms.update(expand(node.text))
            else:
                prefixes.extend(wildcard_prefixes(node.text))
        elif isinstance(node, (Word, Phrase)):
            terms.update(analyze(node.text))
    return Highlighter(frozenset(terms), tuple(dict.fromkeys(prefixes)))


def wildcard_prefixes(pattern: str) -> list[str]:
    """Index-term prefixes a `renov*` pattern stands for: the folded text before the first
    joker, and its stem (index terms are stems: `urbanis*` must reach `urban`)."""
    head = re.split(r"[*?]", pattern, maxsplit=1)[0]
    head = "".join(fold_word(word) for word in WORD_RE.findall(head))
    if len(head) < 2 or not head.isascii():
        return []
    out = [head]
    stemmed = stem(head)
    if len(stemmed) >= 2 and stemmed != head:
        out.append(stemmed)
    return out


def snippet(text: str, highlighter: Highlighter, width: int = SNIPPET_CHARS) -> tuple[str, int | None]:
    """(HTML snippet, 1-based PDF page or None) of the best passage of `text`."""
    if not text:
        return "", None
    text = normalized(text)   # as the index read it
    scan = text[:MAX_SCAN_CHARS]
    spans: list[tuple[int, int, str]] = []
    if not highlighter.empty:
        spans = matching_spans(scan, highlighter)
    anchor = _best_window(spans, width) if spans else 0
    page_start = scan.rfind(PAGE_BREAK, 0, anchor) + 1    # a passage stays on its page
    start = _word_start(scan, max(page_start, anchor - width // 5)) if anchor else 0
    end = _word_end(scan, min(len(scan), start + width))
    shown = [(s, e) for s, e, _ in spans if s >= start and e <= end]
    page = scan.count(PAGE_BREAK, 0, anchor) + 1 if PAGE_BREAK in text else None
    body = _render(scan, start, end, shown)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return prefix + body + suffix, page


def matching_spans(text: str, highlighter: Highlighter) -> list[tuple[int, int, str]]:
    """(start, end, term) of the words of `text` (NFC) the highlighter marks, in order.

    Only candidate words are analysed (cached across calls): those that one C-speed regex
    finds starting, once folded, like a marked term's stem less its last letters
    (`_candidate_words`). A page of results costs a few passes over its texts, not a Python
    loop over every distinct word, and new long-tail words are not stemmed unless they
    could match.
    """
    ids = _article_ids(highlighter)
    if ids:
        words = Highlighter(highlighter.terms - ids, highlighter.prefixes)
        marked = _article_spans(text, ids)
        if words.empty:
            return marked
        spans = marked + [s for s in matching_spans(text, words)
                          if not any(a < s[1] and s[0] < b for a, b, _ in marked)]
        return sorted(spans)
    prefixes = _search_prefixes(highlighter)
    if prefixes and _folds_by_letter(text):
        # every word folds letter by letter: the candidates' own matches are the spans to mark
        spans = []
        terms: dict[str, str] = {}
        for match in _prefix_pattern(_heads(prefixes)).finditer(text):
            word = match.group()
            term = terms.get(word)
            if term is None:
                term = terms[word] = _marked_term(word, highlighter, prefixes)
            if term:
                spans.append((match.start(), match.end(), term))
        return spans
    marked = {}
    for word in _candidate_words(text, highlighter):
        term = _marked_term(word, highlighter)
        if term:
            marked[word] = term
    if not marked:
        return []
    return [(m.start(), m.end(), marked[m.group()]) for m in _words_pattern(frozenset(marked)).finditer(text)]


def _article_ids(highlighter: Highlighter) -> frozenset[str]:
    return frozenset(term for term in highlighter.terms if "-" in term)


def _article_spans(text: str, ids: frozenset[str]) -> list[tuple[int, int, str]]:
    """Spans of the article numbers of `text` among `ids`, however they are spelled."""
    spans = []
    for match in ARTICLE_ID_RE.finditer(text):
        term = article_id(match.group("letter"), match.group("number"))
        if term in ids:
            spans.append((match.start(), match.end(), term))
    return spans


def _marked_term(word: str, highlighter: Highlighter, prefixes: tuple[str, ...] = ()) -> str:
    """The first of the word's terms the highlighter marks, or ""."""
    if prefixes and not fold_word(word).startswith(prefixes):
        return ""   # found by the first letters of a prefix only: not worth stemming
    matches = highlighter.matches if highlighter.prefixes else highlighter.terms.__contains__
    for term in word_terms(word):
        if matches(term):
            return term
    return ""


# Snowball French rewrites at most the last STEM_SLACK letters of a stem: the folded word
# starts with its stem less those (`publication` -> `publiqu`, `constamment` -> `constant`,
# `nationaux` -> `national`). tests/test_highlight.py checks it over real vocabularies.
STEM_SLACK = 2
# The regex matches the first letters of a prefix (`re` compiles a long pattern of accented
# letter classes slowly: ≈ 0.3 ms a letter); folding checks the rest of the few words found.
PATTERN_LETTERS = 3
_LETTER_RANGES = ((0x30, 0x24F), (0x1E00, 0x1EFF), (0x2100, 0x214F), (0xFB00, 0xFB06), (0xFF10, 0xFF5A))
_WORD_START = "(?<![^\\W_].)"    # the character before the match's first is no word character


def _candidate_words(text: str, highlighter: Highlighter) -> set[str]:
    """Distinct words of `text` that may carry a marked term: a superset, never fewer.

    A word made only of letters that each fold to ASCII letters or digits (`É`, `œ`, `ﬁ`,
    `ß`) folds letter by letter, so it can carry a term only if it starts with the term's
    prefix, matched letter by letter by `_prefix_pattern`. In a text holding other words
    (other scripts, `½`), those are all candidates too.
    """
    prefixes = _search_prefixes(highlighter)
    if prefixes is None:
        return set(WORD_RE.findall(text))
    found: set[str] = set()
    if prefixes:
        heads = _heads(prefixes)
        found = set(_prefix_pattern(heads).findall(text))
        if heads != prefixes:
            found = {word for word in found if fold_word(word).startswith(prefixes)}
    if not _folds_by_letter(text):
        found.update(word for word in set(WORD_RE.findall(text)) if not _folds_by_letter(word))
    return found


@lru_cache(maxsize=256)
def _search_prefixes_of(terms: frozenset[str], prefixes: tuple[str, ...]) -> tuple[str, ...] | None:
    out = {term[:len(term) - STEM_SLACK] for term in terms}
    out.update(prefix[:len(prefix) - STEM_SLACK] for prefix in prefixes)
    if any(not p or not (p.isascii() and p.isalnum()) for p in out):
        return None   # too short to narrow anything, or not letter by letter: every word
    # a prefix of another prefix finds all its words already
    return tuple(sorted(p for p in out if not any(q != p and p.startswith(q) for q in out)))


@lru_cache(maxsize=256)
def _heads(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({prefix[:PATTERN_LETTERS] for prefix in prefixes}))


def _search_prefixes(highlighter: Highlighter) -> tuple[str, ...] | None:
    return _search_prefixes_of(highlighter.terms, highlighter.prefixes)


@dataclass(frozen=True)
class _Letters:
    chars: dict[str, str]           # folded ASCII letter or digit -> the characters folding to it
    classes: dict[str, str]         # folded ASCII letter or digit -> regex of what folds to it
    spelled: tuple[tuple[str, str], ...]   # (`œ`, `oe`): one character folding to several
    other: re.Pattern               # a word character folding otherwise (`α`, `½`, `İ`)


@lru_cache(maxsize=1)
def _letters() -> _Letters:
    groups: dict[str, list[str]] = {}
    spelled = []
    for low, high in _LETTER_RANGES:
        for code in range(low, high + 1):
            ch = chr(code)
            if not WORD_RE.fullmatch(ch) or len(ch.lower()) != 1:
                continue
            folded = fold_word(ch)
            if not (folded and folded.isascii() and folded.isalnum()):
                continue
            if len(folded) == 1:
                groups.setdefault(folded, []).append(ch)
            else:
                spelled.append((ch, folded))
    safe = _class_body([ch for chars in groups.values() for ch in chars] + [ch for ch, _ in spelled])
    other = re.compile(f"[^\\W_{safe}]")
    classes = {letter: _cheap_class(chars) for letter, chars in groups.items()}
    chars = {letter: "".join(group) for letter, group in groups.items()}
    return _Letters(chars, classes, tuple(spelled), other)


def _runs(chars: Iterable[str]) -> list[tuple[str, str]]:
    codes = sorted({ord(ch) for ch in chars})
    out = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        out.append((chr(codes[i]), chr(codes[j])))
        i = j + 1
    return out


def _class_body(chars: Iterable[str]) -> str:
    """The body of a regex character class holding `chars`, as ranges."""
    return "".join(re.escape(low) if low == high else f"{re.escape(low)}-{re.escape(high)}"
                   for low, high in _runs(chars))


def _cheap_class(chars: Iterable[str]) -> str:
    """A regex matching one of `chars` that compiles fast: `re` builds a 64 KB bitmap for a
    class beyond Latin-1 with more than two ranges (≈ 0.15 ms each), so such a class is
    split into an alternation of Latin-1 and two-range classes."""
    runs = _runs(chars)
    low = [run for run in runs if ord(run[1]) < 256]
    high = [run for run in runs if ord(run[1]) >= 256]
    parts = [low] if low else []
    parts += [high[i:i + 2] for i in range(0, len(high), 2)]
    classes = ["[" + _class_body(ch for a, b in part for ch in map(chr, range(ord(a), ord(b) + 1))) + "]"
               for part in parts]
    return classes[0] if len(classes) == 1 else "(?:" + "|".join(classes) + ")"


def _folds_by_letter(text: str) -> bool:
    """Whether every word of `text` folds letter by letter (`_letters`): usually, and fast."""
    if text.isascii():
        return True
    return not _letters().other.search(text)


@lru_cache(maxsize=256)
def _prefix_pattern(prefixes: tuple[str, ...]) -> re.Pattern:
    """Whole words starting, once folded, with one of `prefixes` (ASCII letters, digits)."""
    letters = _letters()
    firsts: dict[str, list[str]] = {}   # first characters -> the rest of each prefix
    for prefix in prefixes:
        firsts.setdefault(letters.chars[prefix[0]], []).append(_folding_to(prefix[1:]))
        for ch, folded in letters.spelled:
            if prefix.startswith(folded):
                firsts.setdefault(ch, []).append(_folding_to(prefix[len(folded):]))
            elif folded.startswith(prefix):
                firsts.setdefault(ch, []).append("")
    # The pattern opens with one character class, which lets `re` skip ahead at C speed; the
    # lookbehinds then say the character starts a word and which prefixes it can begin.
    branches = "|".join(f"(?<={_cheap_class(chars)})(?:{'|'.join(rests)})"
                        for chars, rests in firsts.items())
    return re.compile(f"[{_class_body(''.join(firsts))}]{_WORD_START}(?:{branches})[^\\W_]*")


def _folding_to(prefix: str) -> str:
    """A regex of the text whose folding starts with `prefix`, character by character."""
    if not prefix:
        return ""
    letters = _letters()
    options = [f"{letters.classes[prefix[0]]}{_folding_to(prefix[1:])}"]
    for ch, folded in letters.spelled:
        if prefix.startswith(folded):
            options.append(f"{re.escape(ch)}{_folding_to(prefix[len(folded):])}")
        elif folded.startswith(prefix):
            options.append(re.escape(ch))
    return options[0] if len(options) == 1 else f"(?:{'|'.join(options)})"


@lru_cache(maxsize=256)
def _words_pattern(words: frozenset[str]) -> re.Pattern:
    # each alternative opens with a literal character (then says it starts a word), so `re`
    # skips ahead at C speed to the characters words can start with
    alternatives = "|".join(re.escape(word[0]) + _WORD_START + re.escape(word[1:])
                            for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})(?![^\W_])")


def _best_window(spans: list[tuple[int, int, str]], width: int) -> int:
    """Start offset of the window holding the most distinct matched terms, then most matches."""
    best_score, best_start = (-1, -1), spans[0][0]
    j = 0
    for i, (start, _, _) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] <= start + width * 0.8:
            j += 1
        window = spans[i:j + 1]
        score = (len({term for _, _, term in window}), len(window))
        if score > best_score:
            best_score, best_start = score, start
    return best_start


def _word_start(text: str, pos: int) -> int:
    if pos <= 0:
        return 0
    space = text.find(" ", pos, pos + 30)
    return space + 1 if space >= 0 else pos


def _word_end(text: str, pos: int) -> int:
    if pos >= len(text):
        return len(text)
    space = text.rfind(" ", max(0, pos - 30), pos)
    return space if space > 0 else pos


def _render(text: str, start: int, end: int, marks: Iterable[tuple[int, int]]) -> str:
    out: list[str] = []
    cursor = start
    for s, e in marks:
        if s < cursor:
            continue
        out.append(_plain(text[cursor:s]))
        out.append("<mark>" + _plain(text[s:e]) + "</mark>")
        cursor = e
    out.append(_plain(text[cursor:end]))
    return "".join(out).strip()


def _plain(segment: str) -> str:
    return html.escape(_SPACES.sub(" ", segment), quote=True)
