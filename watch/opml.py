"""OPML, the feed readers' subscription lists: import into `sources.yaml`, export from it.

`read_opml(data)` and `write_opml(sources)` are pure. `add_feeds_to_config(config, feeds)`
appends new feed sources to the configuration file with veille.core.config_write, which
keeps its comments and layout and writes the file only if the result still validates.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Iterable

from veille.core.config import Config, ConfigError, Source
from veille.core.config_write import append_source, edit_config, unique_name
from veille.core.config_checks import is_http_url
from veille.core.url_secrets import masked_url
from watch.errors import WatchError
from watch.urls import canonicalize_url


class OpmlError(WatchError):
    code = "opml_error"


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str
    site_url: str = ""
    categories: tuple[str, ...] = ()     # the folders the feed sits in


def read_opml(data: bytes) -> list[OpmlFeed]:
    """Every outline with an http(s) `xmlUrl`, with its folder names as categories."""
    if b"<!ENTITY" in data[:4096].upper():
        raise OpmlError("fichier OPML refusé : il déclare des entités XML")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise OpmlError(f"fichier OPML illisible : {exc}") from None
    if root.tag.lower() != "opml":
        raise OpmlError("ce n'est pas un fichier OPML (élément racine <opml> attendu)")
    body = root.find("body")
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()

    def walk(node, folders: tuple[str, ...]) -> None:
        for outline in node.findall("outline"):
            url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
            label = (outline.get("title") or outline.get("text") or "").strip()
            if url:
                if is_http_url(url) and canonicalize_url(url) not in seen:
                    seen.add(canonicalize_url(url))
                    feeds.append(OpmlFeed(url=url, title=label or url,
                                          site_url=(outline.get("htmlUrl") or "").strip(),
                                          categories=folders))
            else:
                walk(outline, folders + ((label,) if label else ()))

    if body is not None:
        walk(body, ())
    return feeds


def write_opml(sources: Iterable[Source], title: str = "Veille — sources suivies",
               now: datetime | None = None) -> str:
    """OPML 2.0 listing the feed sources (grouped by their first tag)."""
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(timezone.utc))
    body = ET.SubElement(opml, "body")
    folders: dict[str, ET.Element] = {}
    for source in sources:
        if source.kind != "feed":
            continue
        parent = body
        if source.tags:
            tag = source.tags[0]
            if tag not in folders:
                folders[tag] = ET.SubElement(body, "outline", text=tag, title=tag)
            parent = folders[tag]
        ET.SubElement(parent, "outline", type="rss", text=source.title, title=source.title,
                      xmlUrl=masked_url(source.url))
    ET.indent(opml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(opml, encoding="unicode") + "\n"


@dataclass(frozen=True)
class ImportReport:
    added: tuple[str, ...]                # names of the new sources
    skipped: tuple[str, ...]              # URLs already watched


def add_feeds_to_config(config: Config, feeds: Iterable[OpmlFeed], schedule: str = "12h") -> ImportReport:
    """Append the feeds not yet watched to the configuration file, keeping its comments."""
    watched = {canonicalize_url(s.url) for s in config.sources}
    names = {s.name for s in config.sources}
    added, skipped = [], []
    entries = []
    for feed in feeds:
        if canonicalize_url(feed.url) in watched:
            skipped.append(feed.url)
            continue
        name = unique_name(feed.title, names, fallback="flux")
        names.add(name)
        watched.add(canonicalize_url(feed.url))
        entries.append({"name": name, "title": feed.title, "kind": "feed", "url": feed.url,
                        "schedule": schedule, "tags": list(feed.categories)})
        added.append(name)
    if entries:
        try:
            edit_config(config.path, lambda document: [append_source(document, e) for e in entries])
        except ConfigError as exc:
            raise OpmlError("import refusé, le fichier obtenu serait invalide : "
                            + "; ".join(exc.problems)) from None
    return ImportReport(added=tuple(added), skipped=tuple(skipped))
