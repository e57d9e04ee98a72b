"""The facets of the documentation space, defined once.

A facet has one name used everywhere in code and in URLs (`?theme=...`, alert filters in
`sources.yaml`, `SearchRequest.filters`, `SearchResults.facets`, the JSON API), the field
the search engines index it in, the field of the query language (`theme:habitat`) and the
French label people read. Nothing else spells these out.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class Facet:
    name: str            # URL parameter, alert filter key, key of filters and facet counts
    field: str           # the search engines' field
    query_field: str     # the query language's `field:` (indexer.search.query)
    label: str           # shown to people
    alert_filter: bool = True   # may restrict an alert (`alerts[].filters`)
    staff_only: bool = False    # offered to staff only


FACETS: tuple[Facet, ...] = (
    Facet("kind", "kind", "kind", "Catégorie"),
    Facet("source", "source", "source", "Source"),
    Facet("theme", "themes", "theme", "Thème"),
    Facet("territory", "territories", "territory", "Territoire"),
    Facet("doc_type", "doc_type", "type", "Type de document"),
    Facet("year", "year", "year", "Année", alert_filter=False),
    Facet("visibility", "visibility", "visibility", "Visibilité", alert_filter=False, staff_only=True),
)

BY_NAME: Mapping[str, Facet] = MappingProxyType({facet.name: facet for facet in FACETS})
FACET_NAMES: tuple[str, ...] = tuple(facet.name for facet in FACETS)
ALERT_FILTERS: tuple[str, ...] = tuple(facet.name for facet in FACETS if facet.alert_filter)
PUBLIC_FACETS: tuple[str, ...] = tuple(facet.name for facet in FACETS if not facet.staff_only)
