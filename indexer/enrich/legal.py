"""Legal references in French text: what a document cites, and which legal text it is.

Pure functions, no I/O. Every reference gets a normalised key that is the same whatever the
spelling ("loi n° 2014-173", "LOI no 2014-173", "loi n°2014‑173" -> `loi:2014-173`), so a law
fetched from the Légifrance API, the same law from a JORF Atom feed and a PDF copy in the
library meet on one key, and searching the key finds every text citing it.

Key shapes (the part after the first colon never contains spaces):
- numbered texts: `loi:2014-173`, `ordonnance:2020-1304`, `decret:2020-1576`
- texts cited by date only: `arrete:2021-03-05`, `circulaire:2015-09-29`, `loi:1948-09-01`
- articles: `article:L300-1:code-urbanisme`, `article:55:loi:2000-1208`, `article:L302-5`
- identifiers: `nor:ECOX2023815L`, `eli:/eli/loi/2020/12/14/ECOX2023815L/jo/texte`,
  `jorftext:JORFTEXT000042665307`, `legiarti:LEGIARTI000006815046`, `legitext:LEGITEXT...`
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType
from urllib.parse import quote

from indexer.enrich.legal_vocabulary import (KNOWN_CODES, LEGIFRANCE, LEGIFRANCE_ID_PREFIXES, NATURE_LABELS,
                                             NUMBERED_NATURES)
from indexer.enrich.legal_patterns import (ARTICLES_RE, ARTICLE_NUM_RE, CIRCULAR_NUM_RE,
                                           CODE_AFTER_RE, CODE_GENERIC_RE, CODE_NAMES,
                                           CODE_STOP_WORDS, DATED_RE, ELI_RE, LEGIFRANCE_ID_RE,
                                           NOR_RE, NOT_CODE_NAMES, NUMBERED_RE, NUMBER_MARK,
                                           TEXT_AFTER_RE, TRANSLATE, date_of_match, fold)
from veille.core.dates import french_date
from veille.core.records import Document


@dataclass(frozen=True)
class LegalRef:
    """One legal reference found in a text."""

    kind: str                 # loi, ordonnance, decret, arrete, circulaire, article, nor, eli, jorftext...
    key: str                  # normalised key, e.g. `loi:2014-173`
    text: str                 # the text as matched
    date: date | None = None  # the date of the cited text, when given
    start: int = 0            # offset of the match in the text

    @property
    def label(self) -> str:
        """A short French label: `loi n° 2014-173`, `article L300-1 (code-urbanisme)`."""
        return key_label(self.key)


def code_slug(name: str) -> str:
    """`code de la construction et de l'habitation` -> `code-construction-habitation`."""
    words = re.split(r"[^a-z0-9]+", fold(name))
    return "-".join(w for w in words if w and w not in CODE_STOP_WORDS)


_CODE_SLUGS = {code_slug(name): name for name in KNOWN_CODES}   # slug -> name


_TITLE_ARTICLE_RE = re.compile(r"^\W*article\s+(?P<num>(?:LO|[LRDA])?\.?\s?\*?\s?\d+(?:-\d+)*)\b",
                               re.IGNORECASE)


def code_name(slug: str) -> str:
    """The name of a code from its slug (`code-urbanisme` -> `code de l'urbanisme`), or ""."""
    return _CODE_SLUGS.get(slug, "")


def document_code(doc: Document) -> str | None:
    """The code (its slug) an article of a code belongs to, for a document that is one:
    from its metadata (`extra["code"]`, a name or a slug), else its library folder
    (`code-de-l-urbanisme/...`), else its title or first lines (`... du code de
    l'urbanisme`). None for anything else: a text citing codes belongs to none."""
    title = (doc.title or "").translate(TRANSLATE)
    if not _TITLE_ARTICLE_RE.match(title):
        return None
    given = str((doc.extra or {}).get("code") or "")
    if given:
        slug = given if given in _CODE_SLUGS else code_slug(given)
        if slug in _CODE_SLUGS:
            return slug
    for part in reversed(re.split(r"[/\\]", doc.path or "")[:-1]):
        slug = code_slug(part)
        if slug in _CODE_SLUGS:
            return slug
    head = fold(title + " " + (doc.content or doc.summary or "")[:300].translate(TRANSLATE))
    for name in CODE_NAMES:
        if name in head:
            return code_slug(name)
    return None


def _nature_key(word: str) -> str:
    word = fold(word)
    for nature in ("loi", "ordonnance", "decret", "arrete", "circulaire"):
        if word.startswith(nature):
            return nature
    return word.rstrip("s")


def _article_id(text: str) -> str:
    text = re.sub(r"[\s.*]", "", text)
    if text.lower() == "1er":
        return "1"
    return text[0].upper() + text[1:].lower() if text[0].isalpha() else text.lower()


# ------------------------------------------------------------------ extraction


def extract_legal_refs(text: str) -> list[LegalRef]:
    """Every legal reference in `text`, in order of appearance, each key once (first match)."""
    if not text:
        return []
    text = text.translate(TRANSLATE)
    folded = fold(text)
    refs: list[LegalRef] = []
    refs += _numbered_refs(text)
    refs += _dated_refs(text)
    refs += _article_refs(text, folded)
    refs += _identifier_refs(text)
    refs.sort(key=lambda ref: ref.start)
    seen: set[str] = set()
    unique = []
    for ref in refs:
        if ref.key not in seen:
            seen.add(ref.key)
            unique.append(ref)
    return unique


def legal_keys(text: str) -> list[str]:
    return [ref.key for ref in extract_legal_refs(text)]


def _numbered_refs(text: str) -> list[LegalRef]:
    refs = []
    for match in NUMBERED_RE.finditer(text):
        nature = _nature_key(match.group("nature"))
        when = date_of_match(match, "x")
        if nature == "circulaire":
            continue  # circulaire numbers are free-form: CIRCULAR_NUM_RE below
        refs.append(LegalRef(nature, f"{nature}:{match.group('num')}", match.group(0), when, match.start()))
    for match in CIRCULAR_NUM_RE.finditer(text):
        when = date_of_match(match, "x")
        key = f"circulaire:{when.isoformat()}" if when else f"circulaire:{match.group('cnum')}"
        refs.append(LegalRef("circulaire", key, match.group(0), when, match.start()))
    return refs


def _dated_refs(text: str) -> list[LegalRef]:
    refs = []
    for match in DATED_RE.finditer(text):
        when = date_of_match(match, "x")
        if when is None:
            continue
        nature = _nature_key(match.group("nature"))
        refs.append(LegalRef(nature, f"{nature}:{when.isoformat()}", match.group(0), when, match.start()))
    return refs


def _article_refs(text: str, folded: str) -> list[LegalRef]:
    refs = []
    for match in ARTICLES_RE.finditer(text):
        end = match.end()
        suffix, matched_end = "", end
        code = CODE_AFTER_RE.match(folded, end) or CODE_GENERIC_RE.match(folded, end)
        if code and code.group("code").split()[-1] not in NOT_CODE_NAMES:
            suffix = ":" + code_slug(code.group("code"))
            matched_end = code.end()
        elif after := TEXT_AFTER_RE.match(folded, end):
            cited = NUMBERED_RE.match(text, after.end())
            if cited and _nature_key(cited.group("nature")) in NUMBERED_NATURES:
                suffix = f":{_nature_key(cited.group('nature'))}:{cited.group('num')}"
                matched_end = cited.end()
        matched = text[match.start():matched_end]
        for number in ARTICLE_NUM_RE.finditer(match.group("list")):
            article = _article_id(number.group(0))
            if not suffix and not article[0].isalpha():
                continue  # "article 3" alone: of which text? too vague to key
            refs.append(LegalRef("article", f"article:{article}{suffix}", matched, None, match.start()))
    return refs


def _identifier_refs(text: str) -> list[LegalRef]:
    refs = []
    for match in NOR_RE.finditer(text):
        refs.append(LegalRef("nor", f"nor:{match.group(1)}", match.group(1), None, match.start(1)))
    for match in ELI_RE.finditer(text) if "/eli/" in text else ():
        path = match.group(1).rstrip("/.")
        refs.append(LegalRef("eli", f"eli:{path}", match.group(0), _eli_date(match), match.start()))
    has_ids = any(prefix in text for prefix in LEGIFRANCE_ID_PREFIXES)
    for match in LEGIFRANCE_ID_RE.finditer(text) if has_ids else ():
        ident = match.group(1)
        kind = ident[:8].lower()
        refs.append(LegalRef(kind, f"{kind}:{ident}", ident, None, match.start(1)))
    return refs


def _eli_date(match: re.Match) -> date | None:
    try:
        return date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
    except ValueError:
        return None


# ------------------------------------------------------------------ identity of a text

_TITLE_NUMBERED_RE = re.compile(r"^\s*" + NUMBERED_RE.pattern, re.IGNORECASE)
_TITLE_DATED_RE = re.compile(r"^\s*" + DATED_RE.pattern, re.IGNORECASE)
_NOR_LABEL_RE = re.compile(r"\bNOR\s*:\s*([A-Z]{4}\d{7}[A-Z])\b")
# JO PDFs and Légifrance pages: the title sits on its own line near the top.
_HEAD_LINE_NUMBERED_RE = re.compile(r"(?m)^\s*" + NUMBERED_RE.pattern, re.IGNORECASE)
# After the reference, a colon or a question mark means a headline about the text, not its title.
_COMMENTARY_RE = re.compile(r"\s:\s|\?\s*$")
_ELI_NATURES = {"loi": "loi", "decret": "decret", "arrete": "arrete", "ordonnance": "ordonnance",
                "circulaire": "circulaire"}


def identify_all(title: str, text: str = "", url: str | None = None) -> tuple[str, ...]:
    """Every key naming the document ITSELF, most canonical first; () if not a legal text.

    Numbered texts are keyed by number (the same in every source); others by their
    Légifrance id, else their NOR, else their ELI. Date keys (`arrete:2021-03-05`) come last:
    they let citations by date find the text but are not unique, so never name it alone.
    """
    title = (title or "").translate(TRANSLATE)
    head = (text or "")[:2000].translate(TRANSLATE)
    nor_labels = _NOR_LABEL_RE.findall(head)
    keys: list[str] = []
    dated: list[str] = []
    match = _TITLE_NUMBERED_RE.match(title)
    if match and _COMMENTARY_RE.search(title, match.end()):
        match = None  # "Loi n° 2021-1104 du 22 août 2021 : ce qui change" is news about the law
    if match is None and nor_labels:  # a JO print: its title is a line near the NOR
        match = _HEAD_LINE_NUMBERED_RE.search(head)
    if match and _nature_key(match.group("nature")) != "circulaire":
        nature = _nature_key(match.group("nature"))
        keys.append(f"{nature}:{match.group('num')}")
        if when := date_of_match(match, "x"):
            dated.append(f"{nature}:{when.isoformat()}")
    elif match := _TITLE_DATED_RE.match(title):
        if when := date_of_match(match, "x"):
            dated.append(f"{_nature_key(match.group('nature'))}:{when.isoformat()}")
    legal_source = bool(keys or dated)
    for ident in LEGIFRANCE_ID_RE.findall(url or ""):
        if ident.startswith(("JORFTEXT", "LEGITEXT")):
            keys.append(f"{ident[:8].lower()}:{ident}")
            legal_source = True
    for eli in ELI_RE.finditer(url or ""):
        keys.extend(_eli_keys(eli))
        legal_source = True
    if not legal_source:
        return ()
    keys.extend(f"nor:{nor}" for nor in nor_labels)
    for eli in ELI_RE.finditer(head):
        keys.extend(_eli_keys(eli))
    keys.extend(dated)
    return tuple(dict.fromkeys(keys))


def is_date_key(key: str) -> bool:
    return bool(re.fullmatch(r"[a-z]+:\d{4}-\d\d-\d\d", key))


def identify(title: str, text: str = "", url: str | None = None) -> str | None:
    """The key of the text itself when the document is a legal text (`loi:2014-173`), else None."""
    for key in identify_all(title, text, url):
        if not is_date_key(key):
            return key
    return None


def _eli_keys(match: re.Match) -> list[str]:
    """An ELI names its text by NOR (`.../ECOX2023815L/jo/texte`) or by number (`.../2020-1576/...`)."""
    path = match.group(1).rstrip("/.")
    keys = [f"eli:{path}"]
    nature = _ELI_NATURES.get(match.group("nat"))
    for part in path.split("/")[6:]:
        if NOR_RE.fullmatch(part):
            keys.append(f"nor:{part}")
        elif nature in NUMBERED_NATURES and re.fullmatch(r"\d{2,4}-\d{1,5}", part):
            keys.insert(0, f"{nature}:{part}")
    return keys


def nature_of_title(title: str) -> str:
    """The French nature (`décret`) a title starts with, or '' (doc_type facet value)."""
    match = re.match(r"\s*(?P<w>[^\W\d_]+)", title or "")
    if not match:
        return ""
    word = fold(match.group("w"))
    for nature, label in NATURE_LABELS.items():
        if word == nature or word == nature + "s":
            return label
    return ""


def nature_label(nature: str) -> str:
    """API or key nature (`DECRET`, `decret`) -> French label (`décret`)."""
    folded = fold(nature or "").strip()
    return NATURE_LABELS.get(folded, folded)


# ------------------------------------------------------------------ keys for people and links


def key_label(key: str) -> str:
    kind, _, rest = key.partition(":")
    if kind in NATURE_LABELS:
        label = NATURE_LABELS[kind]
        if re.fullmatch(r"\d{4}-\d\d-\d\d", rest):
            try:
                return f"{label} du {french_date(date.fromisoformat(rest))}"   # « arrêté du 4 juillet 2018 »
            except ValueError:   # a date the text got wrong (31 février): shown as written
                return f"{label} du {rest}"
        return f"{label} n° {rest}"
    if kind == "article":
        number, _, within = rest.partition(":")
        return f"article {number}" + (f" ({key_label(within) if ':' in within else within})" if within else "")
    if kind == "nor":
        return f"NOR {rest}"
    if kind == "eli":
        return f"ELI {rest}"
    return rest or key


def legifrance_url(key: str) -> str:
    """A Légifrance page for `key`: the text itself when the key says which, else a search."""
    kind, _, rest = key.partition(":")
    if kind in ("jorftext", "jorfarti", "jorfcont"):
        return f"{LEGIFRANCE}/jorf/id/{rest}"
    if kind == "legitext":
        return f"{LEGIFRANCE}/loda/id/{rest}"
    if kind == "legiarti":
        return f"{LEGIFRANCE}/codes/article_lc/{rest}"
    if kind == "eli":
        return LEGIFRANCE + rest
    return f"{LEGIFRANCE}/search/all?tab_selection=all&query={quote(_search_words(key))}"


def _search_words(key: str) -> str:
    kind, _, rest = key.partition(":")
    if kind == "article":
        number, _, within = rest.partition(":")
        return f"article {number} " + (within.replace("-", " ") if within.startswith("code") else
                                       _search_words(within) if within else "")
    if kind in NATURE_LABELS:
        return f"{NATURE_LABELS[kind]} {rest}"
    return rest


# ------------------------------------------------------------------ queries

_QUERY_NUMBER_RE = re.compile(
    r"(?:\b(?P<nature>lois?|ordonnances?|d[ée]crets?)\s+(?:" + NUMBER_MARK + r")?)?"
    r"(?<![\w-])(?P<num>(?:\d\d|19\d\d|20\d\d)-\d{1,5})(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class QueryReference:
    """A legal reference typed in a search query: where, and the keys it may stand for."""

    start: int
    end: int
    keys: tuple[str, ...]


def query_references(query: str) -> list[QueryReference]:
    """References in a search query: `loi 2014-173` -> loi:2014-173; a bare `2014-173` -> every
    nature sharing the number sequence; NOR, ELI, Légifrance ids; an article of a named text."""
    query = (query or "").translate(TRANSLATE)
    found: list[QueryReference] = []
    for ref in _article_refs(query, fold(query)):
        if ":" in ref.key[len("article:"):]:  # of a named code or text only
            found.append(QueryReference(ref.start, ref.start + len(ref.text), (ref.key,)))
    for match in _QUERY_NUMBER_RE.finditer(query):
        if any(r.start <= match.start("num") < r.end for r in found) or _after_article_letter(query, match):
            continue
        if match.group("nature"):
            keys: tuple[str, ...] = (f"{_nature_key(match.group('nature'))}:{match.group('num')}",)
        else:
            keys = tuple(f"{nature}:{match.group('num')}" for nature in NUMBERED_NATURES)
        found.append(QueryReference(match.start(), match.end(), keys))
    for ref in _identifier_refs(query):
        found.append(QueryReference(ref.start, ref.start + len(ref.text), (ref.key,)))
    found.sort(key=lambda r: r.start)
    merged: list[QueryReference] = []
    for ref in found:  # an ELI holding a NOR: one reference, both keys
        if merged and ref.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = QueryReference(last.start, max(last.end, ref.end),
                                        tuple(dict.fromkeys(last.keys + ref.keys)))
        else:
            merged.append(ref)
    return merged


def _after_article_letter(query: str, match: re.Match) -> bool:
    """`L. 300-1` is an article number, not a text number."""
    return bool(re.search(r"\b[LRDA]\.?\s?\*?\s?$", query[:match.start("num")]))


def query_keys(query: str) -> list[str]:
    """Every legal key a search query names (see `query_references`)."""
    return list(dict.fromkeys(k for ref in query_references(query) for k in ref.keys))


# ------------------------------------------------------------------ documents

# References are looked for in this much text at most: a 3000-page PDF cites its laws early.
MAX_SCAN_CHARS = 2_000_000


def document_identity(doc: Document) -> tuple[str, ...]:
    """Keys of the document itself: from title, text and URL, from the NOR, ELI and
    Légifrance id a source recorded in `extra` (the Légifrance API gives them), and for an
    article of a code, the article (`article:L142-13:code-urbanisme`)."""
    extra = doc.extra or {}
    keys = list(identify_all(doc.title, doc.content or doc.summary, doc.url))
    code = document_code(doc)
    if code:
        number = _TITLE_ARTICLE_RE.match((doc.title or "").translate(TRANSLATE)).group("num")
        keys.append(f"article:{_article_id(number)}:{code}")
    recorded = []
    if extra.get("jorftext"):
        recorded.append(f"jorftext:{extra['jorftext']}")
    if extra.get("nor"):
        recorded.append(f"nor:{extra['nor']}")
    for eli in (extra.get("eli_alias"), extra.get("eli")):
        for match in ELI_RE.finditer(eli or ""):
            recorded.extend(_eli_keys(match))
    every = keys + recorded
    numbered = [k for k in every if k.split(":")[0] in NUMBERED_NATURES and not is_date_key(k)]
    others = [k for k in every if k not in numbered and not is_date_key(k)]
    return tuple(dict.fromkeys(numbered + others + [k for k in every if is_date_key(k)]))


def link_keys(link: dict) -> tuple[str, ...]:
    """The keys of a text a source links to in a structured way (the DILA's `LIENS/LIEN`,
    recorded as `extra["links"]`: nature, number, cid, target, article, nor, signed, title):
    the key it is cited by first, then other keys prose may cite the same text by (its NOR,
    its Légifrance id, its date). () when the link names nothing keyable."""
    nature = _nature_key(str(link.get("nature") or ""))
    number = str(link.get("number") or "").strip()
    cid = str(link.get("cid") or "").strip()
    target = str(link.get("target") or "").strip()
    article = str(link.get("article") or "").strip()
    signed = str(link.get("signed") or "").strip()
    aliases = []
    if nature == "code":
        title = str(link.get("title") or "").translate(TRANSLATE).split(" - art")[0]
        slug = code_slug(title)
        if article and ARTICLE_NUM_RE.fullmatch(article):
            number_id = _article_id(article)
            keys = [f"article:{number_id}:{slug}"] if slug in _CODE_SLUGS else []
            keys.append(f"article:{number_id}")   # as prose keys "articles L. 211-15 et D. 211-8"
        else:
            keys = [f"legitext:{cid}"] if cid.startswith("LEGITEXT") else []
        if target.startswith("LEGIARTI"):
            aliases.append(f"legiarti:{target}")
        return tuple(dict.fromkeys(keys + aliases))
    if nature in NUMBERED_NATURES and re.fullmatch(r"\d{2,4}-\d{1,5}", number):
        text_key = f"{nature}:{number}"
    elif LEGIFRANCE_ID_RE.fullmatch(cid):
        text_key = f"{cid[:8].lower()}:{cid}"
    else:
        return ()
    keys = [text_key]
    if article and text_key.split(":")[0] in NUMBERED_NATURES and ARTICLE_NUM_RE.fullmatch(article):
        keys.insert(0, f"article:{_article_id(article)}:{text_key}")
    if LEGIFRANCE_ID_RE.fullmatch(cid):
        aliases.append(f"{cid[:8].lower()}:{cid}")
    if LEGIFRANCE_ID_RE.fullmatch(target) and target != cid:
        aliases.append(f"{target[:8].lower()}:{target}")
    if NOR_RE.fullmatch(str(link.get("nor") or "")):
        aliases.append(f"nor:{link['nor']}")
    if nature in NATURE_LABELS and re.fullmatch(r"\d{4}-\d\d-\d\d", signed):
        aliases.append(f"{nature}:{signed}")
    return tuple(dict.fromkeys(keys + aliases))


def cited_by_links(links, prose: list[str]) -> list[str]:
    """What a text cites: the keys found in its prose, each replaced by the key of the
    structured link naming the same text, then the linked texts prose did not name; each
    once. A whole code is left out when some of its articles are linked."""
    linked = [keys for keys in (link_keys(link) for link in links or () if isinstance(link, dict)) if keys]
    codes_with_articles = {str(link.get("cid")) for link in links or ()
                           if isinstance(link, dict) and link.get("article")}
    linked = [keys for keys in linked
              if not (keys[0].startswith("legitext:") and keys[0][9:] in codes_with_articles)]
    primary = {alias: keys[0] for keys in linked for alias in keys}
    return list(dict.fromkeys([primary.get(key, key) for key in prose] + [keys[0] for keys in linked]))


def enrich_legal(doc: Document) -> Document:
    """`doc` with its legal identity and references in `extra` and, for a legal text, its
    nature as `doc_type`:

    - `legal_id`: the key of the text itself (`loi:2014-173`), or absent;
    - `legal_ids`: every key naming the text itself (number, NOR, ELI, Légifrance id, date);
    - `legal_refs`: `legal_ids` then every key the text cites, so that searching a key finds
      the text itself and every text citing it (the source's structured links, when it
      recorded some in `extra["links"]`, merged with the references found in prose);
    - `nor`, when the text states its own NOR and no source recorded one.
    """
    ids = document_identity(doc)
    text = "\n".join(p for p in (doc.title, doc.summary, doc.content) if p)[:MAX_SCAN_CHARS]
    cited = [key for key in cited_by_links((doc.extra or {}).get("links"), legal_keys(text)) if key not in ids]
    extra = {k: v for k, v in (doc.extra or {}).items() if k not in ("legal_id", "legal_ids", "legal_refs")}
    legal_id = next((k for k in ids if not is_date_key(k)), None)
    if legal_id:
        extra["legal_id"] = legal_id
    if ids:
        extra["legal_ids"] = list(ids)
        nor = next((k[4:] for k in ids if k.startswith("nor:")), "")
        if nor and not extra.get("nor"):  # a JO print states its NOR: shown beside the title
            extra["nor"] = nor
    if ids or cited:
        extra["legal_refs"] = list(dict.fromkeys([*ids, *cited]))
    code = document_code(doc)
    if code:
        extra["code"] = code
        number = _TITLE_ARTICLE_RE.match((doc.title or "").translate(TRANSLATE)).group("num")
        extra["article"] = re.sub(r"[\s.*]", "", number).lower()   # as the search analysis writes it
    doc_type = doc.doc_type
    if ids and not doc_type:
        doc_type = (nature_label(extra.get("nature", "")) or nature_of_title(doc.title)
                    or NATURE_LABELS.get(ids[0].split(":")[0], ""))
    return replace(doc, extra=MappingProxyType(extra), doc_type=doc_type)


def cited_keys(doc: Document) -> list[str]:
    """What `doc` cites: its legal_refs that do not name itself."""
    own = set((doc.extra or {}).get("legal_ids", ()))
    return [k for k in (doc.extra or {}).get("legal_refs", ()) if k not in own]


def text_key(key: str) -> str:
    """The text an article key belongs to: `article:55:loi:2000-1208` -> `loi:2000-1208`;
    any other key is its own text."""
    if key.startswith("article:"):
        within = key.split(":", 2)[2] if key.count(":") >= 2 else ""
        if within.split(":")[0] in NATURE_LABELS:
            return within
    return key


def cited_texts(doc: Document) -> list[str]:
    """What `doc` cites, each article also as its text: citing article 5 of a law cites the law."""
    return list(dict.fromkeys(k for key in cited_keys(doc) for k in (key, text_key(key))))
