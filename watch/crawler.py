"""Crawl sources into the catalog: fetch, parse, dedup, store, and keep a run log.

`crawl_source` runs one source and never raises for the source's own failures: they end in
its `CrawlReport`, its run log and its state (consecutive failures, backoff), and the other
sources carry on. `crawl_sources` runs several, hosts in parallel (the fetcher keeps each
host polite).
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from types import MappingProxyType
from typing import Callable, Iterable
from urllib.parse import urlsplit

from veille.storage.catalog import Catalog
from indexer.extract import Limits
from veille.core.records import KIND_NEWS, KINDS, Document, content_hash, document_id
from indexer.enrich.thesaurus import enrich
from veille.core.config import Config, Source
from veille.core.dates import french_datetime
from veille.core.logs import log_event
from veille.core.url_secrets import MissingSecret, expand_env, masked_text, masked_url
from watch.errors import FetchError, MissingCredentials, WatchError
from watch.fetcher import FetchResult, Fetcher
from watch.files import FileStore, suffix_for
from watch.items import Item, entry_key
from watch.text import FileReader
from watch.urls import canonicalize_url

log = logging.getLogger(__name__)

# Below this many characters, two texts being equal says little (a bare title): no
# cross-URL merge on so little evidence.
MIN_DEDUP_CHARS = 200
BACKOFF_BASE = timedelta(minutes=30)
BACKOFF_MAX = timedelta(days=1)


@dataclass(frozen=True)
class CrawlReport:
    source: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    http_status: int | None = None
    not_modified: bool = False
    error: str | None = None
    error_code: str | None = None
    warnings: tuple[str, ...] = ()
    consecutive_failures: int = 0
    backoff_until: datetime | None = None
    skipped: bool = False              # not run: the source is backing off

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated)

    def line(self, tz: tzinfo | None = None) -> str:
        """One line for the CLI and the logs (times in `tz`)."""
        if self.skipped:
            return (f"{self.source}: en attente jusqu'au {french_datetime(self.backoff_until, tz)} "
                    "(échecs répétés)")
        if self.error:
            return f"{self.source}: ÉCHEC [{self.error_code}] {self.error}"
        text = f"{self.source}: {self.new} nouveau(x), {self.updated} mis à jour, {self.unchanged} inchangé(s)"
        if self.not_modified:
            text += " (non modifié depuis le dernier passage)"
        if self.warnings:
            text += f" — attention : {'; '.join(self.warnings)}"
        return text


def backoff_delay(failures: int) -> timedelta:
    """How long a source that failed `failures` times in a row waits beyond its schedule.

    The first failure costs nothing (the next scheduled run retries); then 30 min, 1 h,
    2 h ... up to one day, so a dead server is asked about once a day, and a source recovers
    by itself when the server does.
    """
    if failures <= 1:
        return timedelta(0)
    return min(BACKOFF_BASE * 2 ** (failures - 2), BACKOFF_MAX)


def source_kind(source: Source) -> str:
    """The document kind of a source's items: its first tag that is a kind, else news."""
    for tag in source.tags:
        if tag in KINDS:
            return tag
    return KIND_NEWS


def normalized_text(text: str) -> str:
    return " ".join(text.split()).lower()


