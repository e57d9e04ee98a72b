"""Documents as references for Zotero and other reference managers: RIS, BibTeX, CSV, and the
citation meta tags of a document page (Highwire `citation_*` and Dublin Core).

`reference_of` turns a catalog document into a `Reference` once; each format is a pure
function of a list of them. RIS is written by rispy and BibTeX by bibtexparser, the
libraries reference tools themselves are tested against; every value is made one line (a
line break would start a new RIS tag) and BibTeX values keep balanced braces and escape
LaTeX's special characters, so a crawled title cannot break the file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, tzinfo

from veille.core.dates import calendar_date, noted_date
from veille.core.records import KIND_LEGAL, KIND_LIBRARY, KIND_NEWS, KIND_PAGE_CHANGE, Document

# RIS type of a document, from its document type first, then its kind; and the BibTeX
# entry type of each RIS type.
_RIS_BY_DOC_TYPE = {
    "loi": "STAT", "ordonnance": "STAT",
    "décret": "LEGAL", "arrêté": "LEGAL", "circulaire": "LEGAL", "délibération": "LEGAL",
    "étude": "RPRT", "rapport": "RPRT", "synthèse": "RPRT", "note": "RPRT", "diagnostic": "RPRT",
    "guide": "BOOK",
}
_RIS_BY_KIND = {KIND_LEGAL: "LEGAL", KIND_NEWS: "NEWS", KIND_PAGE_CHANGE: "ELEC",
                KIND_LIBRARY: "GEN", "publication": "RPRT"}
_BIBTEX_TYPES = {"RPRT": "techreport", "BOOK": "book"}
SUMMARY_CHARS = 1000
CSV_COLUMNS = ("titre", "auteurs", "date", "type", "catégorie", "source", "thèmes", "territoires",
               "résumé", "adresse d'origine", "notice", "identifiant")


@dataclass(frozen=True)
class Reference:
    id: str
    title: str
    authors: tuple[str, ...]
    date: date                      # publication date, else the day it entered the watch
    published: date | None          # publication date only
    online: date                    # the day it entered the watch
    ris_type: str
    kind: str
    doc_type: str
    publisher: str                  # the source's title, or the library folder
    original_url: str | None        # http(s) address of the original, if any
    page_url: str                   # its page here (absolute)
    pdf_url: str | None             # a PDF copy here (absolute), if any
    themes: tuple[str, ...]
    territories: tuple[str, ...]
    summary: str
    language: str


def one_line(text: str | None) -> str:
    return " ".join(str(text or "").split())


def reference_of(doc: Document, *, page_url: str, publisher: str, tz: tzinfo,
                 original_url: str | None = None, pdf_url: str | None = None) -> Reference:
    summary = one_line(doc.summary)
    if len(summary) > SUMMARY_CHARS:
        summary = summary[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"
    return Reference(
        id=doc.id, title=one_line(doc.title) or "(sans titre)",
        authors=tuple(a for a in (one_line(a) for a in doc.authors) if a),
        # the publication date as its source stated it; the day it entered the watch in `tz`
        date=doc.day(tz), published=calendar_date(doc.published) if doc.published else None,
        online=noted_date(doc.first_seen, tz),
        ris_type=_RIS_BY_DOC_TYPE.get(doc.doc_type.lower(), _RIS_BY_KIND.get(doc.kind, "GEN")),
        kind=doc.kind, doc_type=one_line(doc.doc_type), publisher=one_line(publisher),
        original_url=original_url, page_url=page_url, pdf_url=pdf_url,
        themes=tuple(one_line(t) for t in doc.themes), territories=tuple(one_line(t) for t in doc.territories),
        summary=summary, language=doc.language or "fr")


# ------------------------------------------------------------------ RIS


def _ris_entry(ref: Reference) -> dict:
    entry = {
        "type_of_reference": ref.ris_type,
        "id": ref.id,
        "title": ref.title,
        "year": str(ref.date.year),
        "date": ref.date.strftime("%Y/%m/%d"),
        "urls": [url for url in (ref.original_url, ref.page_url) if url],
        "publisher": ref.publisher,
        "language": ref.language,
        "name_of_database": "Veille documentaire et juridique",
    }
    if ref.authors:
        entry["authors"] = list(ref.authors)
    if ref.themes or ref.territories:
        entry["keywords"] = [*ref.themes, *ref.territories]
    if ref.summary:
        entry["abstract"] = ref.summary
    if ref.doc_type:
        entry["type_of_work"] = ref.doc_type
    if ref.pdf_url:
        entry["file_attachments1"] = ref.pdf_url
    if ref.online != ref.date:
        entry["access_date"] = ref.online.strftime("%Y/%m/%d")
    return entry


def to_ris(refs: list[Reference]) -> str:
    import rispy

    class Writer(rispy.RisWriter):
        def set_header(self, count: int) -> str:
            return ""       # no "1." line before each record: not RIS, some readers stumble

    return rispy.dumps([_ris_entry(ref) for ref in refs], implementation=Writer) if refs else ""


# ------------------------------------------------------------------ BibTeX

_LATEX_SPECIALS = re.compile(r"([&%$#_])")


def bibtex_value(text: str) -> str:
    """A value safe inside BibTeX braces: balanced (braces become parentheses), LaTeX's
    special characters escaped, no backslash of the source left to start a command."""
    text = one_line(text).replace("\\", "/").replace("{", "(").replace("}", ")")
    return _LATEX_SPECIALS.sub(r"\\\1", text).replace("~", "\\textasciitilde{}").replace("^", "\\textasciicircum{}")


def _bibtex_entry(ref: Reference) -> dict:
    entry_type = _BIBTEX_TYPES.get(ref.ris_type, "misc")
    entry = {
        "ENTRYTYPE": entry_type,
        "ID": f"veille-{ref.id}",
        "title": bibtex_value(ref.title),
        "year": str(ref.date.year),
        "date": ref.date.isoformat(),
        "url": ref.original_url or ref.page_url,
        "urldate": ref.online.isoformat(),
        "language": ref.language,
    }
    if ref.authors:
        # in braces: organisations ("Ville de Fort-de-France") are not split into first names
        entry["author"] = " and ".join("{" + bibtex_value(a) + "}" for a in ref.authors)
    if ref.publisher:
        entry["institution" if entry_type == "techreport" else "publisher"] = bibtex_value(ref.publisher)
    if ref.themes or ref.territories:
        entry["keywords"] = bibtex_value(", ".join([*ref.themes, *ref.territories]))
    if ref.summary:
        entry["abstract"] = bibtex_value(ref.summary)
    if ref.doc_type:
        entry["note"] = bibtex_value(ref.doc_type)
    if ref.original_url:
        entry["howpublished"] = ref.page_url
    return entry


def to_bibtex(refs: list[Reference]) -> str:
    from bibtexparser.bibdatabase import BibDatabase
    from bibtexparser.bwriter import BibTexWriter

    database = BibDatabase()
    database.entries = [_bibtex_entry(ref) for ref in refs]
    writer = BibTexWriter()
    writer.order_entries_by = None      # the search's order
    writer.indent = "  "
    return writer.write(database)


# ------------------------------------------------------------------ CSV

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A spreadsheet cell that stays text: a leading =, +, - or @ would make it a formula."""
    text = one_line(text)
    return "'" + text if text.startswith(_FORMULA) else text


