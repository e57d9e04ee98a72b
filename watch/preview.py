"""A source tried before it is saved: what its next crawl would collect, nothing stored.

`preview_source` fetches the feed or the listing page with the real fetcher (same address
checks, robots.txt, size limits) and reads it with the real parsers, but with no validators
(a full answer, no ETag kept) and no catalog: nothing is written anywhere. Only `feed` and
`page` sources, the kinds staff add from the web, can be previewed.
"""

from __future__ import annotations

from dataclasses import dataclass

from veille.core.config import Config, Source
from watch.errors import WatchError
from watch.fetcher import Fetcher
from watch.items import Item
from watch.sources.feed import FEED_ACCEPT, parse_feed
from watch.sources.page import parse_listing

PREVIEW_KINDS = ("feed", "page")
SHOWN = 20


@dataclass(frozen=True)
class SourcePreview:
    items: tuple[Item, ...] = ()       # the first SHOWN entries the crawl would keep
    total: int = 0                     # how many it would keep from this fetch
    title: str = ""                    # the feed's own title
    warnings: tuple[str, ...] = ()
    error: str = ""                    # why nothing could be read, in French

    @property
    def ok(self) -> bool:
        return not self.error


def preview_source(config: Config, source: Source, fetcher: Fetcher | None = None) -> SourcePreview:
    """What crawling `source` now would collect; failures are in the preview, never raised."""
    if source.kind not in PREVIEW_KINDS:
        return SourcePreview(error="l'essai n'est possible que pour un flux ou une page de liste")
    own = fetcher is None
    fetcher = fetcher or Fetcher(config.http)   # no validator store: nothing kept between fetches
    try:
        if source.kind == "feed":
            result = fetcher.fetch(source.url, conditional=False, accept=FEED_ACCEPT)
            listing = parse_feed(result.body, result.final_url, result.headers.get("content-type", ""))
            items = listing.items[:source.options.get("max_entries") or len(listing.items)]
        else:
            options = source.options
            result = fetcher.fetch(source.url, conditional=False)
            listing = parse_listing(result.body, result.final_url, options["select"], options.get("next"),
                                    encoding=result.encoding, tz=config.timezone)
            items = listing.items
            if not items:
                return SourcePreview(title=listing.title, warnings=listing.warnings, error=(
                    f"aucun élément trouvé avec le sélecteur « {options['select']['item']} » "
                    "(la page a peut-être une autre structure)"))
    except WatchError as exc:
        return SourcePreview(error=str(exc))
    finally:
        if own:
            fetcher.close()
    return SourcePreview(items=tuple(items[:SHOWN]), total=len(items), title=listing.title,
                         warnings=listing.warnings)
