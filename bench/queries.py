"""The fixed query mix of the search benchmark, in Veille's syntax and in FTS5's.

Real-looking queries of the centre's users: single words (with and without accents), AND
(the default), OR, phrases, field queries, legal references, date ranges, facet filters
and sort by date. Each has its FTS5 translation so the baseline answers the same question
(FTS5 has no French stemming: it matches fewer documents, which only flatters it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class BenchQuery:
    label: str                      # kind of query, for per-kind timings
    q: str                          # as typed in Veille's search box
    fts: str                        # FTS5 MATCH expression
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"


QUERIES: tuple[BenchQuery, ...] = (
    BenchQuery("word", "logement", "logement"),
    BenchQuery("word", "rénovation", "rénovation"),
    BenchQuery("word", "ecoles", "ecoles"),
    BenchQuery("word", "collectivite", "collectivite"),
    BenchQuery("word", "Schoelcher", "Schœlcher OR Schoelcher"),
    BenchQuery("word", "insalubrité", "insalubrité"),
    BenchQuery("and", "renovation urbaine", "renovation urbaine"),
    BenchQuery("and", "quartier Fort-de-France", 'quartier "fort de france"'),
    BenchQuery("and", "emploi insertion jeunes", "emploi insertion jeunes"),
    BenchQuery("and", "contrat ville Lamentin", "contrat ville lamentin"),
    BenchQuery("or", "habitat OR logement", "habitat OR logement"),
    BenchQuery("or", "cyclones OR séismes OR submersion", "cyclones OR séismes OR submersion"),
    BenchQuery("phrase", '"contrat de ville"', '"contrat de ville"'),
    BenchQuery("phrase", '"politique de la ville"', '"politique de la ville"'),
    BenchQuery("phrase", '"renouvellement urbain" Martinique',
               '"renouvellement urbain" martinique'),
    BenchQuery("field", "title:rapport", "title : rapport"),
    BenchQuery("field", "title:guide habitat", "title : guide AND habitat"),
    BenchQuery("legal", "décret 2020-1576", 'décret "2020 1576"'),
    BenchQuery("legal", '"loi n° 2014-173"', '"loi n 2014 173"'),
    BenchQuery("date", "logement social", "logement social",
               date_from=date(2020, 1, 1), date_to=date(2022, 12, 31)),
    BenchQuery("date", "santé", "santé", date_from=date(2024, 1, 1)),
    BenchQuery("filter", "rénovation", "rénovation", filters={"kind": ("juridique",)}),
    BenchQuery("filter", "éducation", "éducation",
               filters={"territory": ("Fort-de-France",), "kind": ("actualité",)}),
    BenchQuery("sort", "quartiers prioritaires", "quartiers prioritaires", sort="date"),
    BenchQuery("sort", "décret", "décret", sort="date"),
)


def mix(rounds: int) -> list[BenchQuery]:
    """`rounds` passes over the mix, in a fixed interleaved order."""
    return [q for _ in range(rounds) for q in QUERIES]