@dataclass
class Counts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class CrawlContext:
    """What a source kind's crawl function gets: the source and the means to store."""

    config: Config
    source: Source
    catalog: Catalog
    fetcher: Fetcher
    now: datetime
    files: FileStore
    counts: Counts = field(default_factory=Counts)
    reader: FileReader = field(default_factory=FileReader)
    warnings: list[str] = field(default_factory=list)
    http_status: int | None = None
    not_modified: bool = False

    @property
    def kind(self) -> str:
        return source_kind(self.source)

    @property
    def source_url(self) -> str:
        """The address to fetch: `${NAME}` replaced from the environment (only ever fetched,
        never shown or stored: `source.url` is what people see, masked)."""
        try:
            return expand_env(self.source.url)
        except MissingSecret as exc:
            raise MissingCredentials(str(exc.args[0]), hint=exc.hint) from None

    def base_extra(self) -> dict:
        return {"tags": list(self.source.tags)}

    def store(self, doc: Document, dedup: bool = True) -> str:
        """Put `doc` in the catalog unless the same text is already there under another URL.

        Every document of every source kind goes through the one enrichment step here
        (themes, territories, legal identity and references), and takes its source's
        visibility."""
        doc = replace(enrich(doc), visibility=self.source.visibility)
        if dedup and len(doc.content or doc.summary) >= MIN_DEDUP_CHARS and doc.content_hash:
            twin = self.catalog.documents.find_by_hash(doc.content_hash)
            if twin is not None and twin.id != doc.id and self.catalog.documents.get(doc.id) is None:
                log.debug("%s : %s a le même texte que %s", self.source.name, doc.url, twin.url)
                self.counts.add("unchanged")
                return "unchanged"
        outcome = self.catalog.documents.put(doc)
        self.counts.add(outcome)
        if outcome != "unchanged":
            log_event(log, "document", source=self.source.name, document=doc.id, outcome=outcome,
                      url=masked_url(doc.url or ""))
        return outcome

    def store_item(self, item: Item, follow: bool = False, site: str = "") -> str:
        return store_item(self, item, follow, site)


def item_document_id(source: str, item: Item) -> str:
    """A document's id from its canonical URL; for a feed entry without a link, from its
    source and its key in the feed (`feed:<source>:<guid or content hash>`), stable as long
    as the entry keeps its id (or its text)."""
    if item.url:
        return document_id(canonicalize_url(item.url))
    return document_id(f"feed:{source}:{entry_key(item)}")


def store_item(ctx: CrawlContext, item: Item, follow: bool = False, site: str = "") -> str:
    """Turn a feed entry or listing item into a document (fetching its link if `follow`).

    An entry without a link is kept under `item_document_id`, with `site` (the feed's own
    page) offered in its place."""
    url = canonicalize_url(item.url) if item.url else None
    doc_id = item_document_id(ctx.source.name, item)
    item_hash = content_hash(json.dumps(
        [item.title, item.summary, item.content, item.published.isoformat() if item.published else None,
         follow], ensure_ascii=False))
    existing = ctx.catalog.documents.get(doc_id)
    if existing is not None and existing.extra.get("item_hash") == item_hash and (
            not follow or not existing.extra.get("link_error")):
        # the entry is as we stored it: no need to fetch its link again
        ctx.counts.add("unchanged")
        return "unchanged"
    extra = ctx.base_extra() | {"item_hash": item_hash}
    if item.guid:
        extra["guid"] = item.guid
    if url is not None and url != item.url:
        extra["original_url"] = item.url
    if url is None and site:
        extra["site_url"] = site
    fields: dict = dict(content=item.content, status="ok", status_reason="")
    # an entry's attached document (a PDF enclosure) is what it announces: read that
    # rather than the HTML page around it
    target = item.attachments[0] if item.attachments else item.url
    if follow and target:
        if target != item.url:
            extra["document_url"] = target
        fields.update(_linked_fields(ctx, target, existing, extra))
    text = fields["content"] or item.summary or item.title
    doc = Document(
        id=doc_id, title=item.title or fields.get("title") or url or "(sans titre)", source=ctx.source.name,
        kind=ctx.kind, first_seen=ctx.now, updated=ctx.now, url=url, summary=item.summary,
        content=fields["content"], published=item.published,
        content_hash=content_hash(normalized_text(text)), stored_file=fields.get("stored_file"),
        authors=item.authors, page_count=fields.get("page_count"), status=fields["status"],
        status_reason=fields["status_reason"], language=fields.get("language") or "fr",
        extra=MappingProxyType(extra))
    return ctx.store(doc)


