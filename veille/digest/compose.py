"""Build a recipient's digest from the documents their alerts matched, and render it.

Pure functions: the caller gives the period, the matches, the links and the clock; nothing
here reads the catalog, the index or the configuration. Rendering uses Jinja2 with
autoescaping, so hostile titles and snippets arrive in the e-mail as text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from typing import AbstractSet as Set, Mapping, Sequence
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from veille.core.records import KIND_LEGAL, Document
from veille.core.config_checks import is_http_url
from veille.core.dates import calendar_date, french_date
from veille.digest.alerts import AlertRecord

LEGAL_SECTION = "Textes officiels"
SNIPPET_CHARS = 280
MAX_PER_SECTION = 25   # beyond, a link to the search page: a digest stays a quick read


@dataclass(frozen=True)
class DigestPeriod:
    """Documents first seen in (start, end] belong to the period.

    `lookback` widens the window backwards: a document crawled just before the last digest
    but searchable only after it is still sent once (the caller excludes those already sent).
    """

    start: datetime
    end: datetime
    lookback: timedelta = timedelta(0)

    @property
    def since(self) -> datetime:
        return self.start - self.lookback

    def __contains__(self, moment: datetime) -> bool:
        return self.since < moment <= self.end


def next_period(now: datetime, period_days: int, last_end: datetime | None,
                unsent_start: datetime | None = None, lookback: timedelta = timedelta(0)) -> DigestPeriod:
    """The period a recipient's next digest covers.

    Since their last delivered digest (looking `lookback` further back for late documents);
    before any, since the start of a first digest that never got through; else `period_days`
    back, so a new subscriber gets news at once.
    """
    if last_end is not None:
        return DigestPeriod(start=last_end, end=now, lookback=lookback)
    return DigestPeriod(start=unsent_start or now - timedelta(days=period_days), end=now)


@dataclass(frozen=True)
class Match:
    """A document an alert found, with the search snippet (escaped HTML with <mark>) if any."""

    document: Document
    snippet: str = ""


@dataclass(frozen=True)
class Entry:
    """One document as shown in the digest (once, whatever the number of alerts)."""

    doc_id: str
    title: str
    link: str                         # the document page on our site
    original: str | None              # the source's own URL, http(s) only
    source: str
    date: datetime
    date_text: str
    snippet_text: str
    snippet_html: Markup
    alerts: tuple[str, ...]           # names of every alert that matched it
    kind: str
    doc_type: str = ""
    nor: str = ""
    published_text: str = ""          # publication date, when the source gave one
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestSection:
    title: str
    entries: tuple[Entry, ...]
    alert_key: str | None = None      # None for the legal texts section
    more: int = 0                     # documents left out to keep the e-mail readable
    more_url: str = ""                # where to see them all (the search page, newest first)
    query: str = ""


@dataclass(frozen=True)
class Digest:
    recipient: str
    period: DigestPeriod
    period_text: str
    sections: tuple[DigestSection, ...]
    section_counts: tuple[tuple[str, int], ...]   # each section's title and what it lists, in order
    theme_counts: tuple[tuple[str, int], ...]     # most frequent first
    total: int                                    # distinct documents
    subject: str
    unsubscribe_url: str
    base_url: str
    alert_links: tuple[tuple[str, str], ...] = ()  # (alert name, its unsubscribe URL)
    heading: str = ""                              # an immediate e-mail's: what it is about

    @property
    def empty(self) -> bool:
        return self.total == 0

    def entries(self) -> list[Entry]:
        return [entry for section in self.sections for entry in section.entries]


# ---------------------------------------------------------------- formatting


def period_text(period: DigestPeriod, tz: ZoneInfo) -> str:
    start, end = french_date(period.start, tz), french_date(period.end, tz)
    return f"le {end}" if start == end else f"du {start} au {end}"


def day_text(doc: Document, tz: ZoneInfo) -> str:
    """A document's date in French: its publication date as the source stated it, never
    moved into `tz`; else the day it came in, in `tz`."""
    return french_date(doc.day(tz))


def plural(count: int, singular: str, several: str) -> str:
    return f"{count} {singular if count == 1 else several}"


def snippet_parts(snippet: str, fallback: str) -> tuple[str, Markup]:
    """Plain text and safe HTML of a search snippet, keeping only its <mark> highlights.

    The engine promises escaped text with <mark>; we still strip every other tag and re-escape,
    so a snippet can never carry markup of its own into an e-mail.
    """
    if not snippet.strip():
        # summaries from feeds may still carry markup: keep only their text
        text = _shorten(" ".join(html.unescape(re.sub(r"<[^>]*>", " ", fallback)).split()))
        return text, Markup(html.escape(text))
    pieces = re.split(r"(</?mark>)", snippet)
    out, plain, marked = [], [], False
    for piece in pieces:
        if piece == "<mark>":
            marked = True
            continue
        if piece == "</mark>":
            marked = False
            continue
        text = html.unescape(re.sub(r"<[^>]*>", "", piece))
        plain.append(text)
        escaped = html.escape(text)
        out.append(f'<strong style="background:#fff3b0;font-weight:bold">{escaped}</strong>'
                   if marked and text.strip() else escaped)
    return " ".join("".join(plain).split()), Markup(" ".join("".join(out).split()))


def _shorten(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


def document_link(base_url: str, doc_id: str) -> str:
    return f"{base_url.rstrip('/')}/documents/{doc_id}"


# ---------------------------------------------------------------- building


def build_digest(recipient: str, period: DigestPeriod, matches: Sequence[tuple[AlertRecord, Sequence[Match]]],
                 *, base_url: str, tz: ZoneInfo, source_titles: Mapping[str, str] | None = None,
                 unsubscribe_url: str = "", alert_unsubscribe_urls: Mapping[str, str] | None = None,
                 already_sent: Set[str] = frozenset()) -> Digest:
    """The digest for one recipient from their alerts' matches (already limited to the period).

    Legal texts come first under "Textes officiels"; every other document sits under the
    first of its alerts (in the order given), newest first; each document appears once.
    Documents in `already_sent` (sent to this recipient before) are left out.
    """
    source_titles = source_titles or {}
    alert_unsubscribe_urls = alert_unsubscribe_urls or {}
    alerts_of: dict[str, list[str]] = {}
    home: dict[str, str] = {}                  # doc id -> key of the alert it is shown under
    best: dict[str, Match] = {}
    for alert, found in matches:
        for match in found:
            doc = match.document
            if doc.first_seen not in period or doc.id in already_sent:
                continue
            names = alerts_of.setdefault(doc.id, [])
            if alert.name not in names:
                names.append(alert.name)
            home.setdefault(doc.id, alert.key)
            if doc.id not in best or (not best[doc.id].snippet and match.snippet):
                best[doc.id] = match

    def entry(match: Match) -> Entry:
        doc = match.document
        text, markup = snippet_parts(match.snippet, doc.summary or doc.content)
        return Entry(doc_id=doc.id, title=" ".join(doc.title.split()) or "(sans titre)",
                     link=document_link(base_url, doc.id),
                     original=doc.url if doc.url and is_http_url(doc.url) else None,
                     source=source_titles.get(doc.source, doc.source), date=doc.date,
                     date_text=day_text(doc, tz), snippet_text=text, snippet_html=markup,
                     alerts=tuple(alerts_of[doc.id]), kind=doc.kind, doc_type=doc.doc_type,
                     nor=str(doc.extra.get("nor", "") or ""),
                     published_text=french_date(calendar_date(doc.published)) if doc.published else "",
                     themes=doc.themes)

    def newest_first(ids) -> tuple[Entry, ...]:
        chosen = sorted((best[i] for i in ids), key=lambda m: (m.document.date, m.document.id), reverse=True)
        return tuple(entry(m) for m in chosen)

    legal = [i for i in best if best[i].document.kind == KIND_LEGAL]
    sections: list[DigestSection] = []
    if legal:
        sections.append(DigestSection(title=LEGAL_SECTION, entries=newest_first(legal)))
    for alert, _ in matches:
        ids = [i for i in best if home[i] == alert.key and i not in legal]
        if ids:
            entries = newest_first(ids)
            sections.append(DigestSection(
                title=alert.name, entries=entries[:MAX_PER_SECTION], alert_key=alert.key,
                query=alert.query, more=max(0, len(entries) - MAX_PER_SECTION),
                more_url=f"{base_url.rstrip('/')}/search?" + urlencode({"q": alert.query, "sort": "date"})))
    # the summary counts what each section lists (a document matched by two alerts is
    # listed, and counted, under the first one only)
    section_counts = tuple((section.title, len(section.entries) + section.more) for section in sections)
    themes: dict[str, int] = {}
    for match in best.values():
        for theme in match.document.themes:
            themes[theme] = themes.get(theme, 0) + 1
    theme_counts = tuple(sorted(themes.items(), key=lambda kv: (-kv[1], kv[0])))
    total = len(best)
    when = period_text(period, tz)
    if total:
        subject = f"Veille : {plural(total, 'nouveau document', 'nouveaux documents')} ({when})"
    else:
        subject = f"Veille : rien de nouveau ({when})"
    return Digest(recipient=recipient, period=period, period_text=when, sections=tuple(sections),
                  section_counts=section_counts, theme_counts=theme_counts, total=total, subject=subject,
                  unsubscribe_url=unsubscribe_url, base_url=base_url.rstrip("/"),
                  alert_links=tuple((a.name, alert_unsubscribe_urls[a.key]) for a, _ in matches
                                    if a.key in alert_unsubscribe_urls))


def immediate_digest(digest: Digest, source_title: str) -> Digest:
    """A digest made into the immediate e-mail of what one source brought."""
    count = plural(digest.total, "nouveau document", "nouveaux documents")
    return replace(digest, subject=f"Veille — alerte : {count} de « {source_title} »",
                   heading=f"Alerte immédiate : {count} de « {source_title} »")


# ---------------------------------------------------------------- rendering

def _environment(autoescape: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(default=autoescape, default_for_string=autoescape),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["plural"] = plural
    return env


_html_env = _environment(autoescape=True)
_text_env = _environment(autoescape=False)   # the plain-text part carries characters as they are


def render_html(digest: Digest) -> str:
    return _html_env.get_template("digest.html").render(digest=digest, legal_title=LEGAL_SECTION)


def render_text(digest: Digest) -> str:
    return _text_env.get_template("digest.txt").render(digest=digest, legal_title=LEGAL_SECTION)
