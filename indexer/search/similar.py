"""Similar documents ("more like this"): a document's key terms, asked as one query.

The key terms are those of its title and text weighted by tf-idf against the index (the
engine gives document frequencies): frequent in the document, rare in the collection.
"""

from __future__ import annotations

import math
from collections import Counter

from indexer.search.analysis import analyze
from indexer.search.backend import Backend, Query
from indexer.search.fields import FIELD_BOOSTS

KEY_TERMS = 15          # terms of the query
CANDIDATES = 60         # most frequent terms of the document weighed against the index
TEXT_CHARS = 50_000     # text read to find them


def key_terms(backend: Backend, title: str, text: str) -> list[tuple[str, float]]:
    """(term, weight) of the document's KEY_TERMS best terms, best first."""
    counts = Counter(analyze(title) * 3 + analyze(text[:TEXT_CHARS]))
    total = max(1, backend.doc_count())
    candidates = [(term, tf) for term, tf in counts.most_common(CANDIDATES) if len(term) >= 3 or term.isdigit()]
    fields = backend.text_fields
    freqs = backend.doc_freqs([(field, term) for term, _ in candidates for field in fields])
    weighted = []
    for i, (term, tf) in enumerate(candidates):
        df = max(freqs[i * len(fields):(i + 1) * len(fields)])
        if df <= 1:
            continue   # in this document only: nothing else to find with it
        idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
        weighted.append((term, (1 + math.log(tf)) * idf))
    weighted.sort(key=lambda item: (-item[1], item[0]))
    return weighted[:KEY_TERMS]


def similar_query(backend: Backend, title: str, text: str) -> Query | None:
    terms = key_terms(backend, title, text)
    if not terms:
        return None
    return backend.any_of([backend.boost(backend.term(field, term), weight * FIELD_BOOSTS.get(field, 1.0))
                           for term, weight in terms for field in backend.text_fields])
