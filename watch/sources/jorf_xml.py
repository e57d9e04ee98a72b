"""The XML of the DILA's JORF open data, parsed: texts, articles, structures, removals.

One archive member holds one record (`<horodatage>/jorf/global/...`):
- `texte/version/JORF/TEXT/.../JORFTEXT….xml` (TEXTE_VERSION): a text's metadata, notice,
  visas, signatories and its structured links (`LIENS/LIEN`);
- `texte/struct/JORF/TEXT/.../JORFTEXT….xml` (TEXTELR): the order of its articles (`LIEN_ART`);
- `article/JORF/ARTI/.../JORFARTI….xml` (ARTICLE): one article, `CONTEXTE/TEXTE@cid` naming
  its text, `BLOC_TEXTUEL/CONTENU` in HTML;
- `liste_suppression_jorf.dat`: paths of the records withdrawn.

Pure functions over bytes; the XML parser refuses entities and external references
(defusedxml), so a billion-laughs file is a `ParseError`, not a memory blow-up. `2999-01-01`
is the source's "no date": it never becomes one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable
from xml.etree.ElementTree import Element, ParseError as XmlSyntaxError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from indexer.enrich.legal import LEGIFRANCE
from watch.errors import ParseError
from watch.text import html_to_text

UNKNOWN_DATE = "2999-01-01"
TEXT_PAGE = LEGIFRANCE + "/jorf/id/{cid}"
_ID_RE = re.compile(r"JORF(?:TEXT|ARTI)\d{12}")


@dataclass(frozen=True)
class JorfLink:
    """A link a text states to another (`LIENS/LIEN`): a text or one of its articles."""

    kind: str            # typelien: CITATION, APPLICATION, MODIFIE ...
    nature: str          # naturetexte of the linked text: LOI, DECRET, ARRETE, CODE ...
    number: str = ""     # numtexte: "2025-391"
    cid: str = ""        # the linked text: JORFTEXT… or LEGITEXT… (a code)
    target: str = ""     # the text, or the article (JORFARTI…, LEGIARTI…) linked
    article: str = ""    # num: the article's number ("16", "L211-15"), "" for a whole text
    nor: str = ""
    signed: date | None = None
    title: str = ""      # as the link reads: "LOI n°2025-391 du 30 avril 2025 - art. 16"


@dataclass(frozen=True)
class JorfArticle:
    id: str              # JORFARTI…
    text: str            # the JORFTEXT… it belongs to
    number: str          # "1", "2", "annexe" …
    content: str         # plain text, tables one row per line
    published: date | None = None


@dataclass(frozen=True)
class DilaText:
    """A text of the Journal officiel as TEXTE_VERSION gives it."""

    cid: str
    title: str                       # TITREFULL, else TITRE
    nature: str = ""                 # ARRETE, DECRET, LOI ...
    nor: str = ""
    number: str = ""                 # NUM: "2013-776", "" for most arrêtés
    eli: str = ""
    eli_aliases: tuple[str, ...] = ()
    ministry: str = ""
    published: date | None = None    # DATE_PUBLI
    signed: date | None = None       # DATE_TEXTE
    jo: str = ""                     # ORIGINE_PUBLI: "JORF n°0220 du 20 septembre 2026"
    jo_number: str = ""              # NUM_PARUTION: "0220"
    keywords: tuple[str, ...] = ()   # MCS_TXT
    notice: str = ""
    visas: str = ""
    signatories: str = ""
    links: tuple[JorfLink, ...] = ()

    @property
    def url(self) -> str:
        return TEXT_PAGE.format(cid=self.cid)


@dataclass(frozen=True)
class JorfStruct:
    """The order of a text's articles (TEXTELR `STRUCT`), with section titles between them."""

    cid: str
    parts: tuple[tuple[str, str], ...]   # ("article", JORFARTI…) or ("section", title)


# ------------------------------------------------------------------ XML


