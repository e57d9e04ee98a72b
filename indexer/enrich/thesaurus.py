"""Themes and territories of a document, tagged from its words with `indexer/enrich/thesaurus.yaml`.

`tag(title, text) -> Tags` is pure: it folds accents, case, hyphens and apostrophes, then
looks up the document's word sequences (longest first) in an index of the thesaurus terms.
`enrich(doc)` fills `Document.themes` / `territories`; library sync and crawlers call it
on the documents they build. The YAML file's format is documented in its header.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import yaml

from indexer.enrich.legal import enrich_legal
from veille.core.records import Document
from veille.core.config_yaml import yaml_problem
from veille.core.errors import VeilleError, os_error_reason

THESAURUS_FILE = Path(__file__).resolve().parent / "thesaurus.yaml"
TERRITORY_KINDS = ("qpv", "quartier", "commune", "intercommunalité", "région", "outre-mer")
DEFAULT_MIN_HITS = 2
# Tagging reads this much of a document's text: the subject of a 300-page report shows in
# its first pages, and the cost of tagging must stay small beside extraction.
MAX_TEXT_CHARS = 400_000


class ThesaurusError(VeilleError):
    code = "thesaurus"


@dataclass(frozen=True)
class Tags:
    themes: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()


# ------------------------------------------------------------------ folding

_FOLD = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O",
                       "đ": "d", "ł": "l", "Ł": "L"})
_WORD = re.compile(r"[^\W_]+")


def fold_accents(text: str) -> str:
    """`Schœlcher` -> `Schoelcher`, `Trénelle` -> `Trenelle`; case is kept."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _stem(word: str) -> str:
    # a plural s/x is not a different word; short words (les, bus, DOM) keep theirs
    return word[:-1] if len(word) > 3 and word[-1] in "sxSX" else word


def words(text: str) -> list[str]:
    """Accent-folded words, case kept; hyphens and apostrophes separate words."""
    return [_stem(w) for w in _WORD.findall(fold_accents(text))]


def _key(term: str, case_sensitive: bool) -> tuple[str, ...]:
    return tuple(w if case_sensitive else w.lower() for w in words(term if case_sensitive else term.lower()))


# ------------------------------------------------------------------ the thesaurus


@dataclass(frozen=True)
class Theme:
    name: str
    keywords: tuple[str, ...]
    case_sensitive: tuple[str, ...] = ()
    min_hits: int = DEFAULT_MIN_HITS


@dataclass(frozen=True)
class Territory:
    name: str
    kind: str
    parents: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    case_sensitive: tuple[str, ...] = ()


_IGNORE = ("ignore", "")


