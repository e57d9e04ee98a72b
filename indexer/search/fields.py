"""What the engines index for a document, and the fields a query reaches: shared by engines.

Keeping this mapping out of the engines keeps them equivalent: the same calendar date and
year for the same document, the same facet values, the same text. A document's calendar date
is its publication date as its source stated it (never shifted by a time zone), else the day
it was first seen in the centre's time zone (`Document.day`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from types import MappingProxyType
from typing import Mapping

from indexer.enrich.legal import cited_texts
from veille.core.facets import FACETS
from veille.core.records import VISIBILITY_INTERNAL, VISIBILITY_PUBLIC, Document

# Text fields, each weighed by its boost: a word of the title says more than one of the text.
TEXT_FIELDS = ("title", "summary", "content")
FIELD_BOOSTS: Mapping[str, float] = MappingProxyType({"title": 3.0, "summary": 1.5, "content": 1.0})
# Folded, unstemmed words of the text, without positions: wildcards and "did you mean".
SPELL_FIELD = "spell"
# Exact-value fields: facets, legal references cited or borne, those cited alone (with the
# texts of the articles cited); for an article of a code, its number (`l121-2`, as the analysis writes it) and its code.
KEYWORD_FIELDS = ("kind", "source", "themes", "territories", "doc_type", "year", "visibility",
                  "legal_refs", "cites", "article", "code", "sample")
# Fields the indexes of the previous release lack.
NEW_FIELDS = ("summary", "visibility", "cites", "article", "code", "sample")
DATE_FIELDS = ("date", "first_seen")
# Facet name -> engine field.
FACET_FIELDS: Mapping[str, str] = MappingProxyType({facet.name: facet.field for facet in FACETS})
# Query-language field (`theme:...`, indexer.search.query.QUERY_FIELDS) -> engine field.
QUERY_FIELD_TARGETS: Mapping[str, str] = MappingProxyType(
    {"title": "title", "ref": "legal_refs", "cite": "cites", "code": "code",
     **{facet.query_field: facet.field for facet in FACETS}})
# Facets whose every document has exactly one value: the total of their counts is the number
# of documents matched.
SINGLE_VALUED = ("kind", "source", "year", "visibility")

# Every document falls in one of SAMPLE_PARTS parts by its id (`sample`): facets of a search
# matching very many documents are counted on one part, a fixed share of the collection.
SAMPLE_PARTS = 16
SAMPLED_PART = "0"

MAX_SPELL_CHARS = 100_000   # words offered by "did you mean": those of a text's first 100k characters
MAX_FACET_VALUES = 100      # values shown per facet


@dataclass(frozen=True)
class IndexedDocument:
    id: str
    title: str
    summary: str
    content: str
    keywords: Mapping[str, tuple[str, ...]]   # keyword field -> its values (maybe none)
    date: datetime          # naive UTC, inside the local day of `local_date` (see `indexed_date`)
    first_seen: datetime    # naive UTC

    @property
    def spell_text(self) -> str:
        return " ".join((self.title, self.summary, self.content[:MAX_SPELL_CHARS]))


def utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


# The days a date filter may name: the engines store instants between 1678 and 2262
# (tantivy), and `to=9999-12-31` would overflow; no document is dated outside, so
# clamping a filter to them changes no result.
FIRST_DAY, LAST_DAY = date(1700, 1, 1), date(2200, 12, 31)


def local_day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day (within FIRST_DAY..LAST_DAY), as naive UTC
    datetimes."""
    start = datetime.combine(min(max(day, FIRST_DAY), LAST_DAY), time.min, tzinfo=tz)
    return utc_naive(start), utc_naive(start + timedelta(days=1))


def local_date(doc: Document, tz: tzinfo) -> date:
    """The calendar date a document is shown, filtered and counted (year facet) with."""
    return doc.day(tz)


def indexed_date(doc: Document, tz: tzinfo) -> datetime:
    """The instant indexed as a document's `date`: for a publication date, noon of that
    calendar day in `tz`, so that a search for that local day (`local_day_bounds`) finds it
    and no other; else the moment it was first seen."""
    if doc.published is None:
        return utc_naive(doc.first_seen)
    return utc_naive(datetime.combine(doc.day(tz), time(12), tzinfo=tz))


def indexed_document(doc: Document, tz: tzinfo) -> IndexedDocument:
    """What an engine indexes for `doc`."""
    refs = doc.extra.get("legal_refs", []) if doc.extra else []
    keywords = {
        "kind": _clean_values((doc.kind,)), "source": _clean_values((doc.source,)),
        "themes": _clean_values(doc.themes), "territories": _clean_values(doc.territories),
        "doc_type": _clean_values((doc.doc_type,)), "year": (f"{local_date(doc, tz).year:04d}",),
        # anything not public is internal: searches take `interne` out rather than keep `public`
        "visibility": (VISIBILITY_PUBLIC if doc.visibility == VISIBILITY_PUBLIC else VISIBILITY_INTERNAL,),
        "legal_refs": _clean_values(str(ref) for ref in refs if ref),
        # what it cites, not what it is: "cité par" lists come from the index
        "cites": _clean_values(cited_texts(doc)),
        "article": _clean_values(((doc.extra or {}).get("article") or "",)),
        "code": _clean_values(((doc.extra or {}).get("code") or "",)),
        "sample": (sample_part(doc.id),),
    }
    summary = "" if _repeats_the_text(doc.summary, doc.content) else doc.summary
    return IndexedDocument(id=doc.id, title=doc.title, summary=summary, content=doc.content,
                           keywords=MappingProxyType(keywords), date=indexed_date(doc, tz),
                           first_seen=utc_naive(doc.first_seen))


def sample_part(doc_id: str) -> str:
    """The part of the collection a document falls in: spread evenly, fixed by its id."""
    return str(zlib.crc32(doc_id.encode("utf-8")) % SAMPLE_PARTS)


def _repeats_the_text(summary: str, content: str) -> bool:
    """Whether a summary is the text's own beginning (a feed's excerpt, a library file's
    first lines): indexed once, in the text, not twice."""
    said = " ".join(summary.split()).rstrip(".… ")
    if not said:
        return False
    return said in " ".join(content[:len(summary) * 2 + 200].split())


def _clean_values(values) -> tuple[str, ...]:
    # Some engines store several values comma-separated: a comma inside would split one.
    out = []
    for value in values:
        value = " ".join(str(value).replace(",", " ").split())
        if value and value not in out:
            out.append(value)
    return tuple(out)
