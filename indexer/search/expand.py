"""Query expansion: acronyms meet their expansions, code names their articles.

`Expander(table).expand(root)` rewrites the plain words of a parsed query: a word or a run
of consecutive words that an entry names becomes "what was typed OR what it also means".
Entries come from the synonym table (`indexer/enrich/synonyms.yaml`: `QPV` and "quartier
prioritaire de la politique de la ville" find each other) and from the codes
(`indexer.enrich.legal`: `CCH` and "code de la construction et de l'habitation" also find
the articles whose `code` field is that code, since an article never names its code).

Words are compared as the index stems them (accents, case and plurals do not matter);
quoted phrases, fields, wildcards and exclusions are never expanded, nor the words of the
table's `no_expansion`. Each expansion used is reported in one French line.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.enrich.legal import code_slug
from indexer.enrich.legal_vocabulary import CODE_ABBREVIATIONS, KNOWN_CODES
from indexer.enrich.synonyms import SynonymTable
from indexer.search.analysis import analyze
from indexer.search.query import And, Node, Not, Or, Phrase, Word


@dataclass(frozen=True)
class _Entry:
    typed: tuple[str, ...]          # index terms of what is typed
    written: str | None             # the exact words required (case-sensitive acronyms)
    alternatives: tuple[Node, ...]  # what it also means
    shown: tuple[str, ...]          # those alternatives as people read them


def _node(text: str) -> Node:
    return Phrase(text) if len(text.split()) > 1 or len(analyze(text)) > 1 else Word(text)


class Expander:
    """The entries of one synonym table and of the codes, looked up by first term."""

    def __init__(self, table: SynonymTable):
        self._by_first: dict[str, list[_Entry]] = {}
        blocked = {tuple(analyze(word)) for word in table.no_expansion}
        for synonym in table.entries:
            forms = (synonym.term, *synonym.means)
            for form in forms if not synonym.one_way else (synonym.term,):
                others = tuple(f for f in forms if f != form)
                written = form if synonym.case_sensitive and form == synonym.term else None
                self._add(form, written, tuple(_node(f) for f in others), others, blocked)
        for abbreviation, name in CODE_ABBREVIATIONS.items():
            self._add(abbreviation, None, (Phrase(name), Word(code_slug(name), "code")), (name,), blocked)
        for name in KNOWN_CODES:
            self._add(name, None, (Word(code_slug(name), "code"),), (), blocked)

    def _add(self, form: str, written: str | None, alternatives: tuple[Node, ...],
             shown: tuple[str, ...], blocked: set) -> None:
        typed = tuple(analyze(form))
        if not typed or typed in blocked:
            return
        entries = self._by_first.setdefault(typed[0], [])
        entries.append(_Entry(typed, written, alternatives, shown))
        entries.sort(key=lambda entry: -len(entry.typed))   # longest first

    # ------------------------------------------------------------ the tree

    def expand(self, root: Node | None) -> tuple[Node | None, tuple[str, ...]]:
        """The query with its expansions, and one French line for each expansion used."""
        if root is None or not self._by_first:
            return root, ()
        notes: list[str] = []
        return self._walk(root, notes), tuple(dict.fromkeys(notes))

    def _walk(self, node: Node, notes: list[str]) -> Node:
        if isinstance(node, Word):
            return self._run([node], notes)[0] if _plain(node) else node
        if isinstance(node, Or):
            return Or(tuple(self._walk(item, notes) for item in node.items))
        if isinstance(node, And):
            items: list[Node] = []
            run: list[Word] = []
            for item in node.items:
                if isinstance(item, Word) and _plain(item):
                    run.append(item)
                    continue
                items.extend(self._run(run, notes))
                run = []
                items.append(item if isinstance(item, (Phrase, Not, Word)) else self._walk(item, notes))
            items.extend(self._run(run, notes))
            return items[0] if len(items) == 1 else And(tuple(items))
        return node   # phrases, exclusions: as written

    def _run(self, words: list[Word], notes: list[str]) -> list[Node]:
        """Consecutive plain words, with the longest entries matched from left to right."""
        if not words:
            return []
        terms = [analyze(word.text) for word in words]
        out: list[Node] = []
        i = 0
        while i < len(words):
            found = self._match(words, terms, i)
            if found is None:
                out.append(words[i])
                i += 1
                continue
            entry, end = found
            typed = words[i:end]
            original: Node = typed[0] if len(typed) == 1 else And(tuple(typed))
            out.append(Or((original, *entry.alternatives)))
            if entry.shown:
                said = " ".join(word.text for word in typed)
                notes.append(f"« {said} » : recherché aussi comme "
                             + ", ".join(f"« {text} »" for text in entry.shown) + ".")
            i = end
        return out

    def _match(self, words: list[Word], terms: list[list[str]], start: int) -> tuple[_Entry, int] | None:
        if not terms[start]:
            return None   # a stop word starts no entry
        for entry in self._by_first.get(terms[start][0], ()):
            end = _span(terms, start, entry.typed)
            if end is None:
                continue
            if entry.written is not None and " ".join(w.text for w in words[start:end]) != entry.written:
                continue
            return entry, end
        return None


def _plain(word: Word) -> bool:
    return word.field is None and not word.wildcard


def _span(terms: list[list[str]], start: int, wanted: tuple[str, ...]) -> int | None:
    """The end (exclusive, in words) of the words from `start` whose terms are `wanted`."""
    got: list[str] = []
    end = start
    while end < len(terms) and len(got) < len(wanted):
        got.extend(terms[end])
        end += 1
        if got != list(wanted[:len(got)]):
            return None
    return end if got == list(wanted) else None
