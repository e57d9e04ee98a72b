"""HTML pages: the main content as text, without navigation, headers, footers and scripts.

Title and publication date come from the meta tags publishers fill in (Open Graph,
`article:published_time`, Dublin Core, schema.org `datePublished`, `<time>`), in that order
of trust. The content is the page's `<main>` / `<article>` / `[role=main]` when it has one,
else its body with the boilerplate blocks removed.
"""

from __future__ import annotations

import json
import re

from bs4 import BeautifulSoup, CData, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

from indexer.extract import Extracted
from indexer.extract.common import normalize_text, parse_date

# Never content.
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "form",
              "button", "select", "input", "textarea", "object", "embed", "dialog", "link", "meta")
# Page furniture: dropped unless inside the main content (an <article> may have its own header).
_FURNITURE_TAGS = ("nav", "header", "footer", "aside")
_FURNITURE_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search", "menu",
                    "menubar", "toolbar", "dialog", "alert")
# class/id words of furniture blocks (matched as whole words of the attribute)
_FURNITURE_WORDS = re.compile(
    r"(?:^|[\s_-])(nav|navbar|navigation|menu|breadcrumbs?|fil-ariane|ariane|cookies?|cookie-banner|"
    r"rgpd|consent|share|sharing|partage|social|sidebar|footer|header|masthead|skip|skiplinks|"
    r"evitement|pagination|pager|related|newsletter|banner|advert|ads|pub|print|tools|outils)"
    r"(?:$|[\s_-])", re.IGNORECASE)
_BLOCK_TAGS = ("p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6",
               "li", "ul", "ol", "dl", "dt", "dd", "table", "tr", "blockquote", "pre", "br",
               "hr", "figure", "figcaption", "address", "header", "footer", "details", "summary",
               "caption")

_TITLE_META = (("property", "og:title"), ("name", "twitter:title"), ("name", "dc.title"),
               ("name", "dcterms.title"), ("name", "title"))
_DATE_META = (("property", "article:published_time"), ("name", "article:published_time"),
              ("name", "dc.date"), ("name", "dcterms.date"), ("name", "dc.date.issued"),
              ("name", "dcterms.issued"), ("name", "dcterms.created"), ("itemprop", "datePublished"),
              ("name", "date"), ("name", "publication_date"), ("name", "pubdate"),
              ("property", "og:published_time"), ("name", "citation_publication_date"),
              ("name", "citation_date"))
_AUTHOR_META = (("name", "author"), ("property", "article:author"), ("name", "dc.creator"),
                ("name", "dcterms.creator"), ("name", "citation_author"))
_WHITESPACE = re.compile(r"[ \t\r\n\f]+")
_TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+|\s+::\s+")


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


# Deeper nesting than any real page has: BeautifulSoup's tree costs quadratic time and then
# recursion to walk (10 000 nested <div> take 20 s), so such a page is read without a tree.
MAX_DEPTH = 512
DEPTH_REASON = f"structure HTML imbriquée sur plus de {MAX_DEPTH} niveaux : texte lu sans la mise en page"
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# elements whose end tag may be left out: sloppy pages leave hundreds open, parsers close them
_OPTIONAL_END = frozenset("p li dt dd tr td th option optgroup thead tbody tfoot colgroup rp rt".split())
_BLOCKS = frozenset("address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 "
                    "h3 h4 h5 h6 header hr li main nav ol p pre section table td th tr ul".split())
_SCRIPT_STYLE_RE = re.compile(r"<(script|style|template|head)\b.*?</\1\s*>", re.S | re.I)


# More elements than any article has: BeautifulSoup keeps ~1 kB per node (a 39 MB page of
# small elements took 4.8 GB and 200 s), so a page this big is read flat, in linear time
# and memory; its text is all there, only the main-content detection is skipped.
MAX_TREE_TAGS = 200_000
SIZE_REASON = "page très volumineuse : texte lu sans la mise en page"


def too_big_for_a_tree(html: str, limit: int = MAX_TREE_TAGS) -> bool:
    return html.count("<", 0, len(html)) > limit


