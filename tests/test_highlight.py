"""Snippets: best passage, escaping, page numbers; matching_spans (the fast path) marks
exactly the words the analysis matches."""

import os
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from indexer.search.analysis import WORD_RE, analyze, fold_word, normalized, stem, tokens
from indexer.search.highlight import (STEM_SLACK, Highlighter, _candidate_words, highlighter_for,
                               matching_spans, snippet)
from indexer.search.query import parse_query

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


def _assert_spans_are_the_tokens_marked(text: str, query_words: list[str]) -> None:
    """matching_spans() marks exactly the words tokens() analyses into a query term."""
    text = normalized(text)   # what snippet() hands it
    highlighter = highlighter_for(parse_query(" OR ".join(query_words)))
    found = {}   # a word that folding splits (`école_école`) is marked once, for its first term
    for t in tokens(text):
        if highlighter.matches(t.term):
            found.setdefault((t.start, t.end), t.term)
    assert matching_spans(text, highlighter) == [(s, e, term) for (s, e), term in found.items()]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS + [" ", ", ", "\n", "\f", "<", "&"]), max_size=60),
       st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
def test_fast_path_agrees_with_tokens_and_the_index_terms(parts, query_words):
    text = "".join(parts)
    _assert_spans_are_the_tokens_marked(text, query_words)
    # word by word gives the terms the index gets from the whole text
    assert [t.term for t in tokens(text)] == analyze(text)


# ---------------------------------------------------------------- candidate words (the fast path)

FIXTURES = Path(__file__).parent / "fixtures"


def stem_prefix_slack(word: str) -> int:
    """How many of its stem's last letters a folded word does not start with."""
    folded = fold_word(word)
    term = stem(folded)
    same = len(os.path.commonprefix([term, folded]))
    return len(term) - same


def test_snowball_keeps_the_stem_but_its_last_letters_committed_words():
    words = [line for line in (FIXTURES / "french_words.txt").read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    assert len(words) > 300
    slack = {word: stem_prefix_slack(word) for word in words}
    assert max(slack.values()) == STEM_SLACK   # the list holds the worst cases
    assert slack["fréquemment"] == 2 and slack["publication"] == 2 and slack["nationaux"] == 1


def test_snowball_keeps_the_stem_but_its_last_letters_real_vocabulary(shared_corpus):
    words = set()
    for path in sorted((shared_corpus / "legal").rglob("*.md"))[:800]:
        words.update(WORD_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    assert len(words) > 5000
    worst = max(words, key=stem_prefix_slack)
    assert stem_prefix_slack(worst) <= STEM_SLACK, worst


MARKED_CASES = [
    # (query, text, marked words)
    ("ecole", "L'ÉCOLE, les écoles, une Ecole, l'e\u0301cole et l'E\u0301COLE.",
     ["ÉCOLE", "écoles", "Ecole", "école", "ÉCOLE"]),
    ("coeur", "Le cœur, les CŒURS, le coeur ; cœurs.", ["cœur", "CŒURS", "coeur", "cœurs"]),
    ("oeuvre", "Œuvre, œuvres, mise en œuvre, oeuvrer.", ["Œuvre", "œuvres", "œuvre", "oeuvrer"]),
    ("efficace", "Une action eﬃcace, efﬁcaces, EFFICACE.", ["eﬃcace", "efﬁcaces", "EFFICACE"]),
    ("financement", "Le ﬁnancement et les ﬁnancements.", ["ﬁnancement", "ﬁnancements"]),
    ("strasse", "Die Straße, die STRASSE.", ["Straße", "STRASSE"]),
    ("frequemment", "Il vient fréquemment, FRÉQUEMMENT.", ["fréquemment", "FRÉQUEMMENT"]),
    ("application", "L'application, les applications, appliquer la loi, appliqué.",
     ["application", "applications", "appliquer", "appliqué"]),
    ("nationaux", "Les parcs nationaux, un parc national.", ["nationaux", "national"]),
    ("renov*", "La rénovation, RÉNOVER, renové, un renouveau.", ["rénovation", "RÉNOVER", "renové"]),
    ("ville", "ville_de_paris, la ville, ﬁnvilles, villes.", ["ville", "ville", "villes"]),
    ("ville", "\u0301ville et \u0301villes, e\u0345ville", ["ville", "villes", "ville"]),
    ("2020", "décret n° 2020-1576 du 14 décembre 2020, ２０２０, 20201.", ["2020", "2020", "２０２０"]),
    ("ecole", "σχολή école", ["école"]),
]


@pytest.mark.parametrize("query, text, expected", MARKED_CASES)
def test_marks_accents_ligatures_and_decomposed_letters(query, text, expected):
    highlighter = highlighter_for(parse_query(query))
    text = normalized(text)
    reference = [(t.start, t.end, t.term) for t in tokens(text) if highlighter.matches(t.term)]
    spans = matching_spans(text, highlighter)
    assert spans == reference
    assert [text[s:e] for s, e, _ in spans] == expected


def test_long_tail_words_are_not_stemmed_unless_they_could_match():
    text = " ".join(f"zyxmot{i}verbe" for i in range(50)) + " logements"
    highlighter = highlighter_for(parse_query("logement"))
    candidates = _candidate_words(text, highlighter)
    assert candidates == {"logements"}
    assert [text[s:e] for s, e, _ in matching_spans(text, highlighter)] == ["logements"]


def test_short_terms_fall_back_to_every_word():
    text = "Le eu, les eux, un euro."
    highlighter = Highlighter(frozenset({"eu"}))
    assert _candidate_words(text, highlighter) == set(WORD_RE.findall(text))
    assert matching_spans(text, highlighter) == [(t.start, t.end, t.term) for t in tokens(text)
                                                 if highlighter.matches(t.term)]


ODD_CHARACTERS = ["é", "É", "e\u0301", "\u0301", "\u0345", "œ", "Œ", "æ", "ﬁ", "ﬃ", "ß", "_", "ǆ",
                  "½", "²", "K", "ſ", "ı", "İ", "ﬅ", "ĳ", "σ", "ж", "٣", "２", "ｅ", "-", "'", " "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS + ODD_CHARACTERS + list("aeiousltcrnm")), max_size=80),
       st.lists(st.sampled_from(WORDS + ["efficace", "finance", "coeur", "strasse", "dz", "renov*",
                                         "ecol*", "fi*"]), min_size=1, max_size=3))
def test_candidates_never_miss_a_word_the_analysis_marks(parts, query_words):
    text = "".join(parts)
    _assert_spans_are_the_tokens_marked(text, query_words)