def _linked_fields(ctx: CrawlContext, url: str, existing: Document | None, extra: dict) -> dict:
    """Fetch the page or file an item links to; store it; return document fields from it.

    A failed link does not fail the source: the item is kept with what the listing said,
    and the reason is recorded (and retried on the next run)."""
    conditional = existing is not None and ctx.files.exists(existing.stored_file)
    try:
        result = ctx.fetcher.fetch(url, conditional=conditional)
    except FetchError as exc:
        extra["link_error"] = f"[{exc.code}] {exc}"
        ctx.warnings.append(f"lien non récupéré : {exc}")
        if existing is not None and existing.stored_file:
            return _fields_of(existing)
        return {"status_reason": f"document lié non récupéré : {exc}"}
    if result.not_modified and existing is not None:
        extra.update({k: existing.extra[k] for k in ("final_url", "content_type") if k in existing.extra})
        return _fields_of(existing)
    fields = linked_document_fields(ctx.files, ctx.reader, result)
    if fields["status"] == "error" or fields.get("cut"):
        ctx.warnings.append(f"{url} : {fields['status_reason']}")
    fields.pop("cut", None)
    extra["content_type"] = result.content_type
    if result.final_url != url:
        extra["final_url"] = result.final_url
    ctx.fetcher.store_validators(result)
    return fields


def _fields_of(doc: Document) -> dict:
    return dict(content=doc.content, stored_file=doc.stored_file, page_count=doc.page_count,
                status=doc.status, status_reason=doc.status_reason, language=doc.language)


def linked_document_fields(files: FileStore, reader: FileReader, result: FetchResult) -> dict:
    """Store a fetched page or file content-addressed and extract its text."""
    stored = files.put(result.body, suffix_for(result.final_url, result.content_type))
    if result.content_type in ("text/html", "application/xhtml+xml"):
        page = reader.read_html(result.text)
        reason = "page sans texte lisible" if page.status == "empty" else page.reason
        return dict(content=page.text, stored_file=stored, page_count=None, status=page.status,
                    status_reason=reason, cut=bool(page.reason), language=page.language or "fr")
    extracted = reader.extract(result.body, filename=result.final_url.split("?", 1)[0].rsplit("/", 1)[-1],
                               content_type=result.content_type)
    return dict(content=extracted.text, stored_file=stored, page_count=extracted.page_count,
                status=extracted.status, status_reason=extracted.reason, title=extracted.title,
                language=extracted.language or "fr")


# ---------------------------------------------------------------- running sources


CrawlFunction = Callable[[CrawlContext], None]


def _kind_crawlers() -> dict[str, CrawlFunction]:
    from watch.sources import change, dila_jorf, feed, legifrance, page

    return {"feed": feed.crawl, "page": page.crawl, "change": change.crawl, "legifrance": legifrance.crawl,
            "dila-jorf": dila_jorf.crawl}


# Other source kinds (e.g. legifrance) register here: kind -> crawl(ctx).
EXTRA_CRAWLERS: dict[str, CrawlFunction] = {}


