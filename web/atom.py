"""The Atom feed of a search (RFC 4287), built with ElementTree so every text is escaped."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone, tzinfo
from xml.etree import ElementTree as ET

from indexer.search.request import SearchResults
from web.params import SearchState

ATOM_NS = "http://www.w3.org/2005/Atom"
# XML 1.0 forbids these characters even escaped; crawled text sometimes carries them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text or "")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _utc(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _timestamp(day: str | None, fallback: datetime, tz: tzinfo) -> str:
    """An Atom date-time for a hit's calendar date: noon of that day in the centre's time
    zone, written with its offset, so a reader shows the day the source stated (midnight UTC
    would be the day before in Martinique)."""
    if day:
        try:
            when = date.fromisoformat(day[:10])
        except ValueError:
            return _utc(fallback)
        return datetime.combine(when, time(12), tzinfo=tz).isoformat(timespec="seconds")
    return _utc(fallback)


def search_feed(state: SearchState, results: SearchResults, *, base_url: str, page_url: str,
                self_url: str, source_name=str, now: datetime | None = None,
                tz: tzinfo = timezone.utc) -> bytes:
    """Atom XML for `results`; `page_url`/`self_url` are paths, made absolute on `base_url`."""
    now = now or datetime.now(timezone.utc)
    base = base_url.rstrip("/")
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"})
    title = f"Veille — « {state.q} »" if state.q else "Veille — derniers documents"
    _sub(feed, "title", title)
    _sub(feed, "subtitle", f"{results.total} document{'s' if results.total != 1 else ''}")
    _sub(feed, "id", base + self_url)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=base + self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=base + page_url)
    stamps = [_timestamp(hit.published, now, tz) for hit in results.hits]
    _sub(feed, "updated", _utc(max((datetime.fromisoformat(s) for s in stamps), default=now)))
    author = _sub(feed, "author")
    _sub(author, "name", "Veille documentaire et juridique")
    _sub(feed, "generator", "Veille")

    for hit, stamp in zip(results.hits, stamps):
        entry = _sub(feed, "entry")
        doc_url = f"{base}/documents/{hit.id}"
        _sub(entry, "id", doc_url)
        _sub(entry, "title", hit.title or "(sans titre)", type="text")
        _sub(entry, "link", rel="alternate", type="text/html", href=doc_url)
        _sub(entry, "updated", stamp)
        if hit.published:
            _sub(entry, "published", stamp)
        _sub(entry, "category", term=hit.kind)
        for theme in hit.themes:
            _sub(entry, "category", term=theme)
        _sub(_sub(entry, "author"), "name", source_name(hit.source))
        if hit.snippet:
            # the snippet is HTML (escaped text + <mark>); type="html" makes readers unescape once
            _sub(entry, "summary", hit.snippet, type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
