"""Snippets: best passage, escaping, page numbers; matching_spans (the fast path) marks
exactly the words the analysis matches."""

import pytest
from hypothesis import given, settings, strategies as st

from indexer.analysis import analyze, tokens
from indexer.highlight import Highlighter, highlighter_for, matching_spans, snippet
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


def marks(query: str, text: str):
    html, page = snippet(text, highlighter_for(parse_query(query)))
    return html, page


def test_marks_every_form_of_the_words():
    html, page = marks("renovations ecole", "La Rénovation de l'ÉCOLE et des écoles.")
    assert html == "La <mark>Rénovation</mark> de l&#x27;<mark>ÉCOLE</mark> et des <mark>écoles</mark>."
    assert page is None


def test_ligatures_and_oe_keep_the_right_offsets():
    html, _ = marks("financement Schoelcher", "Le ﬁnancement de Schœlcher.")
    assert html == "Le <mark>ﬁnancement</mark> de <mark>Schœlcher</mark>."


def test_best_passage_is_chosen_and_cut_at_words():
    text = ("intro " * 200) + "le contrat de ville de Sainte-Marie " + ("suite " * 200)
    html, _ = marks('"contrat de ville" Sainte-Marie', text)
    assert html.startswith("… ") and html.endswith(" …")
    assert "<mark>contrat</mark> de <mark>ville</mark> de <mark>Sainte</mark>-<mark>Marie</mark>" in html
    assert len(html) < 400


def test_page_of_the_passage():
    text = "Sommaire.\fChapitre un.\fLe quartier prioritaire de Trénelle."
    assert marks("Trénelle", text)[1] == 3
    assert marks("sommaire", text)[1] == 1
    assert marks("absent", text) == ("Sommaire. Chapitre un. Le quartier prioritaire de Trénelle.", 1)


def test_markup_in_text_is_escaped():
    html, _ = marks("gras", '<img src=x onerror="alert(1)"> alerte <b>gras</b>')
    assert "<img" not in html and "<b>" not in html
    assert html == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; alerte &lt;b&gt;<mark>gras</mark>&lt;/b&gt;"


def test_empty_text():
    assert snippet("", Highlighter(frozenset({"x"}))) == ("", None)


WORDS = ["école", "Ecoles", "rénovation", "RENOVATION", "ville", "de", "la", "l'été", "Fort-de-France",
         "quartier", "2024", "a", "É", "x", "naïve", "Noël", "Schœlcher", "ﬁnance", "eﬃcace",
         "Straße", "e\u0301cole", "cœur", "Æ"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS + [" ", ", ", "\n", "\f", "<", "&"]), max_size=60),
       st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
def test_fast_path_agrees_with_tokens_and_the_index_terms(parts, query_words):
    text = "".join(parts)
    highlighter = highlighter_for(parse_query(" OR ".join(query_words)))
    found = [(t.start, t.end, t.term) for t in tokens(text) if highlighter.matches(t.term)]
    assert matching_spans(text, highlighter) == found
    # word by word gives the terms the index gets from the whole text
    assert [t.term for t in tokens(text)] == analyze(text)