def too_deep(html: str, limit: int = MAX_DEPTH) -> bool:
    """Whether elements nest deeper than `limit` (a linear scan, no tree built)."""
    depth = 0
    for match in _TAG_RE.finditer(html):
        closing, name, self_closing = match.groups()
        name = name.lower()
        if name in _VOID or name in _OPTIONAL_END or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > limit:
                return True
    return False


# Characters of text a flat read keeps at most (a little over what `Limits.max_chars`
# keeps): the rest of a monstrous page is not even scanned.
FLAT_TEXT_BUDGET = 11_000_000
_FLAT_PIECE = 1 << 20


def flat_text(html: str, budget: int = FLAT_TEXT_BUDGET) -> str:
    """The text of a page read without a tree: tags become spaces, block tags line breaks.

    Read piece by piece (cut before a `<`), so memory stays a small multiple of the page
    whatever its markup, and the reading stops once `budget` characters of text are kept."""
    import html as html_lib

    html = _SCRIPT_STYLE_RE.sub(" ", html)

    def replace(match: re.Match) -> str:
        return "\n" if match.group(2).lower() in _BLOCKS else " "

    parts: list[str] = []
    kept = start = 0
    while start < len(html) and kept < budget:
        end = html.find("<", start + _FLAT_PIECE) if start + _FLAT_PIECE < len(html) else -1
        end = len(html) if end < 0 else end
        text = normalize_text(html_lib.unescape(_TAG_RE.sub(replace, html[start:end])))
        if text:
            parts.append(text)
            kept += len(text)
        start = end
    return "\n".join(parts)


def _meta(soup: BeautifulSoup, keys) -> list[str]:
    values = []
    for attr, name in keys:
        for tag in soup.find_all("meta", attrs={attr: re.compile(f"^{re.escape(name)}$", re.I)}):
            content = (tag.get("content") or "").strip()
            if content:
                values.append(content)
    return values


