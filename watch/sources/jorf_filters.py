"""Which Journal officiel texts a `dila-jorf` source keeps: the centre's choice in sources.yaml.

Natures, ministries, keywords (the text's words or its `MCS_TXT` keywords) and a saved query
(the search box's language, or the name of an alert of sources.yaml) each narrow the texts
kept; a source setting none of them keeps everything. The query is evaluated on the text
alone, with the search's own analysis (accents, case and plurals do not matter): words,
"phrases", OR, NOT, parentheses, wildcards, and the fields `title:`, `type:` and `ref:`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from indexer.enrich.legal import fold, legal_keys, nature_label
from indexer.search.analysis import analyze, folded_words
from indexer.search.query import And, Node, Not, Or, Phrase, Word, parse_query
from veille.core.records import Document


def _folded(text: str) -> str:
    return " ".join(fold(text).split())


@dataclass(frozen=True)
class TextFilter:
    natures: tuple[str, ...] = ()
    ministries: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    query: str = ""

    @classmethod
    def of(cls, options: Mapping[str, Any], alerts: Iterable = ()) -> "TextFilter":
        """The filter a source's options describe; `query` may name an alert of the file."""
        query = str(options.get("query") or "")
        for alert in alerts:
            if query and alert.name == query:
                query = alert.query
        return cls(tuple(options.get("natures", ())), tuple(options.get("ministries", ())),
                   tuple(options.get("keywords", ())), query)

    @property
    def everything(self) -> bool:
        return not (self.natures or self.ministries or self.keywords or self.query)

    def passes(self, doc: Document, nature: str, ministry: str, keywords: Iterable[str] = ()) -> bool:
        if self.natures and _folded(nature_label(nature)) not in {_folded(nature_label(n)) for n in self.natures}:
            return False
        if self.ministries and not any(_folded(m) in _folded(ministry) for m in self.ministries):
            return False
        if self.keywords:
            haystack = _folded(" ".join((doc.title, doc.content, *keywords)))
            if not any(_folded(k) in haystack for k in self.keywords):
                return False
        if self.query:
            parsed = parse_query(self.query)
            if parsed.root is not None and not QueryMatcher(doc).matches(parsed.root):
                return False
        return True


class QueryMatcher:
    """A parsed query evaluated on one document, without an index."""

    def __init__(self, doc: Document):
        self.doc = doc
        self._terms: dict[str, list[str]] = {}

    def terms(self, field: str | None) -> list[str]:
        if field not in self._terms:
            text = self.doc.title if field == "title" else "\n".join((self.doc.title, self.doc.summary, self.doc.content))
            self._terms[field] = analyze(text)
        return self._terms[field]

    def matches(self, node: Node) -> bool:
        if isinstance(node, And):
            return all(self.matches(item) for item in node.items)
        if isinstance(node, Or):
            return any(self.matches(item) for item in node.items)
        if isinstance(node, Not):
            return not self.matches(node.node)
        if isinstance(node, (Word, Phrase)) and node.field == "type":
            return _folded(nature_label(node.text)) == _folded(self.doc.doc_type or nature_label(
                str(self.doc.extra.get("nature", ""))))
        if isinstance(node, (Word, Phrase)) and node.field == "ref":
            wanted = node.text.strip().lower()
            keys = [k.lower() for k in (*self.doc.extra.get("legal_ids", ()),
                                        *legal_keys(f"{self.doc.title}\n{self.doc.content}"))]
            return any(wanted == k or wanted == k.split(":", 1)[-1] for k in keys)
        field = node.field if node.field == "title" else None
        if isinstance(node, Word) and node.wildcard:
            pattern = fold(node.text)
            text = self.doc.title if field == "title" else f"{self.doc.title}\n{self.doc.content}"
            return any(fnmatch.fnmatchcase(word, pattern) for word in set(folded_words(text)))
        wanted = analyze(node.text)
        if not wanted:
            return True
        have = self.terms(field)
        if isinstance(node, Word):
            return set(wanted) <= set(have)
        return _contains_run(have, wanted)


def _contains_run(terms: list[str], run: list[str]) -> bool:
    first = run[0]
    for i, term in enumerate(terms):
        if term == first and terms[i:i + len(run)] == run:
            return True
    return False
