"""The words people read for the service's own vocabularies, defined once: document kinds,
source kinds, visibilities. The values themselves (in `sources.yaml`, the catalog, URLs)
stay as they are; pages, e-mails and the command line show these labels."""

from __future__ import annotations

from veille.core.records import (FREQUENCY_IMMEDIATE, FREQUENCY_WEEKLY, KIND_LEGAL, KIND_LIBRARY, KIND_NEWS,
                                 KIND_PAGE_CHANGE, KIND_PUBLICATION, VISIBILITY_INTERNAL, VISIBILITY_PUBLIC)

DOCUMENT_KIND_LABELS = {
    KIND_LEGAL: "Texte juridique",
    KIND_NEWS: "Actualité",
    KIND_PUBLICATION: "Publication",
    KIND_LIBRARY: "Bibliothèque du centre",
    KIND_PAGE_CHANGE: "Page modifiée",
}

SOURCE_KIND_LABELS = {
    "feed": "Flux RSS/Atom",
    "page": "Page de liste",
    "change": "Page surveillée",
    "legifrance": "Journal officiel (API Légifrance)",
    "dila-jorf": "Journal officiel (données de la DILA)",
}

VISIBILITY_LABELS = {VISIBILITY_PUBLIC: "Public", VISIBILITY_INTERNAL: "Interne"}

FREQUENCY_LABELS = {FREQUENCY_WEEKLY: "dans le courriel hebdomadaire", FREQUENCY_IMMEDIATE: "immédiatement"}


def document_kind_label(kind: str) -> str:
    return DOCUMENT_KIND_LABELS.get(kind, kind)


def source_kind_label(kind: str) -> str:
    return SOURCE_KIND_LABELS.get(kind, kind)
