"""The lettre de veille as people read it: items chosen in triage, grouped by rubrique, rendered.

Pure functions: the caller gives the documents, their triage and the links. The same
`LettreItem` records serve the draft's previews and the frozen issue, so what was previewed
is what is sent. Internal documents never become items: `select_items` leaves them out, and
the sending code checks again (`veille.digest.lettre_send`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from veille.core.config_checks import is_http_url
from veille.core.dates import calendar_date, french_date
from veille.core.records import KIND_LEGAL, VISIBILITY_PUBLIC, Document
from veille.digest.compose import LEGAL_SECTION, document_link, plural
from veille.storage.lettres import LettreItem
from veille.storage.triage import KEEP, TriageState

DEFAULT_RUBRIQUE = "Actualités"
COMMENT_CHARS = 1000          # a chapeau is two lines, not an article
EDITORIAL_CHARS = 5000


def default_rubrique(doc: Document) -> str:
    """Legal texts go under « Textes officiels », others under their first theme."""
    if doc.kind == KIND_LEGAL:
        return LEGAL_SECTION
    theme = next((" ".join(theme.split()) for theme in doc.themes if theme.strip()), DEFAULT_RUBRIQUE)
    return theme[:1].upper() + theme[1:]   # a heading: « Cohésion sociale »


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def rubrique_order(present: Iterable[str], chosen: Sequence[str]) -> list[str]:
    """The rubriques in the order staff chose; the others after, legal texts first, then by name."""
    present = list(dict.fromkeys(present))
    ordered = [name for name in chosen if name in present]
    rest = sorted((name for name in present if name not in ordered),
                  key=lambda name: (name != LEGAL_SECTION, _fold(name)))
    return ordered + rest


@dataclass(frozen=True)
class Selection:
    items: tuple[LettreItem, ...]
    internal: tuple[str, ...]       # titles of kept documents left out because they are internal
    missing: int = 0                # kept documents no longer in the catalog


def select_items(docs: Mapping[str, Document], triage: Mapping[str, TriageState], *,
                 chosen_order: Sequence[str], base_url: str,
                 source_titles: Mapping[str, str] | None = None) -> Selection:
    """The kept documents as ranked items: rubriques in order, then position, then newest first."""
    source_titles = source_titles or {}
    kept = [state for state in triage.values() if state.decision == KEEP]
    internal, missing, chosen = [], 0, []
    for state in kept:
        doc = docs.get(state.doc_id)
        if doc is None:
            missing += 1
        elif doc.visibility != VISIBILITY_PUBLIC:
            internal.append(" ".join(doc.title.split()))
        else:
            chosen.append((doc, state))
    rubrique_of = {doc.id: (state.rubrique.strip() or default_rubrique(doc)) for doc, state in chosen}
    order = {name: i for i, name in enumerate(rubrique_order(rubrique_of.values(), chosen_order))}

    def key(pair):
        doc, state = pair
        position = state.position if state.position is not None else 10 ** 6
        return (order[rubrique_of[doc.id]], position, -doc.date.timestamp(), doc.id)

    items = []
    for rank, (doc, state) in enumerate(sorted(chosen, key=key), start=1):
        items.append(LettreItem(
            doc_id=doc.id, rank=rank, rubrique=rubrique_of[doc.id],
            title=" ".join(doc.title.split()) or "(sans titre)", link=document_link(base_url, doc.id),
            date=doc.date, comment=state.comment.strip()[:COMMENT_CHARS],
            source=source_titles.get(doc.source, doc.source),
            original=doc.url if doc.url and is_http_url(doc.url) else None,
            published=doc.published, kind=doc.kind, doc_type=doc.doc_type,
            nor=str(doc.extra.get("nor", "") or "")))
    return Selection(items=tuple(items), internal=tuple(internal), missing=missing)


# ---------------------------------------------------------------- the issue as shown


@dataclass(frozen=True)
class LettreEntry:
    item: LettreItem
    date_text: str
    published_text: str

    @property
    def legal(self) -> bool:
        return self.item.kind == KIND_LEGAL


@dataclass(frozen=True)
class Rubrique:
    title: str
    entries: tuple[LettreEntry, ...]


@dataclass(frozen=True)
class Lettre:
    title: str                  # the lettre's name (`lettre.title`)
    numero: int
    date: datetime
    date_text: str
    editorial: str
    rubriques: tuple[Rubrique, ...]
    base_url: str
    web_url: str                # its public page
    recipient: str = ""
    unsubscribe_url: str = ""
    test: bool = False

    @property
    def subject(self) -> str:
        prefix = "[Essai] " if self.test else ""
        return f"{prefix}{self.title} n° {self.numero} — {self.date_text}"

    @property
    def total(self) -> int:
        return sum(len(r.entries) for r in self.rubriques)

    @property
    def editorial_paragraphs(self) -> list[str]:
        return [" ".join(p.split()) for p in self.editorial.replace("\r\n", "\n").split("\n\n") if p.strip()]


def public_url(base_url: str, numero: int) -> str:
    return f"{base_url.rstrip('/')}/lettres-de-veille/{numero}"


def build_lettre(items: Sequence[LettreItem], *, title: str, numero: int, date: datetime, editorial: str,
                 base_url: str, tz: ZoneInfo, recipient: str = "", unsubscribe_url: str = "",
                 test: bool = False) -> Lettre:
    """The issue from its ranked items (their rubriques come in rank order)."""
    groups: dict[str, list[LettreEntry]] = {}
    for item in sorted(items, key=lambda i: i.rank):
        # the publication date as the source stated it, never moved into `tz`; else the
        # day the document came in, in `tz`
        published = french_date(calendar_date(item.published)) if item.published else ""
        groups.setdefault(item.rubrique, []).append(LettreEntry(
            item=item, date_text=published or french_date(item.date, tz), published_text=published))
    return Lettre(title=title, numero=numero, date=date, date_text=french_date(date, tz),
                  editorial=editorial.strip()[:EDITORIAL_CHARS],
                  rubriques=tuple(Rubrique(name, tuple(entries)) for name, entries in groups.items()),
                  base_url=base_url.rstrip("/"), web_url=public_url(base_url, numero), recipient=recipient,
                  unsubscribe_url=unsubscribe_url, test=test)


# ---------------------------------------------------------------- rendering


def _environment(autoescape: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(default=autoescape, default_for_string=autoescape),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["plural"] = plural
    return env


_html_env = _environment(autoescape=True)
_text_env = _environment(autoescape=False)   # the plain-text part carries characters as they are


def render_html(lettre: Lettre) -> str:
    return _html_env.get_template("lettre.html").render(lettre=lettre, legal_title=LEGAL_SECTION)


def render_text(lettre: Lettre) -> str:
    return _text_env.get_template("lettre.txt").render(lettre=lettre, legal_title=LEGAL_SECTION)

