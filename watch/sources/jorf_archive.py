"""One DILA JORF archive (`JORF_AAAAMMJJ-HHMMSS.tar.gz`, `Freemium_jorf_global_*.tar.gz`),
read as a stream: nothing is unpacked to disk, and every count and size is capped.

`read_archive` walks the tar once (`r|gz`), parses the members it knows (texts, articles,
structures, the list of removals) and returns a `Delivery`. A member that is not well-formed
XML, or holds entities (billion laughs), is reported and skipped; an archive that is not a
gzip, or ends early, is reported as broken with what it held up to there, and the caller
stores nothing from it.
"""

from __future__ import annotations

import io
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO, Callable, Iterable

from watch.errors import ParseError
from watch.sources.jorf_xml import (JorfArticle, JorfStruct, DilaText, parse_article, parse_struct,
                                    parse_suppressions, parse_text_version)

SUPPRESSION_LIST = "liste_suppression_jorf.dat"
_TEXT_VERSION = re.compile(r"(?:^|/)texte/version/JORF/TEXT/(?:\w+/)*JORFTEXT\d{12}\.xml$")
_TEXT_STRUCT = re.compile(r"(?:^|/)texte/struct/JORF/TEXT/(?:\w+/)*JORFTEXT\d{12}\.xml$")
_ARTICLE = re.compile(r"(?:^|/)article/JORF/ARTI/(?:\w+/)*JORFARTI\d{12}\.xml$")


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 5_000_000        # files in one archive
    max_member_bytes: int = 10 << 20    # bytes of one XML file
    max_texts: int = 20_000             # texts kept from one archive


@dataclass(frozen=True)
class DateRange:
    """Publication dates kept (both ends included; None: open)."""

    start: date | None = None
    end: date | None = None

    def __contains__(self, day: date | None) -> bool:
        if day is None:
            return self.start is None and self.end is None
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


@dataclass
class Delivery:
    name: str
    texts: dict[str, DilaText] = field(default_factory=dict)
    articles: dict[str, list[JorfArticle]] = field(default_factory=dict)   # by text cid
    structs: dict[str, JorfStruct] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)   # members skipped, in French
    broken: str = ""           # why the archive could not be read to its end, in French
    members: int = 0
    capped: bool = False       # max_texts reached: texts beyond were left out


def member_kind(path: str) -> str:
    """What an archive member holds: text, struct, article, removals, or "" (ignored)."""
    if path.endswith(SUPPRESSION_LIST):
        return "removals"
    if _ARTICLE.search(path):
        return "article"
    if _TEXT_VERSION.search(path):
        return "text"
    if _TEXT_STRUCT.search(path):
        return "struct"
    return ""


def read_archive(stream: BinaryIO, name: str, limits: ArchiveLimits = ArchiveLimits(),
                 dates: DateRange = DateRange(),
                 on_member: Callable[[int], None] | None = None) -> Delivery:
    """Read an archive from `stream` (its bytes, as downloaded) in one pass."""
    delivery = Delivery(name=name)
    try:
        with tarfile.open(fileobj=stream, mode="r|gz") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                delivery.members += 1
                if delivery.members > limits.max_members:
                    delivery.broken = f"plus de {limits.max_members} fichiers : lecture arrêtée"
                    break
                kind = member_kind(member.name)
                if not kind:
                    continue
                if member.size > limits.max_member_bytes:
                    delivery.problems.append(f"{member.name} : fichier trop gros ({member.size} octets), ignoré")
                    continue
                handle = tar.extractfile(member)
                data = handle.read() if handle is not None else b""
                _take(delivery, kind, member.name, data, limits, dates)
                if on_member is not None:
                    on_member(delivery.members)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        delivery.broken = _broken_reason(exc)
    return delivery


def _broken_reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError) or "unexpected end" in str(exc).lower():
        return "archive tronquée (fin de fichier inattendue)"
    if isinstance(exc, tarfile.ReadError) and "gzip" in str(exc).lower():
        return "archive illisible : pas un fichier tar.gz"
    return f"archive illisible ({type(exc).__name__}: {exc})"


def _take(delivery: Delivery, kind: str, path: str, data: bytes, limits: ArchiveLimits,
          dates: DateRange) -> None:
    try:
        if kind == "text":
            text = parse_text_version(data, path)
            if text.published not in dates:
                return
            if text.cid not in delivery.texts and len(delivery.texts) >= limits.max_texts:
                delivery.capped = True
                return
            delivery.texts[text.cid] = text
        elif kind == "article":
            article = parse_article(data, path)
            if article.published in dates or article.published is None:
                delivery.articles.setdefault(article.text, []).append(article)
        elif kind == "struct":
            struct = parse_struct(data, path)
            delivery.structs[struct.cid] = struct
        elif kind == "removals":
            delivery.removed = tuple(dict.fromkeys(delivery.removed + parse_suppressions(data)))
    except ParseError as exc:
        delivery.problems.append(str(exc))


# ------------------------------------------------------------------ writing (demo, tests, bench)


def member_path(stamp: str, ident: str, kind: str = "") -> str:
    """Where the DILA puts a record in an archive stamped `stamp` ("20260921-001530"):
    `<stamp>/jorf/global/texte/version/JORF/TEXT/00/00/54/86/14/JORFTEXT000054861441.xml`."""
    digits = ident[8:]
    folders = "/".join(digits[i:i + 2] for i in range(0, 10, 2))
    if ident.startswith("JORFARTI"):
        return f"{stamp}/jorf/global/article/JORF/ARTI/{folders}/{ident}.xml"
    part = "struct" if kind == "struct" else "version"
    return f"{stamp}/jorf/global/texte/{part}/JORF/TEXT/{folders}/{ident}.xml"


def write_archive(out: BinaryIO, stamp: str, records: Iterable[tuple[str, bytes]],
                  removed: Iterable[str] = ()) -> None:
    """A tar.gz in the DILA's layout: `records` are (JORFTEXT/JORFARTI id, XML bytes);
    `removed` the JORFTEXT ids its list of removals names."""
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for ident, data in records:
            _add(tar, member_path(stamp, ident), data)
        removed = list(removed)
        if removed:
            lines = "".join(member_path(stamp, ident).split("/", 1)[1].removesuffix(".xml") + "\n"
                            for ident in removed)
            _add(tar, f"{stamp}/{SUPPRESSION_LIST}", lines.encode())


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))
