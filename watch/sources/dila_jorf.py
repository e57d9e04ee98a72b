"""`dila-jorf` sources: the Journal officiel from the DILA's open data, no credentials.

The DILA publishes the whole JORF as XML archives in one public directory: a global dump
(`Freemium_jorf_global_AAAAMMJJ-HHMMSS.tar.gz`) and one delivery per day of publication
(`JORF_AAAAMMJJ-HHMMSS.tar.gz`). A run:
1. reads the directory listing and picks the archives after the last one read (the source's
   cursor, kept in the catalog), oldest first, at most `max_archives`; on the very first run,
   the newest global dump first when `global_dump` is set, limited to `since`..`until`;
2. downloads each into a temporary file and reads it as a stream (`jorf_archive`): one
   document per text, its articles in order, its structured links for the citations graph;
3. keeps the texts the source's filters let through (`jorf_filters`), updates those
   delivered again, removes those the archive's list of removals names;
4. moves the cursor past the archive, so a crash or a later run never reads it twice.

A broken archive (not a gzip, truncated) or one over `max_archive_mb` is reported and
skipped: nothing of it is stored, the archives after it are read. A broken XML file inside is
reported and skipped. An archive that cannot be downloaded now (server error, timeout) fails
the run: the next run tries it again.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from types import MappingProxyType
from typing import Iterable
from urllib.parse import unquote, urljoin, urlsplit

from indexer.enrich.legal import nature_label
from veille.core.logs import log_event
from veille.core.records import KIND_LEGAL, Document, content_hash, document_id
from watch.errors import ParseError, TooLarge
from watch.sources.jorf_archive import ArchiveLimits, DateRange, Delivery, read_archive
from watch.sources.jorf_filters import TextFilter
from watch.sources.jorf_xml import JorfArticle, JorfStruct, DilaText, body_text

log = logging.getLogger(__name__)

_ARCHIVE_RE = re.compile(r"(?:(?P<global>Freemium_jorf_global)|JORF)_(?P<stamp>\d{8}-\d{6})\.tar\.gz$")
_HREF_RE = re.compile(r"""href\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
MAX_LISTING_LINKS = 100_000


@dataclass(frozen=True)
class Archive:
    name: str          # "JORF_20260921-001530.tar.gz"
    url: str
    stamp: str         # "20260921-001530": archives sort by it
    is_global: bool

    @property
    def day(self) -> date:
        return date(int(self.stamp[:4]), int(self.stamp[4:6]), int(self.stamp[6:8]))


# ------------------------------------------------------------------ parsing (pure)


def parse_listing(base_url: str, html: str) -> list[Archive]:
    """The archives a directory listing links to, oldest first (deliveries and dumps)."""
    found: dict[str, Archive] = {}
    for i, match in enumerate(_HREF_RE.finditer(html)):
        if i >= MAX_LISTING_LINKS:
            break
        url = urljoin(base_url, match.group(1))
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        parts = _ARCHIVE_RE.fullmatch(name)
        if parts and urlsplit(url).scheme in ("http", "https"):
            found[name] = Archive(name, url, parts.group("stamp"), bool(parts.group("global")))
    return sorted(found.values(), key=lambda a: (a.stamp, not a.is_global))


def archives_to_read(archives: list[Archive], cursor: str | None, *, global_dump: bool,
                     since: date | None, limit: int) -> list[Archive]:
    """The archives a run reads, in order: those after `cursor` (an archive name); on a
    first run, the newest global dump if asked, then the deliveries after it (or from
    `since`)."""
    deliveries = [a for a in archives if not a.is_global]
    if cursor:
        stamp = _ARCHIVE_RE.fullmatch(cursor).group("stamp") if _ARCHIVE_RE.fullmatch(cursor) else cursor
        return [a for a in deliveries if a.stamp > stamp][:limit]
    chosen: list[Archive] = []
    dumps = [a for a in archives if a.is_global]
    if global_dump and dumps:
        chosen.append(dumps[-1])
        deliveries = [a for a in deliveries if a.stamp > dumps[-1].stamp]
    if since is not None:
        deliveries = [a for a in deliveries if a.day >= since]
    return (chosen + deliveries)[:limit]


