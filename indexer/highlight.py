"""Snippets: the best passage of a document for a query, HTML-escaped, matches in <mark>.

Computed only for the hits shown, from the catalog's text (the index stores no text). The
text is analysed with the same pipeline as the index, so `renovations` marks `rénovation`.
Everything that is not a <mark> tag comes out of `html.escape`: crawled text can never
inject markup. Work is bounded: only the first MAX_SCAN_CHARS characters are scanned.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from indexer.analysis import WORD_RE, analyze, fold, stem, word_terms
from indexer.query import ParsedQuery, Phrase, Word

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
    head = fold(re.split(r"[*?]", pattern, maxsplit=1)[0])
    head = "".join(ch for ch in head if ch.isalnum())
    if len(head) < 2:
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
    """(start, end, term) of the words of `text` the highlighter marks, in order.

    Each distinct word is analysed once (and cached across calls), then one regex finds the
    matching words: a page of results costs a few C-speed passes, not a Python loop
    folding and stemming every word of ten documents.
    """
    marked: dict[str, str] = {}
    wanted = highlighter.terms
    matches = highlighter.matches if highlighter.prefixes else wanted.__contains__
    for word in set(WORD_RE.findall(text)):
        for term in word_terms(word):
            if matches(term):
                marked[word] = term
                break
    if not marked:
        return []
    return [(m.start(), m.end(), marked[m.group()]) for m in _words_pattern(frozenset(marked)).finditer(text)]


@lru_cache(maxsize=256)
def _words_pattern(words: frozenset[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


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
