"""What an engine indexes for a document, and how request filters read: shared by engines.

Keeping this mapping out of the engines keeps them equivalent: the same year for the same
document (in the centre's time zone), the same facet values, the same words offered by
"did you mean".
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Callable

from indexer.search.analysis import fold, fold_words
from veille.core.records import Document

# Facet name (veille.core.records.FACETS and SearchRequest.filters) -> engine field.
FACET_FIELDS = {
    "kind": "kind", "source": "source", "themes": "themes", "territories": "territories",
    "doc_type": "doc_type", "year": "year",
}
# Query-language field (indexer.search.query.QUERY_FIELDS) -> engine field.
QUERY_FIELD_TARGETS = {
    "title": "title", "source": "source", "theme": "themes", "kind": "kind",
    "type": "doc_type", "territory": "territories", "ref": "legal_refs", "year": "year",
}
# The searchable text of a document is its title, summary and content as one field, so a
# word is one posting list to read, not a union over three; the title is also indexed on
# its own, for `title:` and to boost documents whose title matches.
TITLE_BOOST = 3.0
# Engines that keep the three text fields apart (tantivy) weigh them with these.
TEXT_FIELDS = ("title", "summary", "content")
FIELD_BOOSTS = {"title": TITLE_BOOST, "summary": 1.5, "content": 1.0}
MAX_SPELL_CHARS = 100_000   # "did you mean" vocabulary: the first 100k characters of a text
# Bounds every engine applies alike.
CACHE_PAGES = 256           # recent result pages kept per engine
MAX_FACET_VALUES = 100      # values shown per facet
MAX_WILDCARD_WORDS = 300    # words a wildcard may stand for
MLT_TERMS = 15              # key terms of a "similar documents" query
MLT_TEXT_CHARS = 50_000     # text read to find them


def utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def local_day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as naive UTC datetimes."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return utc_naive(start), utc_naive(start + timedelta(days=1))


@dataclass(frozen=True)
class IndexedDocument:
    id: str
    title: str
    summary: str
    content: str
    source: str
    kind: str
    doc_type: str
    themes: tuple[str, ...]
    territories: tuple[str, ...]
    legal_refs: tuple[str, ...]
    year: str
    date: datetime          # naive UTC: Document.date
    local_date: str         # ISO date of Document.date in the centre's time zone
    first_seen: datetime    # naive UTC
    published: datetime | None
    location: str           # url or library path
    url: str | None
    page_count: int | None
    language: str
    spell_words: tuple[str, ...]   # distinct folded words for "did you mean"

    @property
    def text(self) -> str:
        """Everything searchable by default: title, summary and content."""
        return "\n".join(part for part in (self.title, self.summary, self.content) if part)


def indexed_document(doc: Document, tz: tzinfo, spell: bool = True) -> IndexedDocument:
    """What an engine indexes for `doc`; `spell=False` skips the "did you mean" words (an
    engine that derives them itself saves folding the whole text in Python)."""
    when = doc.date
    local = when.astimezone(tz) if when.tzinfo else when
    text = " ".join((doc.title, doc.summary, doc.content[:MAX_SPELL_CHARS]))
    refs = doc.extra.get("legal_refs", []) if doc.extra else []
    return IndexedDocument(
        id=doc.id, title=doc.title, summary=doc.summary, content=doc.content,
        source=doc.source, kind=doc.kind, doc_type=doc.doc_type,
        themes=_clean_values(doc.themes), territories=_clean_values(doc.territories),
        legal_refs=_clean_values(str(ref) for ref in refs if ref),
        year=f"{local.year:04d}", date=utc_naive(when), local_date=local.date().isoformat(),
        first_seen=utc_naive(doc.first_seen),
        published=utc_naive(doc.published) if doc.published else None,
        location=doc.url or doc.path or "", url=doc.url, page_count=doc.page_count,
        language=doc.language or "fr",
        spell_words=tuple(sorted(set(fold_words(text)))) if spell else (),
    )


def _clean_values(values) -> tuple[str, ...]:
    # Facet values are stored comma-separated by some engines: a comma inside would split them.
    out = []
    for value in values:
        value = " ".join(str(value).replace(",", " ").split())
        if value and value not in out:
            out.append(value)
    return tuple(out)


def matching_values(lexicon, wanted: str) -> list[str]:
    """Values of a keyword field matching what someone typed after `field:`.

    Accents and case are optional; a whole-value match wins, else values containing the
    typed words (`theme:habitat` finds `habitat et renouvellement urbain`).
    """
    values = lexicon if isinstance(lexicon, (list, tuple, set, frozenset)) else list(lexicon)
    if ":" in wanted and wanted in values:
        # a canonical legal key (`loi:2014-173`, from indexer.enrich.legal): no need to fold the
        # whole lexicon, which holds every key cited anywhere (0.4 s per 100 000 values)
        return [wanted]
    target = " ".join(fold(wanted).replace("-", " ").split())
    if not target:
        return []
    folded = {value: " ".join(fold(value).replace("-", " ").split()) for value in values}
    exact = [value for value in values if folded[value] == target]
    if exact:
        return exact
    words = target.split()
    return [value for value in values if all(word in folded[value].split() for word in words)]


def ordered_facet(name: str, counts: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """A facet's (value, count) pairs as shown: years newest first, others most frequent first."""
    if name == "year":
        counts = sorted(counts, key=lambda item: item[0], reverse=True)
    else:
        counts = sorted(counts, key=lambda item: (-item[1], fold(item[0])))
    return tuple(counts[:MAX_FACET_VALUES])


class PageCache:
    """An engine's LRU of recent result pages, emptied whenever its index changes.

    Results cut short by the time limit are not kept, so asking again gets another chance
    at the complete answer.
    """

    def __init__(self, size: int = CACHE_PAGES):
        self._pages: OrderedDict = OrderedDict()
        self._size = size

    def get_or_compute(self, request, compute: Callable[[], object]):
        key = request_key(request)
        cached = self._pages.get(key)
        if cached is not None:
            self._pages.move_to_end(key)
            return cached
        results = compute()
        if not results.partial:
            self._pages[key] = results
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)
        return results

    def clear(self) -> None:
        self._pages.clear()


def request_key(request) -> tuple:
    """A hashable key of a SearchRequest, for the engines' caches of result pages."""
    filters = tuple(sorted((k, tuple(v)) for k, v in request.filters.items() if v))
    return (request.q, filters, request.date_from, request.date_to, request.first_seen_after,
            request.sort, request.page, request.per_page, request.facets, request.highlight,
            tuple(sorted((k, tuple(v)) for k, v in request.legal_aliases.items())))
