"""What the source parsers return: items found on a feed or a listing page.

Parsers are pure (bytes and a base URL in, a `Listing` out); the crawler turns items into
catalog documents.
"""

from __future__ import annotations

import copyreg
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Mapping

# Listings come back from the parsing worker process pickled: a read-only mapping travels
# as the dict it wraps, and is wrapped again on arrival.
def read_only(values: dict) -> Mapping[str, Any]:
    return MappingProxyType(values)


copyreg.pickle(MappingProxyType, lambda proxy: (read_only, (dict(proxy),)))


@dataclass(frozen=True)
class Item:
    """One entry of a feed or of a listing page."""

    url: str | None                           # absolute link to the item; None for a feed
                                              # entry without one (a notice, an announcement)
    title: str
    summary: str = ""                         # plain text
    content: str = ""                         # full plain text when the source carries it
    published: datetime | None = None         # aware datetime when known
    guid: str = ""                            # the feed's own id, when any
    authors: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()         # documents attached to a feed entry (enclosures)
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Listing:
    """What one fetched body of a source yields."""

    items: tuple[Item, ...]
    title: str = ""                           # the feed's or page's own title
    link: str = ""                            # the feed's own web page (its <link>), if any
    warnings: tuple[str, ...] = ()            # recovered problems (ill-formed feed, bad dates)
    next_url: str | None = None               # pagination: the next page to read, if any


def entry_key(item: Item) -> str:
    """What identifies an entry in its feed: its id (guid), else its link, else its content
    (a link-less entry without an id is a new entry when its text changes, as in feed readers)."""
    if item.guid:
        return item.guid
    if item.url:
        return item.url
    text = "\n".join((item.title, item.summary, item.content))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