def parse_xml(data: bytes, what: str) -> Element:
    """The root of an XML record; entities, DTD tricks and bad syntax raise ParseError."""
    try:
        return fromstring(data)
    except DefusedXmlException as exc:
        raise ParseError(f"{what} : XML refusé (entités ou références externes interdites : "
                         f"{type(exc).__name__})") from None
    except XmlSyntaxError as exc:
        raise ParseError(f"{what} : XML illisible ({exc})") from None


def _text(root: Element, path: str) -> str:
    node = root.find(path)
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def stated_date(value: str | None) -> date | None:
    """A date as the source writes it (`2026-09-20`); its "unknown" (`2999-01-01`) is None."""
    value = (value or "").strip()
    if not value or value == UNKNOWN_DATE:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def html_text(node: Element | None) -> str:
    """Readable text of an HTML block (`CONTENU`): tables one row per line, cells ` | `."""
    if node is None or (not len(node) and not (node.text or "").strip()):
        return ""
    for table in list(node.iter("table")):
        rows = []
        for row in table.iter("tr"):
            cells = [" ".join("".join(cell.itertext()).split()) for cell in row if cell.tag in ("td", "th")]
            if any(cells):
                rows.append(" | ".join(cells))
        tail = table.tail
        table.clear()
        table.tag, table.tail = "div", tail
        for line in rows:
            paragraph = Element("p")
            paragraph.text = line
            table.append(paragraph)
    inner = (node.text or "") + "".join(tostring(child, encoding="unicode") for child in node)
    return html_to_text(inner) if inner.strip() else ""


# ------------------------------------------------------------------ records


def parse_text_version(data: bytes, what: str = "texte") -> DilaText:
    root = parse_xml(data, what)
    if root.tag != "TEXTE_VERSION":
        raise ParseError(f"{what} : pas un TEXTE_VERSION mais <{root.tag}>")
    cid = _text(root, "META/META_SPEC/META_TEXTE_CHRONICLE/CID") or _text(root, "META/META_COMMUN/ID")
    if not _ID_RE.fullmatch(cid) or not cid.startswith("JORFTEXT"):
        raise ParseError(f"{what} : identifiant JORFTEXT absent")
    chronicle = "META/META_SPEC/META_TEXTE_CHRONICLE/"
    version = "META/META_SPEC/META_TEXTE_VERSION/"
    return DilaText(
        cid=cid,
        title=_text(root, version + "TITREFULL") or _text(root, version + "TITRE") or cid,
        nature=_text(root, "META/META_COMMUN/NATURE"), nor=_text(root, chronicle + "NOR"),
        number=_text(root, chronicle + "NUM"), eli=_text(root, "META/META_COMMUN/ID_ELI"),
        eli_aliases=tuple(_text_of(e) for e in root.iterfind("META/META_COMMUN/ELI_ALIAS/ID_ELI_ALIAS")
                          if _text_of(e)),
        ministry=_text(root, version + "MINISTERE"),
        published=stated_date(_text(root, chronicle + "DATE_PUBLI")),
        signed=stated_date(_text(root, chronicle + "DATE_TEXTE")),
        jo=_text(root, chronicle + "ORIGINE_PUBLI"), jo_number=_text(root, chronicle + "NUM_PARUTION"),
        keywords=tuple(_text_of(e) for e in root.iterfind(version + "MCS_TXT/MC") if _text_of(e)),
        notice=html_text(root.find("NOTICE/CONTENU")), visas=html_text(root.find("VISAS/CONTENU")),
        signatories=html_text(root.find("SIGNATAIRES/CONTENU")),
        links=tuple(_link(e) for e in root.iterfind(version + "LIENS/LIEN")))


def _text_of(node: Element) -> str:
    return " ".join("".join(node.itertext()).split())