def _json_ld(soup: BeautifulSoup) -> list[dict]:
    """schema.org objects from JSON-LD blocks (Article, NewsArticle, WebPage...)."""
    objects: list[dict] = []
    for script in soup.find_all("script", attrs={"type": re.compile("ld\\+json", re.I)}):
        try:
            data = json.loads(script.string or "")
        except (ValueError, TypeError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                objects.append(item)
                if "@graph" in item:
                    stack.append(item["@graph"])
    return objects


def _is_furniture(tag: Tag) -> bool:
    if tag.name in _FURNITURE_TAGS:
        return True
    if (tag.get("role") or "").lower() in _FURNITURE_ROLES:
        return True
    if tag.get("aria-hidden") == "true" or tag.has_attr("hidden"):
        return True
    style = (tag.get("style") or "").replace(" ", "").lower()
    if "display:none" in style:
        return True
    words = " ".join([*(tag.get("class") or []), tag.get("id") or ""])
    # <body class="page-article"> or <main class="main"> must not vanish
    return bool(words) and tag.name not in ("body", "main", "article") and bool(_FURNITURE_WORDS.search(words))


def _main_node(soup: BeautifulSoup) -> Tag:
    for finder in (lambda: soup.find("main"), lambda: soup.find(attrs={"role": "main"}),
                   lambda: _largest_article(soup), lambda: soup.find(id=re.compile(r"^(main-)?content$|^main$", re.I))):
        node = finder()
        if node is not None and node.get_text(strip=True):
            return node
    return soup.body or soup


def _largest_article(soup: BeautifulSoup) -> Tag | None:
    articles = soup.find_all("article")
    if len(articles) == 1:
        return articles[0]
    if articles:  # a listing page: several articles are the content together
        return None
    return None


def _text_of(node: Tag) -> str:
    """Text as a browser lays it out: source whitespace collapsed, blocks on their own lines."""
    parts: list[str] = []

    def walk(element, pre: bool) -> None:
        for child in element.children:
            if isinstance(child, NavigableString):
                if isinstance(child, (Comment, Doctype, ProcessingInstruction, Declaration, CData)):
                    continue
                parts.append(str(child) if pre else _WHITESPACE.sub(" ", str(child)))
            elif isinstance(child, Tag):
                block = child.name in _BLOCK_TAGS
                if block:
                    parts.append("\n")
                walk(child, pre or child.name == "pre")
                if child.name in ("td", "th"):
                    parts.append(" ")
                elif block:
                    parts.append("\n")

    walk(node, node.name == "pre")
    return "".join(parts)


def _strip(node: Tag, keep_inner_furniture: bool) -> None:
    for comment in node.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in node.find_all(_DROP_TAGS):
        tag.decompose()
    doomed = []
    for tag in node.find_all(True):
        if not _is_furniture(tag):
            continue
        # inside <article>, a <header> holds the headline and date: keep it
        if keep_inner_furniture and tag.name in ("header", "footer") and tag.find_parent("article"):
            continue
        doomed.append(tag)
    for tag in doomed:
        tag.extract()  # extracting an ancestor first leaves this one detached: harmless


def html_to_text(html: str) -> str:
    """The readable main content of an HTML page, one paragraph per line."""
    if too_big_for_a_tree(html) or too_deep(html):
        return flat_text(html)
    soup = _soup(html)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    main = _main_node(soup)
    _strip(main, keep_inner_furniture=True)
    return normalize_text(_text_of(main))


def _title(soup: BeautifulSoup, main_text_node: Tag | None) -> str:
    for value in _meta(soup, _TITLE_META):
        return value
    for obj in _json_ld(soup):
        if isinstance(obj.get("headline"), str):
            return obj["headline"]
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        return h1.get_text(" ", strip=True)
    if soup.title and soup.title.string:
        # "Titre de l'article | Nom du site": the site's name comes last
        parts = [part for part in _TITLE_SEPARATORS.split(soup.title.string.strip()) if part]
        return parts[0] if parts else ""
    return ""


def _published(soup: BeautifulSoup):
    for value in _meta(soup, _DATE_META):
        date = parse_date(value)
        if date:
            return date
    for obj in _json_ld(soup):
        date = parse_date(obj.get("datePublished") if isinstance(obj.get("datePublished"), str) else None)
        if date:
            return date
    for time in soup.find_all("time"):
        date = parse_date(time.get("datetime") or time.get_text(strip=True))
        if date:
            return date
    return None


def _authors(soup: BeautifulSoup) -> tuple[str, ...]:
    names: list[str] = []
    for value in _meta(soup, _AUTHOR_META):
        if not value.startswith("http") and value not in names:
            names.append(value)
    return tuple(names)


def _language(soup: BeautifulSoup) -> str:
    html = soup.find("html")
    lang = (html.get("lang") or html.get("xml:lang") or "") if html else ""
    if not lang:
        values = _meta(soup, (("http-equiv", "content-language"), ("property", "og:locale")))
        lang = values[0] if values else ""
    return lang.replace("_", "-").split("-")[0].lower()[:2] if lang else ""


def decode_html(data: bytes) -> str:
    """Bytes of a page as text: BOM, then <meta charset>, then charset detection."""
    from indexer.extract.text import decode_bytes

    head = data[:2048].lower()
    match = re.search(rb"""<meta[^>]+charset=["']?([a-z0-9_-]+)""", head)
    if match and not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        label = match.group(1).decode("ascii")
        # as browsers do (WHATWG Encoding): these labels mean windows-1252
        if label in ("iso-8859-1", "latin1", "latin-1", "ascii", "us-ascii", "iso8859-1"):
            label = "cp1252"
        try:
            return data.decode(label)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(data)


def extract_html_text(html: str) -> Extracted:
    if too_deep(html):
        return Extracted(text=flat_text(html), reason=DEPTH_REASON)
    if too_big_for_a_tree(html):
        return Extracted(text=flat_text(html), reason=SIZE_REASON)
    soup = _soup(html)
    title = _title(soup, None)
    published = _published(soup)
    authors = _authors(soup)
    language = _language(soup)
    text = html_to_text(html)
    return Extracted(text=text, title=title, authors=authors, published=published,
                     language=language)


def extract_html(data: bytes) -> Extracted:
    return extract_html_text(decode_html(data))
