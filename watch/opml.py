"""OPML, the feed readers' subscription lists: import into `sources.yaml`, export from it.

`read_opml(data)` and `write_opml(sources)` are pure. `add_feeds_to_config(path, feeds)`
appends new feed sources to the configuration file through ruamel.yaml, which keeps its
comments and layout, and writes the file only if the result still validates.
"""

from __future__ import annotations

import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Iterable

from veille.core.config import Config, ConfigError, Source, parse_config
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


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:60].strip("-") or "flux"


@dataclass(frozen=True)
class ImportReport:
    added: tuple[str, ...]                # names of the new sources
    skipped: tuple[str, ...]              # URLs already watched


def add_feeds_to_config(config: Config, feeds: Iterable[OpmlFeed], schedule: str = "12h") -> ImportReport:
    """Append the feeds not yet watched to the configuration file, keeping its comments."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    path = Path(config.path)
    text = path.read_text(encoding="utf-8")
    yaml = YAML()  # round-trip: comments, order and quoting are kept
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    document = yaml.load(text)
    if document is None:
        document = CommentedMap()
    sources = document.get("sources")
    if sources is None:
        sources = document["sources"] = CommentedSeq()
    watched = {canonicalize_url(s.url) for s in config.sources}
    names = {s.name for s in config.sources}
    added, skipped = [], []
    for feed in feeds:
        if canonicalize_url(feed.url) in watched:
            skipped.append(feed.url)
            continue
        name = base = slugify(feed.title)
        number = 2
        while name in names:
            name, number = f"{base}-{number}", number + 1
        names.add(name)
        watched.add(canonicalize_url(feed.url))
        entry = CommentedMap([("name", name), ("title", feed.title), ("kind", "feed"),
                              ("url", feed.url), ("schedule", schedule)])
        if feed.categories:
            tags = CommentedSeq(feed.categories)
            tags.fa.set_flow_style()
            entry["tags"] = tags
        sources.append(entry)
        added.append(name)
    if added:
        out = io.StringIO()
        yaml.dump(document, out)
        new_text = out.getvalue()
        try:
            parse_config(new_text, path)  # never write a file `veille check` would refuse
        except ConfigError as exc:
            raise OpmlError("import refusé, le fichier obtenu serait invalide : "
                            + "; ".join(exc.problems)) from None
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(new_text, encoding="utf-8")
        tmp.replace(path)
    return ImportReport(added=tuple(added), skipped=tuple(skipped))
