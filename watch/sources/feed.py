"""`feed` sources: RSS 0.9x/1.0/2.0 and Atom, through feedparser.

`parse_feed(body, base_url, content_type)` is pure. An ill-formed feed that feedparser can
recover ("bozo") keeps its entries and yields a warning; a body that is no feed at all
raises ParseError.

An entry without a link (notices, announcements) is kept, as feed readers keep it: its
`url` is None, and the crawler identifies it by its id (guid) or, without one, by its
content (`entry_key`); the feed's own page is offered instead of the original.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import feedparser

from indexer.extract.common import parse_date
from watch.errors import ParseError
from watch.items import Item, Listing, entry_key
from watch.text import html_to_text


# Entries read from one feed at most: feedparser holds them all in memory and takes seconds
# per ten thousand, so a feed of a million entries is cut before parsing, with a warning.
MAX_FEED_ENTRIES = 5000
_ENTRY_START = re.compile(rb"<(?:[A-Za-z0-9_]+:)?(?:item|entry)[\s>/]")


def _cut_entries(body: bytes, limit: int) -> tuple[bytes, int]:
    """`body` cut before its entry number `limit + 1`, and the number of entries it had."""
    starts = [m.start() for m in _ENTRY_START.finditer(body)]
    if len(starts) <= limit:
        return body, len(starts)
    return body[:starts[limit]], len(starts)


def parse_feed(body: bytes, base_url: str, content_type: str = "",
               max_entries: int = MAX_FEED_ENTRIES) -> Listing:
    body, total = _cut_entries(body, max_entries)
    cut_warning = (f"flux tronqué : {total} entrées, seules les {max_entries} premières ont été lues"
                   if total > max_entries else "")
    headers = {"content-location": base_url}
    if content_type:
        headers["content-type"] = content_type
    # entry HTML is only ever turned into plain text, so feedparser's sanitiser and URI
    # rewriting (most of its time on large feeds such as the JORF's) would be wasted
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    warnings: list[str] = [cut_warning] if cut_warning else []
    problem = parsed.get("bozo_exception")
    if cut_warning:  # the cut leaves the XML unclosed: that is ours, not the feed's fault
        problem, parsed["bozo"] = None, False
    # a feed served as text/html or without Content-Type is common and harmless
    if parsed.get("bozo") and not isinstance(problem, feedparser.NonXMLContentType):
        reason = f"{type(problem).__name__}: {problem}" if problem else "inconnu"
        if not parsed.entries and not parsed.get("version"):
            raise _not_a_feed(body, base_url, f"pas un flux RSS/Atom lisible ({reason})")
        warnings.append(f"flux mal formé, {len(parsed.entries)} entrées récupérées ({reason[:300]})")
    if not parsed.entries and not parsed.get("version"):
        raise _not_a_feed(body, base_url, "pas un flux RSS/Atom (page HTML ou autre contenu ?)")
    items: list[Item] = []
    seen: dict[str, int] = {}
    for entry in parsed.entries:
        item = _item(entry, base_url)
        key = entry_key(item)
        if key in seen:
            # some generators repeat entries, not always the fullest first (the JORF feeds
            # of legifrss list a text again with empty content): keep the fullest
            kept = items[seen[key]]
            if len(item.content) > len(kept.content):
                items[seen[key]] = item
            continue
        seen[key] = len(items)
        items.append(item)
    link = urljoin(base_url, str(parsed.feed.get("link") or "").strip())
    return Listing(items=tuple(items), title=_text(parsed.feed.get("title", "")), warnings=tuple(warnings),
                   link=link if _is_http(link) and link != base_url else "")



def _not_a_feed(body: bytes, base_url: str, message: str) -> ParseError:
    announced = announced_feeds(body, base_url)
    hint = (f"la page annonce le flux {announced[0]} : le mettre dans url" if announced
            else "vérifier l'adresse du flux")
    return ParseError(message, url=base_url, hint=hint)


_ALTERNATE_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")


def announced_feeds(body: bytes, base_url: str) -> list[str]:
    """Feeds an HTML page announces (<link rel="alternate" type="application/rss+xml">)."""
    if b"<link" not in body[:200_000].lower():
        return []
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body[:200_000], "html.parser")
    found = []
    for link in soup.find_all("link", href=True):
        rel = [r.lower() for r in (link.get("rel") or [])]
        if "alternate" in rel and (link.get("type") or "").lower() in _ALTERNATE_TYPES:
            url = urljoin(base_url, link["href"].strip())
            if _is_http(url) and url not in found:
                found.append(url)
    return found


def _item(entry, base_url: str) -> Item:
    guid = str(entry.get("id") or "").strip()
    link = str(entry.get("link") or "").strip()
    if not link:
        for candidate in entry.get("links", ()):
            if candidate.get("href"):
                link = candidate["href"]
                break
    if not link and _is_http(guid):
        link = guid
    url = urljoin(base_url, link) if link else None
    if url is not None and not _is_http(url):   # javascript:, mailto: ... no link to offer
        url = None
    content = ""
    for part in entry.get("content", ()) or ():
        text = _text(part.get("value", ""), paragraphs=True)
        if len(text) > len(content):
            content = text
    summary = _text(entry.get("summary", ""))
    if summary == content:
        summary = _shorten(content)
    title = _text(entry.get("title", "")) or _shorten(summary or content, 120) or url or "(sans titre)"
    authors = tuple(a.get("name", "") for a in entry.get("authors", ()) if a.get("name"))
    return Item(url=url, title=title, summary=summary, content=content, guid=guid,
                published=_date(entry), authors=authors, attachments=_documents_attached(entry, base_url))


DOCUMENT_TYPES = ("application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  "application/vnd.oasis.opendocument.text")
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".odt")


def _documents_attached(entry, base_url: str) -> tuple[str, ...]:
    """Enclosures that are documents (PDF, DOCX, ODT), not podcasts or pictures."""
    found = []
    for enclosure in entry.get("enclosures", ()) or ():
        href = (enclosure.get("href") or "").strip()
        kind = (enclosure.get("type") or "").split(";")[0].strip().lower()
        path = href.split("?", 1)[0].lower()
        if href and (kind in DOCUMENT_TYPES or path.endswith(DOCUMENT_SUFFIXES)):
            url = urljoin(base_url, href)
            if _is_http(url) and url not in found:
                found.append(url)
    return tuple(found)


def _date(entry) -> datetime | None:
    """The entry's date as the feed states it, offset kept: feedparser's `*_parsed` values
    are in UTC, which moves `2020-12-23T01:00:00+01:00` to the 22nd in Martinique."""
    for key in ("published", "updated", "created"):
        stated = parse_date(entry.get(key)) if isinstance(entry.get(key), str) else None
        if stated is not None:
            return stated
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _text(value: str, paragraphs: bool = False) -> str:
    """Plain text of a feed field (feedparser gives sanitised HTML or text)."""
    value = str(value or "")
    if "<" in value or "&" in value:
        value = html_to_text(value)
    if paragraphs:
        return "\n".join(line.strip() for line in value.splitlines() if line.strip())
    return " ".join(value.split())


def _shorten(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def _is_http(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def crawl(ctx) -> None:
    """Crawl a `feed` source (`ctx` is a watch.crawler.CrawlContext)."""
    result = ctx.fetcher.fetch(ctx.source_url, accept=FEED_ACCEPT)
    ctx.http_status = result.status
    if result.not_modified:
        ctx.not_modified = True
        return
    listing = ctx.reader.parse(parse_feed, result.body, result.final_url,
                               result.headers.get("content-type", ""), url=result.final_url)
    ctx.warnings.extend(listing.warnings)
    items = listing.items
    limit = ctx.source.options.get("max_entries")
    if limit:
        items = items[:limit]
    follow = bool(ctx.source.options.get("fetch_full"))
    for item in items:
        ctx.store_item(item, follow=follow, site=listing.link)
    ctx.fetcher.store_validators(result)


FEED_ACCEPT = ("application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5")
