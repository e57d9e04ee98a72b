"""OpenDocument text (.odt) with odfpy: headings, paragraphs, lists and tables in order."""

from __future__ import annotations

import io

from indexer.extract import Extracted, failed
from indexer.extract.common import first_heading, parse_date, zip_bomb_reason

_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_LINE_ELEMENTS = {(_TEXT_NS, "p"), (_TEXT_NS, "h")}
# page furniture and annotations: not the document's text
_SKIPPED = {(_TEXT_NS, "tracked-changes"), ("urn:oasis:names:tc:opendocument:xmlns:office:1.0", "annotation"),
            (_TEXT_NS, "note"), (_TEXT_NS, "sequence-decls"), (_TEXT_NS, "variable-decls")}


def _lines(node, out: list[str]) -> None:
    from odf import teletype

    for child in node.childNodes:
        qname = getattr(child, "qname", None)
        if qname in _SKIPPED:
            continue
        if qname in _LINE_ELEMENTS:
            out.append(teletype.extractText(child))
        elif getattr(child, "childNodes", None):
            _lines(child, out)


def _meta_values(document) -> dict[str, str]:
    values: dict[str, str] = {}
    for element in document.meta.childNodes:
        name = getattr(element, "qname", ("", ""))[1]
        text = "".join(str(node) for node in element.childNodes if node.nodeType == node.TEXT_NODE)
        if name and text.strip() and name not in values:
            values[name] = text.strip()
    return values


def _first_heading_element(document) -> str:
    from odf import teletype, text

    for heading in document.text.getElementsByType(text.H)[:1]:
        return teletype.extractText(heading).strip()
    return ""


def extract_odt(data: bytes) -> Extracted:
    reason = zip_bomb_reason(data)
    if reason:
        return failed(reason)
    from odf.opendocument import load

    try:
        document = load(io.BytesIO(data))
    except (KeyError, ValueError, AttributeError, IndexError) as exc:
        return failed(f"document OpenDocument illisible ou endommagé ({type(exc).__name__})")
    lines: list[str] = []
    _lines(document.text, lines)
    text = "\n".join(lines)
    meta = _meta_values(document)
    title = meta.get("title", "") or _first_heading_element(document) or first_heading(text)
    author = meta.get("initial-creator") or meta.get("creator") or ""
    published = parse_date(meta.get("creation-date") or meta.get("date"))
    language = meta.get("language", "").replace("_", "-").split("-")[0].lower()[:2]
    return Extracted(text=text, title=title, authors=(author,) if author else (),
                     published=published, language=language)
