"""Which character set a fetched text body is in: declared, sniffed, or detected.

Pure functions over bytes, used by the fetcher. The order follows what browsers do, with one
concession to misconfigured servers: a body declared as Latin-1 that is in fact valid UTF-8
(with non-ASCII characters) is read as UTF-8, because French pages served that way are common
and Latin-1 never fails to decode, so it would silently turn "é" into "Ã©".
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_BOMS = (
    # the generic utf-16/utf-32 codecs read the BOM and drop it
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""", re.I)
_SINGLE_BYTE = {"latin-1", "iso8859-1", "cp1252", "iso8859-15", "ascii"}

# Sources of the decision, recorded on FetchResult.encoding_source.
BOM, DECLARED, SNIFFED, DETECTED, DEFAULT = "bom", "declared", "sniffed", "detected", "default"


@dataclass(frozen=True)
class Decoded:
    encoding: str
    source: str


def charset_of(content_type: str) -> str | None:
    """The `charset=` parameter of a Content-Type header, if any."""
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def normalize(name: str | None) -> str | None:
    """Python codec name for a declared charset, or None when unknown."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip()).name
    except LookupError:
        return None
    # WHATWG: labels for Latin-1 mean windows-1252 (a superset used by every real page).
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _utf8_with_non_ascii(body: bytes) -> bool:
    return not body.isascii() and _decodes(body, "utf-8")


def sniff(body: bytes) -> str | None:
    """Charset named inside the document (<meta charset>, <?xml encoding?>) in its first bytes."""
    head = body[:4096]
    match = _XML_DECL_RE.match(head) or _META_RE.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


_WESTERN_EXTRA = set("’‘“”–—…«»€œŒ•°²³½¼·×÷ ")


def _plausible_western(body: bytes) -> bool:
    """Whether the body reads as Western European text in windows-1252 (our sources are
    French): statistical detectors misjudge short French texts as Central European ones."""
    try:
        text = body[:100_000].decode("cp1252")
    except UnicodeDecodeError:
        return False
    odd = sum(1 for c in text if not (c.isascii() or "\u00c0" <= c <= "\u00ff" or c in _WESTERN_EXTRA))
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n\f")
    return odd + controls <= len(text) * 0.001


def detect_encoding(body: bytes, content_type: str = "") -> Decoded:
    """Decide how to decode `body`; see the module docstring for the order."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return Decoded(encoding, BOM)
    for source, declared in ((DECLARED, charset_of(content_type)), (SNIFFED, sniff(body))):
        encoding = normalize(declared)
        if encoding is None or encoding.startswith(("utf-16", "utf-32")):
            continue  # a UTF-16 body without BOM that names itself in ASCII is a lie
        if encoding in _SINGLE_BYTE and _utf8_with_non_ascii(body):
            return Decoded("utf-8", SNIFFED)
        if _decodes(body, encoding):
            return Decoded(encoding, source)
    if body.isascii() or _decodes(body, "utf-8"):
        return Decoded("utf-8", DEFAULT if body.isascii() else DETECTED)
    if _plausible_western(body):
        return Decoded("cp1252", DETECTED)
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    if best is not None and best.encoding:
        return Decoded(normalize(best.encoding) or best.encoding, DETECTED)
    return Decoded("utf-8", DEFAULT)


def decode(body: bytes, content_type: str = "") -> tuple[str, Decoded]:
    """The text of `body` and how it was decoded (never raises: bad bytes become U+FFFD)."""
    decided = detect_encoding(body, content_type)
    return body.decode(decided.encoding, errors="replace"), decided
