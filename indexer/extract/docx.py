"""Word documents (.docx) with python-docx: body paragraphs and tables in reading order.

Headers and footers are page furniture (running titles, page numbers) and are left out.
Title, authors and date come from the core properties, the title falling back to the first
paragraph styled as a title or heading.
"""

from __future__ import annotations

import io

from indexer.extract import Extracted, failed
from indexer.extract.common import first_heading, zip_bomb_reason


def _blocks(document) -> list[str]:
    from docx.table import Table

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = cell.text.strip()
                    if text and (not cells or cells[-1] != text):  # merged cells repeat
                        cells.append(text)
                if cells:
                    lines.append(" | ".join(cells))
        else:
            lines.append(block.text)
    return lines


def _styled_title(document) -> str:
    for paragraph in document.paragraphs[:50]:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.lower().startswith(("title", "titre", "heading 1", "titre 1")) and paragraph.text.strip():
            return paragraph.text.strip()
    return ""


def extract_docx(data: bytes) -> Extracted:
    reason = zip_bomb_reason(data)
    if reason:
        return failed(reason)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        return failed(f"document Word illisible ou endommagé ({type(exc).__name__})")
    text = "\n".join(_blocks(document))
    props = document.core_properties
    title = (props.title or "").strip() or _styled_title(document) or first_heading(text)
    authors = tuple(a.strip() for a in (props.author or "").split(";") if a.strip())
    published = props.created
    if published is not None and published.tzinfo is None:
        from datetime import timezone

        published = published.replace(tzinfo=timezone.utc)  # OOXML dates are UTC
    language = (props.language or "").replace("_", "-").split("-")[0].lower()[:2]
    return Extracted(text=text, title=title, authors=authors, published=published,
                     language=language, doc_type_hint=(props.category or "").strip())
