"""Links between legal texts of the catalog: what a document cites, what cites it, and the
copies of one text that came from different sources.

Built on the keys `indexer.enrich.legal.enrich_legal` puts in `Document.extra` and the catalog keeps
in its `legal_keys` table; `indexer.search.space.DocumentSpace` exposes these as methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from veille.storage.catalog import Catalog
from indexer.enrich.legal import cited_keys, is_date_key, key_label, legifrance_url, text_key
from indexer.enrich.legal_vocabulary import NATURE_LABELS
from veille.core.records import Document


@dataclass(frozen=True)
class Citation:
    """A text cited by a document: on Légifrance always, in the catalog when we hold a copy."""

    key: str                             # `loi:2014-173`, `article:L300-1:code-urbanisme` ...
    label: str                           # "loi n° 2014-173", in French
    legifrance_url: str                  # the text's page, or a Légifrance search for it
    documents: tuple[Document, ...] = ()  # local copies (several sources may hold the same text)

    @property
    def local(self) -> Document | None:
        return self.documents[0] if self.documents else None


@dataclass(frozen=True)
class CitedBy:
    """The newest documents citing a text, and how many do in all."""

    documents: tuple[Document, ...]
    total: int
    keys: tuple[str, ...] = ()           # the keys naming the text, which they cite it by


def _by_date(docs: Iterable[Document]) -> list[Document]:
    return sorted(docs, key=lambda d: (d.date.timestamp(), d.id), reverse=True)


def cites(catalog: Catalog, doc: Document) -> list[Citation]:
    """The texts `doc` cites, in the order it cites them, each resolved to local copies."""
    keys = cited_keys(doc)
    targets = {key: text_key(key) for key in keys}
    found = catalog.legal_keys.documents(set(targets.values()), "self")
    docs = catalog.documents.get_many({i for ids in found.values() for i in ids if i != doc.id})
    citations = []
    for key in keys:
        local = tuple(docs[i] for i in found.get(targets[key], ()) if i in docs)
        citations.append(Citation(key=key, label=key_label(key), legifrance_url=legifrance_url(key),
                                  documents=tuple(_by_date(local))))
    return citations


def own_keys(doc: Document) -> list[str]:
    return [str(k) for k in (doc.extra or {}).get("legal_ids", ())]


def cited_by(catalog: Catalog, doc: Document) -> list[Document]:
    """Documents of the catalog citing `doc` (by number, NOR, ELI, Légifrance id, date, or one
    of its articles), newest first; `doc`'s own copies from other sources are not citations.
    Every one of them is read: for an index that cannot answer (see `DocumentSpace.cited_by`)."""
    own = own_keys(doc)
    if not own:
        return []
    keys = set(own)
    found = catalog.legal_keys.documents(keys, "cites")
    ids = {i for doc_ids in found.values() for i in doc_ids}
    # "article 5 de la loi n° 2014-173" cites the law too
    ids |= _citing_an_article(catalog, own)
    ids.discard(doc.id)
    ids -= {d.id for d in same_as(catalog, doc)}
    return _by_date(catalog.documents.get_many(ids).values())


def _citing_an_article(catalog: Catalog, own: list[str]) -> set[str]:
    texts = [k for k in own if k.split(":")[0] in NATURE_LABELS and not is_date_key(k)]
    if not texts:
        return set()
    rows = catalog.legal_keys.documents_like([f"article:%:{k}" for k in texts], "cites")
    return set(rows)


def same_as(catalog: Catalog, doc: Document) -> list[Document]:
    """Other documents that are the same legal text (a feed item, an API text, a library PDF):
    they share a key naming the text itself (dates aside: several texts share a date)."""
    keys = [k for k in own_keys(doc) if not is_date_key(k)]
    if not keys:
        return []
    found = catalog.legal_keys.documents(keys, "self")
    ids = {i for doc_ids in found.values() for i in doc_ids} - {doc.id}
    return _by_date(catalog.documents.get_many(ids).values())


def legal_ids(catalog: Catalog, ids: Iterable[str]) -> dict[str, str]:
    """doc id -> legal_id for the legal texts among `ids`: search results sharing one are
    the same text and are shown together."""
    return {doc_id: extra["legal_id"] for doc_id, extra in catalog.documents.extras_of(ids).items()
            if (extra or {}).get("legal_id")}