def crawl_source(config: Config, source: Source, catalog: Catalog, fetcher: Fetcher,
                 now: datetime | None = None, reader: FileReader | None = None) -> CrawlReport:
    """Crawl one source now; failures are reported, recorded and never raised.

    `reader` is the crawl run's worker for parsing (one is made for this source if None)."""
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    run_id = catalog.runs.start(source.name, now)
    own_reader = reader is None
    ctx = CrawlContext(config=config, source=source, catalog=catalog, fetcher=fetcher, now=now,
                       files=FileStore(config.layout.files),
                       reader=reader or FileReader(Limits.from_config(config.extraction)))
    error = code = None
    retry_after = None
    try:
        crawler = EXTRA_CRAWLERS.get(source.kind) or _kind_crawlers().get(source.kind)
        if crawler is None:
            raise WatchError(f"type de source non pris en charge par le robot : {source.kind}")
        crawler(ctx)
    except WatchError as exc:
        error, code = masked_text(str(exc)), exc.code
        if isinstance(exc, FetchError) and exc.status:
            ctx.http_status = exc.status
        retry_after = getattr(exc, "retry_after", None)
    except Exception as exc:  # a bug or a broken document must not stop the other sources
        log.error("%s : erreur inattendue : %s", source.name, masked_text(f"{type(exc).__name__}: {exc}"),
                  exc_info=log.isEnabledFor(logging.DEBUG))
        error, code = masked_text(f"erreur inattendue : {type(exc).__name__}: {exc}"), "unexpected"
    finally:
        if own_reader:
            ctx.reader.close()
    # documents stored before the source's visibility changed in sources.yaml take it now
    catalog.documents.set_source_visibility(source.name, source.visibility)
    finished = datetime.now(timezone.utc).replace(microsecond=0)
    ctx.warnings[:] = [masked_text(w) for w in ctx.warnings]
    warning = "; ".join(dict.fromkeys(ctx.warnings))[:2000] or None
    counts = ctx.counts
    catalog.runs.finish(run_id, http_status=ctx.http_status, new=counts.new, updated=counts.updated,
                       unchanged=counts.unchanged, error=error, warning=warning,
                       finished=max(finished, now))
    failures, backoff_until = 0, None
    if error is None:
        catalog.source_state.record_success(source.name, now)
    else:
        failures = catalog.source_state.get(source.name).consecutive_failures + 1
        delay = backoff_delay(failures)
        if retry_after:  # the server said when to come back: not before (capped like backoff)
            delay = max(delay, min(timedelta(seconds=retry_after), BACKOFF_MAX))
        backoff_until = now + delay if delay else None
        catalog.source_state.record_failure(source.name, now, error, code or "error", backoff_until)
        log.warning("%s : %s", source.name, error)
    return CrawlReport(source=source.name, new=counts.new, updated=counts.updated,
                       unchanged=counts.unchanged, http_status=ctx.http_status,
                       not_modified=ctx.not_modified, error=error, error_code=code,
                       warnings=tuple(dict.fromkeys(ctx.warnings)), consecutive_failures=failures,
                       backoff_until=backoff_until)


def in_backoff(catalog: Catalog, source: Source, now: datetime) -> datetime | None:
    """When a failing source may be tried again, if that is still in the future."""
    until = catalog.source_state.get(source.name).backoff_until
    return until if until is not None and until > now else None


def crawl_sources(config: Config, catalog: Catalog, fetcher: Fetcher,
                  sources: Iterable[Source] | None = None, now: datetime | None = None,
                  on_report: Callable[[CrawlReport], None] | None = None,
                  respect_backoff: bool = False) -> list[CrawlReport]:
    """Crawl several sources, `http.concurrency` at a time; reports in the sources' order."""
    chosen = [s for s in (config.sources if sources is None else sources)]
    lock = threading.Lock()
    reader = FileReader(Limits.from_config(config.extraction))

    def one(source: Source) -> CrawlReport:
        start = now or datetime.now(timezone.utc).replace(microsecond=0)
        until = in_backoff(catalog, source, start) if respect_backoff else None
        if until is not None:
            report = CrawlReport(source=source.name, skipped=True, backoff_until=until)
        else:
            report = crawl_source(config, source, catalog, fetcher, now=start, reader=reader)
        if on_report is not None:
            with lock:
                on_report(report)
        return report

    workers = max(1, min(config.http.concurrency, len(chosen)))
    try:
        if workers == 1:
            return [one(s) for s in chosen]
        order = interleave_hosts(chosen)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crawl") as pool:
            reports = dict(zip((s.name for s in order), pool.map(one, order)))
        return [reports[s.name] for s in chosen]
    finally:
        reader.close()


def interleave_hosts(sources: list[Source]) -> list[Source]:
    """Sources reordered round-robin over their hosts, so that the workers start on
    different hosts instead of queueing behind one host's politeness delay."""
    by_host: dict[str, list[Source]] = {}
    for source in sources:
        by_host.setdefault((urlsplit(source.url).hostname or "").lower(), []).append(source)
    queues = list(by_host.values())
    order: list[Source] = []
    while queues:
        order.extend(queue.pop(0) for queue in queues)
        queues = [queue for queue in queues if queue]
    return order


__all__ = ["CrawlContext", "CrawlReport", "backoff_delay", "crawl_source", "crawl_sources",
           "in_backoff", "item_document_id", "source_kind", "store_item"]