def to_document(text: DilaText, articles: Iterable[JorfArticle], struct: JorfStruct | None,
                source: str, now: datetime, tags: Iterable[str] = ()) -> Document:
    """The catalog document of a JO text: kind `juridique`, linked to its Légifrance page."""
    content = body_text(text, articles, struct)
    nature = nature_label(text.nature)
    summary = " — ".join(p for p in (text.ministry, text.jo, f"NOR : {text.nor}" if text.nor else "") if p)
    links = [{"kind": link.kind, "nature": link.nature, "number": link.number, "cid": link.cid,
              "target": link.target, "article": link.article, "nor": link.nor,
              "signed": link.signed.isoformat() if link.signed else "", "title": link.title}
             for link in text.links]
    extra = {"tags": list(tags), "jorftext": text.cid, "nature": text.nature, "nor": text.nor,
             "number": text.number, "eli": text.eli, "eli_alias": text.eli_aliases[0] if text.eli_aliases else "",
             "ministry": text.ministry, "jo": text.jo, "jo_number": text.jo_number,
             "signed": text.signed.isoformat() if text.signed else "",
             "keywords": list(text.keywords), "links": links}
    return Document(
        id=document_id(text.url), title=text.title, source=source, kind=KIND_LEGAL,
        first_seen=now, updated=now, url=text.url, summary=summary, content=content,
        # a JO date is a calendar day: kept as that day (noon UTC, the same day everywhere near)
        published=datetime.combine(text.published, time(12), tzinfo=timezone.utc) if text.published else None,
        content_hash=content_hash(" ".join(f"{text.title}\n{content}".split()).lower()),
        doc_type=nature, authors=(text.ministry,) if text.ministry else (),
        extra=MappingProxyType({k: v for k, v in extra.items() if v}))


# ------------------------------------------------------------------ the run (I/O)


def _date_option(options, key: str) -> date | None:
    value = options.get(key)
    return date.fromisoformat(str(value)) if value else None


def crawl(ctx) -> None:
    """Crawl a `dila-jorf` source (`ctx` is a watch.crawler.CrawlContext)."""
    options = ctx.source.options
    since, until = _date_option(options, "since"), _date_option(options, "until")
    limits = ArchiveLimits(max_members=int(options.get("max_files") or 5_000_000),
                           max_member_bytes=int(options.get("max_file_kb") or 10_240) * 1024,
                           max_texts=int(options.get("max_texts") or 20_000))
    max_bytes = int(options.get("max_archive_mb") or 4096) * 1024 * 1024
    chooser = TextFilter.of(options, ctx.config.alerts)

    listing = ctx.fetcher.fetch(ctx.source_url, conditional=False, accept="text/html, */*;q=0.5")
    ctx.http_status = listing.status
    archives = parse_listing(listing.final_url, listing.text)
    if not archives:
        raise ParseError(f"aucune archive JORF dans le répertoire {ctx.source.url}", url=ctx.source.url,
                         hint="l'adresse doit être celle du répertoire OPENDATA/JORF de la DILA")
    cursor = ctx.catalog.cursors.get(ctx.source.name)
    todo = archives_to_read(archives, cursor.position if cursor else None,
                            global_dump=bool(options.get("global_dump")), since=since,
                            limit=int(options.get("max_archives") or 30))
    for archive in todo:
        dates = DateRange(since, until) if archive.is_global else DateRange(since, None)
        with tempfile.TemporaryFile(prefix="veille-jorf-") as sink:
            try:
                ctx.fetcher.download(archive.url, sink, max_bytes)
            except TooLarge as exc:   # it will not shrink: reported, and the next ones read
                ctx.warnings.append(f"{archive.name} ignorée : {exc} (option max_archive_mb)")
                ctx.catalog.cursors.set(ctx.source.name, archive.name, ctx.now)
                continue
            delivery = read_archive(sink, archive.name, limits, dates)
        _apply(ctx, delivery, chooser)
        ctx.catalog.cursors.set(ctx.source.name, archive.name, ctx.now)


def _apply(ctx, delivery: Delivery, chooser: TextFilter) -> None:
    """Store what one archive brought, or report why nothing of it is stored."""
    for problem in delivery.problems[:20]:
        ctx.warnings.append(f"{delivery.name} : {problem}")
    if len(delivery.problems) > 20:
        ctx.warnings.append(f"{delivery.name} : {len(delivery.problems) - 20} autre(s) fichier(s) illisible(s)")
    if delivery.broken:
        ctx.warnings.append(f"{delivery.name} ignorée : {delivery.broken} ; rien n'en a été enregistré")
        log.warning("%s : %s : %s", ctx.source.name, delivery.name, delivery.broken)
        return
    if delivery.capped:
        ctx.warnings.append(f"{delivery.name} : plus de {len(delivery.texts)} textes, les suivants sont ignorés "
                            "(option max_texts)")
    for cid, text in delivery.texts.items():
        doc = to_document(text, delivery.articles.get(cid, ()), delivery.structs.get(cid),
                          ctx.source.name, ctx.now, ctx.source.tags)
        if not chooser.everything and not chooser.passes(doc, text.nature, text.ministry, text.keywords):
            continue
        ctx.store(doc, dedup=False)
    for cid in delivery.removed:
        doc_id = document_id(DilaText(cid=cid, title="").url)
        if ctx.catalog.documents.delete(doc_id):
            log_event(log, "document", source=ctx.source.name, document=doc_id, outcome="removed", jorftext=cid)
