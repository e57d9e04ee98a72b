"""Plain text and Markdown: charset detection, Markdown markup removed, title from a heading.

A Markdown file may start with a YAML front matter block (`---` ... `---`) giving `title`,
`date` and `author(s)`; those win over the first heading.
"""

from __future__ import annotations

import re

from indexer.extract import Extracted
from indexer.extract.common import first_heading, parse_date

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode_bytes(data: bytes) -> str:
    """Text of bytes in an unknown charset: BOM, then UTF-8, then detection, then cp1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding.replace("-sig", ""), errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Our files are French: Windows-1252 first when it reads as French. Detectors guess
    # badly on short texts (a three-line note in cp1252 comes out as cp1250, "synthčse").
    french = _as_french_cp1252(data)
    if french is not None:
        return french
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding, errors="replace")
        except LookupError:
            pass
    # French files that are not UTF-8 are nearly always Windows-1252 / Latin-1
    return data.decode("cp1252", errors="replace")


_FRENCH_NON_ASCII = set("àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ«»€’‘“”…–—°·\u00a0")


def _as_french_cp1252(data: bytes) -> str | None:
    try:
        text = data.decode("cp1252")  # strict: the five undefined bytes rule it out
    except UnicodeDecodeError:
        return None
    others = [ch for ch in text if ord(ch) > 127]
    if not others:
        return text
    french = sum(ch in _FRENCH_NON_ASCII for ch in others)
    return text if french >= 0.9 * len(others) else None


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n(?:---|\.\.\.)\s*(?:\n|\Z)", re.DOTALL)
_MD_RULES = (
    (re.compile(r"^```.*$|^~~~.*$", re.MULTILINE), ""),                 # code fences
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),                     # images: keep alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),                      # links: keep the label
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),                     # reference links
    (re.compile(r"^[ \t]*\[[^\]]+\]:[ \t]*\S+.*$", re.MULTILINE), ""),         # link definitions
    (re.compile(r"<[^>\n]+>"), ""),                                     # inline HTML tags
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*(.*?)[ \t]*#*[ \t]*$", re.MULTILINE), r"\1"),  # ATX headings
    (re.compile(r"^[ \t]{0,3}(?:=+|-{3,}|\*{3,}|_{3,})[ \t]*$", re.MULTILINE), ""),  # rules, setext
    (re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE), ""),                    # block quotes
    (re.compile(r"^([ \t]*)(?:[-*+]|\d{1,2}[.)])[ \t]+", re.MULTILINE), r"\1"),  # list markers
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),              # bold
    (re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])"), r"\2"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),                                  # inline code
    (re.compile(r"^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*:?-*:?[ \t]*$", re.MULTILINE), ""),  # table rules
)


def markdown_to_text(text: str) -> str:
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text.replace("|", " ")


def _front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    import yaml

    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(data, dict):
        return {}, text
    return data, text[match.end():]


def _markdown_title(text: str) -> str:
    match = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    if match:
        return match.group(1).strip()
    match = re.search(r"^(\S.*)\n=+\s*$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


def _looks_like_markdown(text: str) -> bool:
    return bool(re.search(r"^\s{0,3}#{1,6}\s+\S|^\S.*\n[=-]{3,}\s*$|\]\(|^\s*[-*]\s+\S", text[:5000],
                          re.MULTILINE))


def extract_text(data: bytes) -> Extracted:
    raw = decode_bytes(data)
    meta, body = _front_matter(raw)
    is_markdown = bool(meta) or _looks_like_markdown(body)
    title = str(meta.get("title") or "").strip()
    if not title and is_markdown:
        title = _markdown_title(body)
    text = markdown_to_text(body) if is_markdown else body
    if not title:
        title = first_heading(text)
    authors = meta.get("authors") or meta.get("author") or ()
    if isinstance(authors, str):
        authors = [a.strip() for a in re.split(r"[;,]", authors)]
    date = meta.get("date")
    published = parse_date(date.isoformat() if hasattr(date, "isoformat") else date)
    language = str(meta.get("lang") or meta.get("language") or "")[:2].lower()
    return Extracted(text=text, title=title, authors=tuple(str(a) for a in authors if a),
                     published=published, language=language,
                     doc_type_hint=str(meta.get("type") or meta.get("doc_type") or ""))