class Thesaurus:
    """The themes and territories, with a word-sequence index built once."""

    def __init__(self, themes: tuple[Theme, ...], territories: tuple[Territory, ...],
                 ignore: tuple[str, ...] = ()):
        self.themes = themes
        self.territories = territories
        self.ignore = ignore
        self._territory = {t.name: t for t in territories}
        self._theme = {t.name: t for t in themes}
        self._labels = {fold_accents(n).casefold(): n for n in (*self._theme, *self._territory)}
        # key -> (kind, name); kind is "theme", "territory" or "ignore"
        self._folded: dict[tuple[str, ...], tuple[str, str]] = {}
        self._exact: dict[tuple[str, ...], tuple[str, str]] = {}
        for theme in themes:
            self._add(theme.keywords, False, ("theme", theme.name))
            self._add(theme.case_sensitive, True, ("theme", theme.name))
        for territory in territories:
            self._add(territory.variants, False, ("territory", territory.name))
            self._add(territory.case_sensitive, True, ("territory", territory.name))
        self._add(ignore, False, _IGNORE)
        self._max_len = max((len(k) for k in (*self._folded, *self._exact)), default=1)
        self._first_folded = {k[0] for k in self._folded}
        self._first_exact = {k[0] for k in self._exact}

    def _add(self, terms, case_sensitive: bool, target: tuple[str, str]) -> None:
        index = self._exact if case_sensitive else self._folded
        for term in terms:
            key = _key(term, case_sensitive)
            if key and (key not in index or target == _IGNORE):
                index[key] = target

    def territory(self, name: str) -> Territory | None:
        return self._territory.get(name)

    def canonical(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """Hand-given theme or territory names spelt as in the thesaurus, duplicates dropped.

        A sidecar typed by a person says "habitat et renouvellement urbain" where the
        thesaurus says "Habitat et renouvellement urbain": one facet value, not two.
        """
        out: dict[str, str] = {}
        for name in names:
            key = fold_accents(name).casefold().strip()
            if key and key not in out:
                out[key] = self._labels.get(key, name.strip())
        return tuple(out.values())

    def theme(self, name: str) -> Theme | None:
        return self._theme.get(name)

    def _hits(self, text: str) -> Counter:
        exact = words(text)
        folded = [w.lower() for w in exact]
        hits: Counter = Counter()
        i, n = 0, len(exact)
        while i < n:
            if folded[i] not in self._first_folded and exact[i] not in self._first_exact:
                i += 1
                continue
            found, length = None, 0
            for size in range(min(self._max_len, n - i), 0, -1):
                target = self._folded.get(tuple(folded[i:i + size]))
                exact_target = self._exact.get(tuple(exact[i:i + size]))
                if target == _IGNORE or exact_target == _IGNORE:
                    found, length = _IGNORE, size
                    break
                if target or exact_target:
                    found, length = target or exact_target, size
                    break
            if found is None:
                i += 1
                continue
            if found != _IGNORE:
                hits[found] += 1
            i += length
        return hits

    def tag(self, title: str, text: str) -> Tags:
        in_title = self._hits(title or "")
        in_text = self._hits((text or "")[:MAX_TEXT_CHARS])
        themes = []
        for theme in self.themes:
            key = ("theme", theme.name)
            if in_title[key] or in_text[key] >= theme.min_hits:
                themes.append((-in_title[key], -in_text[key], theme.name))
        found: dict[str, int] = {}
        for (kind, name), count in (in_title + in_text).items():
            if kind == "territory":
                found[name] = found.get(name, 0) + count
        for name in list(found):
            for parent in self._ancestors(name):
                found.setdefault(parent, 0)
        rank = {kind: i for i, kind in enumerate(TERRITORY_KINDS)}
        territories = sorted(found, key=lambda n: (rank.get(self._territory[n].kind, 99), -found[n], n))
        return Tags(themes=tuple(name for *_, name in sorted(themes)), territories=tuple(territories))

    def _ancestors(self, name: str) -> list[str]:
        out: list[str] = []
        stack = list(self._territory[name].parents)
        while stack:
            parent = stack.pop()
            if parent not in out:
                out.append(parent)
                stack.extend(self._territory[parent].parents)
        return out


# ------------------------------------------------------------------ loading


def _strings(value, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where} : une liste de textes non vides est attendue")
        return ()
    return tuple(value)


def _entries(data: dict, section: str, keys: tuple[str, ...], source: str, problems: list[str]):
    """(entry, where) for each well-formed entry of a section; problems for the others."""
    for i, entry in enumerate(data.get(section) or []):
        where = f"{source} : {section}[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(f"{where} : une table avec un « name » est attendue")
            continue
        where += f" ({entry['name']})"
        extra = set(entry) - {"name", *keys}
        if extra:
            problems.append(f"{where} : clés inconnues {sorted(extra)}")
        yield entry, where


def parse_thesaurus(data, source: str = "thesaurus.yaml") -> Thesaurus:
    """Validate the YAML structure; every problem is listed, naming the entry and key."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ThesaurusError(f"{source} : une table avec « themes » et « territories » est attendue")
    unknown = set(data) - {"themes", "territories", "ignore"}
    if unknown:
        problems.append(f"{source} : clés inconnues {sorted(unknown)}")
    themes: list[Theme] = []
    for entry, where in _entries(data, "themes", ("keywords", "case_sensitive", "min_hits"), source, problems):
        min_hits = entry.get("min_hits", DEFAULT_MIN_HITS)
        if not isinstance(min_hits, int) or isinstance(min_hits, bool) or min_hits < 1:
            problems.append(f"{where}.min_hits : un nombre entier d'au moins 1 est attendu")
            min_hits = DEFAULT_MIN_HITS
        theme = Theme(entry["name"], _strings(entry.get("keywords"), f"{where}.keywords", problems),
                      _strings(entry.get("case_sensitive"), f"{where}.case_sensitive", problems), min_hits)
        if not theme.keywords and not theme.case_sensitive:
            problems.append(f"{where} : aucun mot-clé")
        themes.append(theme)
    territories: list[Territory] = []
    for entry, where in _entries(data, "territories", ("kind", "parents", "variants", "case_sensitive"),
                                 source, problems):
        if entry.get("kind") not in TERRITORY_KINDS:
            problems.append(f"{where}.kind : l'une des valeurs {', '.join(TERRITORY_KINDS)}")
        territory = Territory(entry["name"], entry.get("kind", ""),
                              _strings(entry.get("parents"), f"{where}.parents", problems),
                              _strings(entry.get("variants"), f"{where}.variants", problems),
                              _strings(entry.get("case_sensitive"), f"{where}.case_sensitive", problems))
        if not territory.variants and not territory.case_sensitive:
            problems.append(f"{where} : aucune variante")
        territories.append(territory)
    for label, items in (("thème", themes), ("territoire", territories)):
        counts = Counter(item.name for item in items)
        problems.extend(f"{source} : {label} « {name} » en double" for name, c in counts.items() if c > 1)
    names = {t.name for t in territories}
    for territory in territories:
        for parent in territory.parents:
            if parent not in names:
                problems.append(f"{source} : territoire « {territory.name} » : parent inconnu « {parent} »")
    ignore = _strings(data.get("ignore"), f"{source} : ignore", problems)
    if problems:
        raise ThesaurusError("; ".join(problems))
    thesaurus = Thesaurus(tuple(themes), tuple(territories), ignore)
    for territory in territories:  # a parent cycle would make tagging loop
        if territory.name in thesaurus._ancestors(territory.name):
            raise ThesaurusError(f"{source} : le territoire « {territory.name} » est son propre ancêtre")
    return thesaurus


def load_thesaurus(path: Path = THESAURUS_FILE) -> Thesaurus:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThesaurusError(f"impossible de lire le thésaurus {path} : {os_error_reason(exc)}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ThesaurusError(f"{Path(path).name}{line} : YAML illisible : {yaml_problem(exc)}") from exc
    return parse_thesaurus(data, Path(path).name)


@lru_cache(maxsize=1)
def default_thesaurus() -> Thesaurus:
    return load_thesaurus()


def tag(title: str, text: str) -> Tags:
    """Themes and territories of a document, with the thesaurus shipped in the repo."""
    return default_thesaurus().tag(title, text)


def _merge(first: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *more)))


def enrich(doc: Document, thesaurus: Thesaurus | None = None) -> Document:
    """The document with tagged themes and territories added after the ones it has, and
    its legal identity and references (`indexer.enrich.legal.enrich_legal`: extra legal_id,
    legal_ids, legal_refs; a legal text's nature as doc_type).

    The one enrichment step crawlers and library sync call on every document they build.
    Themes given by hand (library sidecar, source tags) stay first. Call it on a freshly
    built document: tags are only ever added.
    """
    thesaurus = thesaurus or default_thesaurus()
    tags = thesaurus.tag(doc.title, "\n".join(part for part in (doc.summary, doc.content) if part))
    return enrich_legal(replace(
        doc, themes=thesaurus.canonical(_merge(doc.themes, tags.themes)),
        territories=thesaurus.canonical(_merge(doc.territories, tags.territories))))
