"""The search box's query language, parsed into an engine-neutral tree.

Forgiving by default: words are all required (AND), accents and case are optional (the
analysis folds them). On top of that, the usual syntax:

    "contrat de ville"        an exact phrase (also « ... » and “ ... ”)
    logement OR habitat       either word (OU and | too)
    -Paris  NOT Paris         exclude
    title:quartier            a field: title, source, theme, kind, type, territory, ref, year
    title:"plan de relance"   a field with a phrase;  theme:(emploi OR santé)  with a group
    renov*                    a wildcard (* any letters, ? one letter)
    (a OR b) c                parentheses

`parse_query` never raises: an unbalanced quote or parenthesis, a dangling OR, a lone `-`,
a field with no value or an unknown field are repaired, and the repair is explained in one
French line (`ParsedQuery.notice`) shown above the results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Union

from indexer.search.analysis import analyze, fold, folded_words, glue_article_ids
from indexer.enrich.legal import query_references

MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 32            # the title of a law is 16: more is a pasted text, not a search
MIN_WILDCARD_LETTERS = 2        # letters before the first * or ?: `a*` would mean every a-word
MAX_DEPTH = 16

# Canonical query fields, with the spellings people type (folded: accents and case optional).
QUERY_FIELDS = ("title", "source", "theme", "kind", "type", "territory", "ref", "cite", "year", "code")
FIELD_ALIASES = {
    "title": "title", "titre": "title",
    "source": "source", "site": "source",
    "theme": "theme", "themes": "theme",
    "kind": "kind", "nature": "kind", "genre": "kind",
    "type": "type", "doc_type": "type",
    "territory": "territory", "territories": "territory", "territoire": "territory",
    "commune": "territory", "lieu": "territory",
    "ref": "ref", "reference": "ref", "references": "ref",
    "cite": "cite", "cites": "cite",
    "year": "year", "annee": "year",
    "code": "code",
}

OPEN_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“"}
QUOTE_CHARS = set(OPEN_QUOTES) | set(OPEN_QUOTES.values())
OR_WORDS = {"OR", "OU", "|", "||"}
AND_WORDS = {"AND", "ET", "&", "&&"}
NOT_WORDS = {"NOT", "SAUF"}
_FIELD_RE = re.compile(r"^([^\W\d_][\w-]*):(.*)$", re.DOTALL)
_WILDCARD_CHARS = "*?"


# ------------------------------------------------------------------ the tree


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None      # one of QUERY_FIELDS; None searches title, summary, content
    wildcard: bool = False        # the text holds * or ?


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Not:
    node: "Node"


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]


Node = Union[Word, Phrase, Not, And, Or]


@dataclass(frozen=True)
class ParsedQuery:
    root: Node | None             # None: no condition on text (every document)
    notice: str = ""              # one French line explaining a repair, or ""
    repairs: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_empty(self) -> bool:
        return self.root is None

    def text(self) -> str:
        """The query written back in its syntax (normalised)."""
        return to_text(self.root) if self.root is not None else ""

    def positive_words(self) -> list[Word | Phrase]:
        """Words and phrases that count towards a match (not under a NOT)."""
        return list(_positive(self.root)) if self.root is not None else []

    def replace_words(self, mapping: dict[str, str]) -> "ParsedQuery":
        """The same query with some plain words swapped (for "did you mean")."""
        if self.root is None:
            return self
        return ParsedQuery(_replace(self.root, mapping), self.notice, self.repairs)


def _positive(node: Node) -> Iterator[Word | Phrase]:
    if isinstance(node, (Word, Phrase)):
        yield node
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from _positive(item)


def _replace(node: Node, mapping: dict[str, str]) -> Node:
    if isinstance(node, Word):
        if node.field is None and not node.wildcard and node.text in mapping:
            return Word(mapping[node.text])
        return node
    if isinstance(node, Not):
        return Not(_replace(node.node, mapping))
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_replace(item, mapping) for item in node.items))
    return node


def to_text(node: Node, top: bool = True) -> str:
    if isinstance(node, Word):
        return f"{node.field}:{node.text}" if node.field else node.text
    if isinstance(node, Phrase):
        return f'{node.field}:"{node.text}"' if node.field else f'"{node.text}"'
    if isinstance(node, Not):
        inner = to_text(node.node, top=False)
        return f"-{inner}"
    if isinstance(node, And):
        text = " ".join(to_text(item, top=False) for item in node.items)
        return text if top else f"({text})"
    if isinstance(node, Or):
        text = " OR ".join(to_text(item, top=False) for item in node.items)
        return text if top else f"({text})"
    raise TypeError(node)


# ------------------------------------------------------------------ lexer


@dataclass(frozen=True)
class _Tok:
    kind: str        # word | phrase | lparen | rparen | or | not
    text: str = ""
    glued: bool = False   # no space since the previous token (field:"..." / field:(...))


class _Repairs:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        if line not in self.lines:
            self.lines.append(line)


def _lex(text: str, repairs: _Repairs) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    glued = False
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            glued = False
            continue
        if ch in "()":
            toks.append(_Tok("lparen" if ch == "(" else "rparen", ch, glued))
            i += 1
            glued = True
            continue
        if ch in OPEN_QUOTES:
            close = OPEN_QUOTES[ch]
            end = text.find(close, i + 1)
            if ch == '"' and end < 0:
                end = -1
            if end < 0:
                repairs.add("Guillemet non fermé : la fin de la requête est cherchée comme une expression exacte.")
                inner, i = text[i + 1:], n
            else:
                inner, i = text[i + 1:end], end + 1
            toks.append(_Tok("phrase", _clean_phrase(inner), glued))
            glued = True
            continue
        if ch in QUOTE_CHARS:  # a closing quote with no opening one
            repairs.add("Guillemet isolé ignoré.")
            i += 1
            glued = False
            continue
        if ch == "-":   # at the start of a token: exclude what follows
            toks.append(_Tok("not", "-", glued))
            i += 1
            glued = True
            continue
        if ch == "+":
            i += 1  # `+word` means required: the default already
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] not in "()" and text[i] not in QUOTE_CHARS:
            i += 1
        word = text[start:i]
        if word in OR_WORDS:
            toks.append(_Tok("or", word, glued))
        elif word in NOT_WORDS:
            toks.append(_Tok("not", word, glued))
        elif word not in AND_WORDS:
            toks.append(_Tok("word", word, glued))
        glued = True
    return toks


def _clean_phrase(text: str) -> str:
    for quote in QUOTE_CHARS:
        text = text.replace(quote, " ")
    return " ".join(text.split())


# ------------------------------------------------------------------ parser


class _Parser:
    def __init__(self, toks: list[_Tok], repairs: _Repairs):
        self.toks = toks
        self.i = 0
        self.repairs = repairs
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node | None:
        items: list[Node] = []
        while self.peek() is not None:
            node = self.parse_or(None)
            if node is not None:
                items.append(node)
            tok = self.peek()
            if tok is not None and tok.kind == "rparen":
                self.repairs.add("Parenthèse fermante sans ouvrante ignorée.")
                self.next()
        return _combine(And, items)

    def parse_or(self, default_field: str | None) -> Node | None:
        groups: list[Node] = []
        group = self.parse_and(default_field)
        dangling = False
        while True:
            if group is not None:
                groups.append(group)
            if not self._at("or"):
                break
            self.next()
            dangling = dangling or group is None      # nothing before the OR
            group = self.parse_and(default_field)
            dangling = dangling or group is None      # nothing after it
        if dangling:
            self.repairs.add("« OR » sans mot de part et d'autre ignoré.")
        return _combine(Or, groups)

    def _at(self, kind: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == kind

    def parse_and(self, default_field: str | None) -> Node | None:
        items: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind in ("rparen", "or"):
                break
            node = self.parse_unary(default_field)
            if node is not None:
                items.append(node)
        return _combine(And, items)

    def parse_unary(self, default_field: str | None) -> Node | None:
        tok = self.peek()
        if tok.kind == "not":
            self.next()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("rparen", "or") or (nxt.kind != "not" and not nxt.glued
                                                               and tok.text == "-"):
                self.repairs.add("Signe « - » seul ignoré : collez-le au mot à exclure (-mot).")
                return None
            node = self.parse_unary(default_field)
            if node is None:
                return None
            return node.node if isinstance(node, Not) else Not(node)
        return self.parse_primary(default_field)

    def parse_primary(self, default_field: str | None) -> Node | None:
        tok = self.next()
        if tok.kind == "lparen":
            return self.parse_group(default_field)
        if tok.kind == "phrase":
            if not tok.text:
                self.repairs.add("Expression vide ignorée.")
                return None
            return Phrase(tok.text, default_field)
        if tok.kind == "word":
            return self.parse_word(tok.text, default_field)
        return None  # unreachable: or/rparen/not are consumed by the callers

    def parse_group(self, default_field: str | None) -> Node | None:
        if self.depth >= MAX_DEPTH:
            self.repairs.add("Trop de parenthèses imbriquées : les plus profondes sont ignorées.")
            return None
        self.depth += 1
        node = self.parse_or(default_field)
        self.depth -= 1
        if self._at("rparen"):
            self.next()
        else:
            self.repairs.add("Parenthèse non fermée : fermée en fin de requête.")
        return node

    def parse_word(self, text: str, default_field: str | None) -> Node | None:
        match = _FIELD_RE.match(text)
        if match:
            name, value = match.group(1), match.group(2)
            canonical = FIELD_ALIASES.get(fold(name))
            if canonical is None:
                if not value.startswith("//"):  # a URL is text, not a mistaken field
                    self.repairs.add(f"Champ inconnu « {name}: » : cherché comme du texte.")
                return _word(text, default_field, self.repairs)
            if value:
                return _word(value, canonical, self.repairs)
            nxt = self.peek()
            if nxt is not None and nxt.glued and nxt.kind in ("phrase", "lparen"):
                self.next()
                if nxt.kind == "lparen":
                    return self.parse_group(canonical)
                if not nxt.text:
                    self.repairs.add("Expression vide ignorée.")
                    return None
                return Phrase(nxt.text, canonical)
            self.repairs.add(f"Champ « {name}: » sans valeur ignoré.")
            return None
        return _word(text, default_field, self.repairs)


def _word(text: str, field_name: str | None, repairs: _Repairs) -> Word | None:
    if not any(ch.isalnum() for ch in text) and not any(ch in text for ch in _WILDCARD_CHARS):
        return None   # punctuation alone: nothing to search, nothing worth a notice
    if any(ch in text for ch in _WILDCARD_CHARS):
        if not text.strip(_WILDCARD_CHARS + "-'’."):
            repairs.add("Joker seul ignoré : mettez au moins deux lettres avant * (renov*).")
            return None
        head = re.split(r"[*?]", text, maxsplit=1)[0]
        if sum(ch.isalnum() for ch in head) < MIN_WILDCARD_LETTERS:
            repairs.add(f"« {text} » ignoré : un joker demande au moins {MIN_WILDCARD_LETTERS} lettres "
                        "avant * ou ? (renov*).")
            return None
        return Word(text, field_name, wildcard=True)
    return Word(text, field_name)


def _combine(cls, items: list[Node]) -> Node | None:
    flat: list[Node] = []
    for item in items:
        if isinstance(item, cls):
            flat.extend(item.items)
        else:
            flat.append(item)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else cls(tuple(flat))


def parse_query(text: str, legal_aliases: Mapping[str, Iterable[str]] | None = None) -> ParsedQuery:
    """Parse what a person typed; never raises. See the module docstring for the syntax.

    `legal_aliases` maps a legal key the query names to other keys of the same text."""
    repairs = _Repairs()
    text = "" if text is None else str(text)
    if len(text) > MAX_QUERY_CHARS:
        repairs.add(f"Requête tronquée à {MAX_QUERY_CHARS} caractères.")
        text = text[:MAX_QUERY_CHARS]
    pieces = text.split()
    if len(pieces) > MAX_QUERY_WORDS:
        repairs.add(f"Requête limitée à ses {MAX_QUERY_WORDS} premiers mots.")
        text = " ".join(pieces[:MAX_QUERY_WORDS])
    # `L. 121-2` is one word, and the star of `R*129-9` no wildcard
    text = glue_article_ids(text)
    root = _Parser(_lex(text, repairs), repairs).parse()
    if root is not None:
        _note_stop_words(root, repairs)
        root = _with_legal_refs(text, root, legal_aliases or {})
    return ParsedQuery(root, " ".join(repairs.lines), tuple(repairs.lines))


def _with_legal_refs(text: str, root: Node, aliases: Mapping[str, Iterable[str]]) -> Node:
    """A plain query naming a legal text (`loi 2014-173`, `2014-173`, `ECOX2023815L`) also
    matches documents whose legal references hold it (the `ref` field): the law itself under
    its number, NOR or ELI, and every text citing it, whatever spelling they used. The other
    words stay required. Queries using the syntax (quotes, fields, OR, NOT, groups) are
    taken as written: `ref:` is there for those."""
    if any(tok.kind != "word" or _FIELD_RE.match(tok.text) for tok in _lex(text, _Repairs())):
        return root
    references = query_references(text)
    if not references:
        return root
    parts: list[Node] = []
    rest, last = [], 0
    for ref in references:
        rest.append(text[last:ref.start])
        last = ref.end
        typed = _Parser(_lex(text[ref.start:ref.end], _Repairs()), _Repairs()).parse()
        named = dict.fromkeys(k for key in ref.keys for k in (key, *aliases.get(key, ())))
        keys: list[Node] = [Word(key, "ref") for key in named]
        parts.append(_combine(Or, ([typed] if typed is not None else []) + keys))
    rest.append(text[last:])
    others = _Parser(_lex(" ".join(rest), _Repairs()), _Repairs()).parse()
    return _combine(And, ([others] if others is not None else []) + parts) or root


def _note_stop_words(root: Node, repairs: _Repairs) -> None:
    """Say so when every positive word is too common to be searched (`les`, `de la`)."""
    words = [node for node in _positive(root) if node.field in (None, "title")]
    if not words or len(words) != len(list(_positive(root))):
        return
    if any(analyze(node.text) for node in words if not getattr(node, "wildcard", False)):
        return
    if any(getattr(node, "wildcard", False) for node in words):
        return
    shown = ", ".join(node.text for node in words[:5])
    repairs.add(f"Mots trop courants pour être cherchés : « {shown} ».")


def required_words(root: "Node | None") -> frozenset[str]:
    """Plain words every match of `root` holds: the root itself, or the words an AND of
    the root requires (not those under an OR, a NOT, or expanded into alternatives)."""
    items = root.items if isinstance(root, And) else (root,) if root is not None else ()
    return frozenset(node.text for node in items
                     if isinstance(node, Word) and node.field is None and not node.wildcard)


def suggestion_words(parsed: ParsedQuery) -> list[str]:
    """Plain words of the query a spelling suggestion may replace (as typed)."""
    return [node.text for node in parsed.positive_words()
            if isinstance(node, Word) and node.field is None and not node.wildcard
            and folded_words(node.text)]
