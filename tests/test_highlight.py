"""matching_spans (the fast path of snippets) marks exactly the words the analysis matches."""

import pytest

from indexer.analysis import tokens
from indexer.highlight import highlighter_for, matching_spans, snippet
from indexer.query import parse_query

TEXT = ("La rénovation urbaine de Schœlcher : l'école, les écoles et la RÉNOVATION des "
        "logements. Le ﬁnancement du contrat de ville ½ ; décret n° 2020-1576 ; villes, Ville.")


@pytest.mark.parametrize("q", ["renovations urbaines", "ecole", "Schoelcher", "financement",
                               '"contrat de ville"', "décret 2020-1576", "ville", "les", "renov*"])
def test_same_spans_as_analysing_every_word(q):
    marker = highlighter_for(parse_query(q))
    expected = [(t.start, t.end, t.term) for t in tokens(TEXT) if marker.matches(t.term)]
    assert matching_spans(TEXT, marker) == expected


def test_whole_words_only():
    marker = highlighter_for(parse_query("ville"))
    marked = [TEXT[s:e] for s, e, _ in matching_spans(TEXT, marker)]
    assert marked == ["ville", "villes", "Ville"]
    html, _ = snippet(TEXT, marker)
    assert "<mark>villes</mark>" in html and "<mark>ville</mark>" in html