def to_csv(refs: list[Reference], kind_label=str) -> str:
    """`;`-separated with a byte-order mark: what a French spreadsheet opens as is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for ref in refs:
        writer.writerow([csv_cell(value) for value in (
            ref.title, " | ".join(ref.authors), ref.date.isoformat(), ref.doc_type, kind_label(ref.kind),
            ref.publisher, " | ".join(ref.themes), " | ".join(ref.territories), ref.summary,
            ref.original_url or "", ref.page_url, ref.id)])
    return "\ufeff" + out.getvalue()


# ------------------------------------------------------------------ meta tags


def citation_meta(ref: Reference) -> list[tuple[str, str]]:
    """(name, content) of the <meta> tags a reference manager reads on the document page:
    Highwire Press `citation_*` (Zotero, Google Scholar), then Dublin Core `DC.*`. The
    template escapes every content."""
    tags = [("citation_title", ref.title)]
    tags += [("citation_author", author) for author in ref.authors]
    if ref.published:
        tags.append(("citation_publication_date", ref.published.strftime("%Y/%m/%d")))
    tags.append(("citation_online_date", ref.online.strftime("%Y/%m/%d")))
    if ref.publisher:
        tags.append(("citation_publisher", ref.publisher))
        if ref.ris_type == "RPRT":
            tags.append(("citation_technical_report_institution", ref.publisher))
    tags.append(("citation_language", ref.language))
    if ref.themes or ref.territories:
        tags.append(("citation_keywords", "; ".join([*ref.themes, *ref.territories])))
    tags.append(("citation_abstract_html_url", ref.page_url))
    if ref.pdf_url:
        tags.append(("citation_pdf_url", ref.pdf_url))
    tags.append(("DC.title", ref.title))
    tags += [("DC.creator", author) for author in ref.authors]
    tags.append(("DC.date", ref.date.isoformat()))
    tags.append(("DC.type", ref.doc_type or ref.kind))
    tags.append(("DC.language", ref.language))
    tags += [("DC.subject", subject) for subject in (*ref.themes, *ref.territories)]
    if ref.publisher:
        tags.append(("DC.publisher", ref.publisher))
    if ref.summary:
        tags.append(("DC.description", ref.summary))
    tags.append(("DC.identifier", ref.page_url))
    if ref.original_url:
        tags.append(("DC.source", ref.original_url))
    return tags
