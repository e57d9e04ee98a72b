"""French analysis: one pipeline for indexing, querying and highlighting, whichever engine."""

import pytest

from indexer.search.analysis import STOP_WORDS, analyze, fold, folded_words, word_terms
from indexer.search.whoosh_backend import FrenchAnalyzer


@pytest.mark.parametrize("typed, indexed", [
    ("renovations urbaines", "rénovation urbaine"),
    ("ecole", "écoles"),
    ("collectivite", "collectivité"),
    ("Schoelcher", "Schœlcher"),
    ("SCHOELCHER", "schœlcher"),
    ("aeration", "æration"),
    ("financement", "ﬁnancement"),         # the fi ligature of PDF text
    ("efficacite", "eﬃcacité"),             # the ffi ligature
    ("Fort-de-France", "fort de france"),
    ("logements sociaux", "Logement social"),
])
def test_typed_words_give_the_indexed_terms(typed, indexed):
    assert analyze(typed) == analyze(indexed)
    assert analyze(typed)  # and they are not dropped


def test_underscores_split_words_in_ascii_and_accented_text_alike():
    # file names: the ASCII fast path of fold() must agree with the full one
    assert analyze("Diagnostic_Tombolo_1998") == ["diagnostic", "tombolo", "1998"]
    assert analyze("Diagnostic_Tombolo_1998 été") == ["diagnostic", "tombolo", "1998"]


def test_accents_are_folded_before_stemming():
    # Snowball treats é as a vowel: stemming unfolded text would split these apart
    assert analyze("collectivité") == analyze("collectivite") == ["collectivit"]
    assert fold("Œuvre Æsop Schœlcher") == "oeuvre aesop schoelcher"


@pytest.mark.parametrize("word", ["les", "ils", "elles", "cette", "de", "la", "à", "où", "été"])
def test_stop_words_are_dropped(word):
    assert analyze(word) == []
    assert analyze(word.upper()) == []


def test_stop_words_list_is_folded():
    assert all(word == fold(word) for word in STOP_WORDS)


def test_elisions_leave_the_word():
    assert analyze("l'école d’été de l’habitat") == analyze("école habitat")


def test_numbers_are_kept_whole():
    assert analyze("Décret n° 2024-1234 du 5 mars") == ["decret", "2024", "1234", "5", "mar"]


def test_positions_skip_stop_words_so_phrases_match():
    assert analyze("Le contrat de ville de Fort-de-France") == ["contrat", "vill", "fort", "franc"]
    # the query side of a phrase gives the same consecutive terms
    assert analyze("contrat de ville") == ["contrat", "vill"]


def test_decomposed_accents_stay_in_their_word():
    assert analyze("re\u0301novation") == analyze("rénovation") == ["renov"]


def test_one_stemmer_for_indexing_and_highlighting():
    # the highlighter's terms of a word are the index's terms of that word
    for word in ("française", "époux", "collectivités", "Schœlcher", "ﬁnancements"):
        assert list(word_terms(word)) == analyze(word)


def test_folded_words_are_the_unstemmed_vocabulary():
    assert folded_words("Les écoles de Schœlcher") == ["ecoles", "schoelcher"]


def test_whoosh_analyzer_gives_the_same_terms_with_positions():
    text = "La rénovation urbaine à Schœlcher"
    got = [(t.text, t.pos) for t in FrenchAnalyzer()(text, positions=True)]
    assert [g[0] for g in got] == analyze(text)
    assert [g[1] for g in got] == [0, 1, 2]
