"""Documents to and from rows of the `documents` table (shared by documents and queue)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from types import MappingProxyType

from veille.core.records import Document
from veille.storage.db import from_iso, stated_iso, to_iso

LIST_FIELDS = ("themes", "territories", "authors")
DATE_FIELDS = ("first_seen", "published", "updated")
# Instants the service noted, stored in UTC; the publication date keeps the offset its source
# gave, since its calendar date is the one the source meant (`2020-12-23T01:00:00+01:00` is
# the 23rd, though 22 December in UTC-4).
NOTED_FIELDS = ("first_seen", "updated")
COLUMNS = tuple(f.name for f in fields(Document))


def row_to_document(row: sqlite3.Row) -> Document:
    values = {name: row[name] for name in COLUMNS}
    for name in LIST_FIELDS:
        values[name] = tuple(json.loads(values[name]))
    for name in DATE_FIELDS:
        values[name] = from_iso(values[name])
    values["extra"] = MappingProxyType(json.loads(values["extra"]))
    return Document(**values)


def document_to_row(doc: Document) -> dict:
    # not asdict(): it deep-copies, and the MappingProxyType of `extra` cannot be copied
    values = {name: getattr(doc, name) for name in COLUMNS}
    for name in LIST_FIELDS:
        values[name] = json.dumps(list(values[name]), ensure_ascii=False)
    for name in NOTED_FIELDS:
        values[name] = to_iso(values[name])
    values["published"] = stated_iso(doc.published)
    values["extra"] = json.dumps(dict(doc.extra), ensure_ascii=False, default=str)
    return values