def _link(node: Element) -> JorfLink:
    get = lambda name: (node.get(name) or "").strip()  # noqa: E731
    return JorfLink(kind=get("typelien"), nature=get("naturetexte"), number=get("numtexte"),
                    cid=get("cidtexte"), target=get("id"), article=get("num"), nor=get("nortexte"),
                    signed=stated_date(get("datesignatexte")), title=_text_of(node))


def parse_article(data: bytes, what: str = "article") -> JorfArticle:
    root = parse_xml(data, what)
    if root.tag != "ARTICLE":
        raise ParseError(f"{what} : pas un ARTICLE mais <{root.tag}>")
    ident = _text(root, "META/META_COMMUN/ID")
    context = root.find("CONTEXTE/TEXTE")
    text = (context.get("cid") or "").strip() if context is not None else ""
    if not ident.startswith("JORFARTI") or not text.startswith("JORFTEXT"):
        raise ParseError(f"{what} : article sans identifiant ou sans texte de rattachement")
    return JorfArticle(id=ident, text=text, number=_text(root, "META/META_SPEC/META_ARTICLE/NUM"),
                       content=html_text(root.find("BLOC_TEXTUEL/CONTENU")),
                       published=stated_date(context.get("date_publi")))


def parse_struct(data: bytes, what: str = "structure") -> JorfStruct:
    root = parse_xml(data, what)
    if root.tag != "TEXTELR":
        raise ParseError(f"{what} : pas un TEXTELR mais <{root.tag}>")
    cid = _text(root, "META/META_SPEC/META_TEXTE_CHRONICLE/CID") or _text(root, "META/META_COMMUN/ID")
    parts = []
    for node in root.iterfind("STRUCT/*"):
        if node.tag == "LIEN_ART" and node.get("id"):
            parts.append(("article", node.get("id")))
        elif node.tag == "LIEN_SECTION_TA" and _text_of(node):
            parts.append(("section", _text_of(node)))
    return JorfStruct(cid=cid, parts=tuple(parts))


def parse_suppressions(data: bytes) -> tuple[str, ...]:
    """The JORFTEXT ids of the texts a `liste_suppression_jorf.dat` withdraws (its lines are
    paths of records; those of articles or structures alone withdraw no text)."""
    ids = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        parts = line.strip().rstrip("/").split("/")
        name = parts[-1].removesuffix(".xml") if parts else ""
        if name.startswith("JORFTEXT") and _ID_RE.fullmatch(name) and "version" in parts:
            ids.append(name)
    return tuple(dict.fromkeys(ids))


# ------------------------------------------------------------------ reading order


def article_order(articles: Iterable[JorfArticle], struct: JorfStruct | None = None) -> list[tuple[str, object]]:
    """The text's body in reading order: ("section", title) and ("article", JorfArticle).

    The structure says the order when it came along; otherwise articles sort by number
    (`1`, `2`, `10`, `annexe`)."""
    by_id = {a.id: a for a in articles}
    ordered: list[tuple[str, object]] = []
    if struct is not None:
        for kind, value in struct.parts:
            if kind == "section":
                ordered.append(("section", value))
            elif value in by_id:
                ordered.append(("article", by_id.pop(value)))
    ordered += [("article", a) for a in sorted(by_id.values(), key=_number_key)]
    return ordered


def _number_key(article: JorfArticle) -> tuple:
    parts = re.findall(r"\d+|\D+", article.number.lower())
    return (not article.number[:1].isdigit(),
            tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts), article.id)


def body_text(text: DilaText, articles: Iterable[JorfArticle], struct: JorfStruct | None = None) -> str:
    """The full text as read in the JO: notice, visas, articles in order, signatories."""
    parts = [f"Notice : {text.notice}" if text.notice else "", text.visas]
    for kind, value in article_order(articles, struct):
        if kind == "section":
            parts.append(str(value))
        else:
            heading = f"Article {value.number}" if value.number else "Article"
            parts.append(f"{heading}\n\n{value.content}" if value.content else heading)
    parts.append(text.signatories)
    return "\n\n".join(p.strip() for p in parts if p and p.strip())
