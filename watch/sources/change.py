"""`change` sources: one page, or a CSS-selected part of it, watched for changes.

The first crawl records the page's text as the reference; each later version whose text
differs becomes a catalog document (kind "page modifiée") holding the added text, with a
readable unified diff in `extra["diff"]`. `page_text(body, selector)` is pure.
"""

from __future__ import annotations

import difflib
from datetime import datetime

from bs4 import BeautifulSoup

from veille.storage.snapshots import PageSnapshot
from veille.core.dates import french_date, french_datetime
from veille.core.records import KIND_PAGE_CHANGE, Document, content_hash, document_id
from watch import charset
from watch.errors import ParseError
from watch.text import html_to_text
from veille.core.url_secrets import masked_url
from watch.urls import canonicalize_url

MAX_DIFF_CHARS = 20_000


def page_text(body: bytes, selector: str | None = None, encoding: str | None = None,
              content_type: str = "") -> tuple[str, str]:
    """(title, text) of a page, or of the parts matching `selector`, one paragraph per line."""
    html = body.decode(encoding, errors="replace") if encoding else charset.decode(body, content_type)[0]
    soup = BeautifulSoup(html, "html.parser")
    title = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    if selector:
        try:
            parts = soup.select(selector)
        except Exception as exc:
            raise ParseError(f"sélecteur CSS invalide {selector!r} : {exc}") from None
        if not parts:
            raise ParseError(f"le sélecteur {selector!r} ne trouve rien sur la page",
                             hint="la page a peut-être changé de structure")
        text = "\n".join(html_to_text(str(part)) for part in parts)
    else:
        text = html_to_text(html)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return title, "\n".join(line for line in lines if line)


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    diff = "\n".join(difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=old_label,
                                          tofile=new_label, lineterm="", n=2))
    return diff if len(diff) <= MAX_DIFF_CHARS else diff[:MAX_DIFF_CHARS] + "\n… (différences tronquées)"


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """Lines added and removed between two versions."""
    added, removed = [], []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith("+ "):
            added.append(line[2:])
        elif line.startswith("- "):
            removed.append(line[2:])
    return added, removed


def _label(when: datetime, tz) -> str:
    return f"version du {french_datetime(when, tz)}"


def crawl(ctx) -> None:
    """Crawl a `change` source (`ctx` is a watch.crawler.CrawlContext)."""
    source = ctx.source
    result = ctx.fetcher.fetch(ctx.source_url)
    ctx.http_status = result.status
    if result.not_modified:
        ctx.not_modified = True
        ctx.counts.add("unchanged")
        return
    title, text = ctx.reader.parse(page_text, result.body, source.options.get("selector"),
                                   result.encoding, url=result.final_url)
    digest = content_hash(text)
    url = canonicalize_url(masked_url(source.url))
    previous = ctx.catalog.snapshots.get(source.name)
    snapshot = PageSnapshot(source=source.name, url=url, content_hash=digest, text=text, seen=ctx.now)
    if previous is not None and previous.content_hash == digest:
        ctx.counts.add("unchanged")
    elif previous is None:
        ctx.catalog.snapshots.put(snapshot)  # the reference the next versions are compared to
    else:
        tz = ctx.config.tz
        added, removed = changed_lines(previous.text, text)
        diff = unified_diff(previous.text, text, _label(previous.seen, tz), _label(ctx.now, tz))
        if added:
            summary = "Ajouté : " + " / ".join(added)
        else:
            summary = "Supprimé : " + " / ".join(removed)
        summary = summary if len(summary) <= 400 else summary[:399].rsplit(" ", 1)[0] + " …"
        extra = ctx.base_extra() | {"diff": diff, "previous_hash": previous.content_hash,
                                    "previous_seen": previous.seen.isoformat(),
                                    "added_lines": len(added), "removed_lines": len(removed)}
        doc = Document(
            id=document_id(f"{url}#version={digest[:16]}"), url=url, source=source.name,
            # the change is dated the day it was seen in the centre's time zone, as its title says
            kind=KIND_PAGE_CHANGE, first_seen=ctx.now, updated=ctx.now, published=ctx.now.astimezone(tz),
            title=f"{source.title or title} — page modifiée le {french_date(ctx.now, tz)}",
            summary=summary, content="\n".join(added) or "\n".join(removed), content_hash=digest,
            extra=extra)
        ctx.store(doc, dedup=False)
        ctx.catalog.snapshots.put(snapshot)
    ctx.fetcher.store_validators(result)
