"""`page` sources: an HTML listing page without a feed, read with CSS selectors.

`parse_listing(body, base_url, select, ...)` is pure: `select` names the CSS selectors of
each item and, inside it, of its link, title, date and summary (`sources.yaml`'s
`select: {item, link, title, date, summary}`). Relative links are resolved against the page
(and its <base href>); dates are read the French way. With `next`, the crawl follows the
"next page" link up to `max_pages` pages; with `follow`, it fetches each item's link.
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup
from bs4.element import Tag

from watch import charset
from watch.dates import parse_french_date
from watch.errors import ParseError
from watch.items import Item, Listing

DEFAULT_MAX_PAGES = 5


def soup_of(body: bytes, encoding: str | None = None, content_type: str = "") -> BeautifulSoup:
    text = body.decode(encoding, errors="replace") if encoding else charset.decode(body, content_type)[0]
    return BeautifulSoup(text, "html.parser")


def parse_listing(body: bytes, base_url: str, select: Mapping[str, str], next_selector: str | None = None,
                  encoding: str | None = None, tz: str = "America/Martinique") -> Listing:
    soup = soup_of(body, encoding)
    base = base_url
    base_tag = soup.find("base", href=True)
    if base_tag is not None:
        base = urljoin(base_url, base_tag["href"])
    try:
        nodes = soup.select(select["item"])
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError
        raise ParseError(f"sélecteur CSS invalide {select['item']!r} : {exc}", url=base_url) from None
    items: list[Item] = []
    warnings: list[str] = []
    seen: set[str] = set()
    no_link = undated = 0
    for node in nodes:
        link = _link(node, select.get("link"), base)
        if link is None:
            no_link += 1
            continue
        url, link_node = link
        if url in seen:
            continue
        seen.add(url)
        title = _text_of(node, select.get("title")) or " ".join(link_node.get_text(" ").split()) or url
        published = None
        if select.get("date"):
            published = _date(node, select["date"], tz)
            if published is None:
                undated += 1
        summary = _text_of(node, select.get("summary")) if select.get("summary") else ""
        items.append(Item(url=url, title=title, summary=summary, published=published))
    if nodes and no_link:
        warnings.append(f"{no_link} élément(s) sans lien ignoré(s)")
    if undated:
        warnings.append(f"{undated} date(s) illisible(s)")
    next_url = None
    if next_selector:
        next_url = _next(soup, next_selector, base)
    title = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    return Listing(items=tuple(items), title=title, warnings=tuple(warnings), next_url=next_url)


def _select_one(node: Tag, selector: str | None) -> Tag | None:
    if not selector:
        return None
    try:
        return node.select_one(selector)
    except Exception as exc:
        raise ParseError(f"sélecteur CSS invalide {selector!r} : {exc}") from None


def _link(node: Tag, selector: str | None, base: str) -> tuple[str, Tag] | None:
    target = _select_one(node, selector) if selector else node
    if target is None:
        return None
    if not target.get("href"):
        target = target if target.name == "a" and target.get("href") else target.find("a", href=True)
        if target is None:
            return None
    href = str(target["href"]).strip()
    url = urljoin(base, href)
    if urlsplit(url).scheme not in ("http", "https"):  # javascript:, mailto:
        return None
    return url.split("#", 1)[0] if "#" in url and url.split("#", 1)[0] else url, target


def _text_of(node: Tag, selector: str | None) -> str:
    target = _select_one(node, selector)
    return " ".join(target.get_text(" ").split()) if target is not None else ""


def _date(node: Tag, selector: str, tz: str):
    target = _select_one(node, selector)
    if target is None:
        return None
    for value in (target.get("datetime"), target.get("content"), target.get_text(" ")):
        if value:
            parsed = parse_french_date(str(value), tz)
            if parsed is not None:
                return parsed
    return None


def _next(soup: BeautifulSoup, selector: str, base: str) -> str | None:
    target = _select_one(soup, selector)
    if target is None:
        return None
    link = _link(target, None, base)
    return link[0] if link else None


def crawl(ctx) -> None:
    """Crawl a `page` source (`ctx` is a watch.crawler.CrawlContext)."""
    options = ctx.source.options
    select = options["select"]
    next_selector = options.get("next")
    max_pages = options.get("max_pages") or (DEFAULT_MAX_PAGES if next_selector else 1)
    follow = bool(options.get("follow"))
    url: str | None = ctx.source_url
    visited: set[str] = set()
    first = None
    found = 0
    while url and url not in visited and len(visited) < max_pages:
        visited.add(url)
        # only the first page is fetched conditionally: if it did not change, nothing did
        result = ctx.fetcher.fetch(url, conditional=first is None)
        if first is None:
            first = result
            ctx.http_status = result.status
            if result.not_modified:
                ctx.not_modified = True
                return
        listing = ctx.reader.parse(parse_listing, result.body, result.final_url, dict(select),
                                   next_selector, encoding=result.encoding, tz=ctx.config.timezone,
                                   url=result.final_url)
        ctx.warnings.extend(listing.warnings)
        found += len(listing.items)
        for item in listing.items:
            ctx.store_item(item, follow=follow)
        url = listing.next_url
    if url and url not in visited and len(visited) >= max_pages:
        ctx.warnings.append(f"pagination arrêtée après {max_pages} page(s) (max_pages)")
    if found == 0:
        raise ParseError(f"aucun élément trouvé avec le sélecteur {select['item']!r} sur {ctx.source.url}",
                         url=ctx.source.url, hint="la page a peut-être changé de structure")
    ctx.fetcher.store_validators(first)
