"""French analysis: the cases of issue 4, each checked on the pure pipeline and in Whoosh."""

import pytest

from indexer.search.analysis import FrenchTokenizer, STOP_WORDS, analyze, fold, tokens


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
    found = list(tokens("Le contrat de ville de Fort-de-France"))
    assert [t.term for t in found] == ["contrat", "vill", "fort", "franc"]
    assert [t.pos for t in found] == [0, 1, 2, 3]
    # the query side of a phrase gives the same consecutive terms
    assert analyze("contrat de ville") == ["contrat", "vill"]


def test_spans_point_into_the_original_text():
    text = "Les ﬁnancements de Schœlcher"
    spans = [text[t.start:t.end] for t in tokens(text)]
    assert spans == ["ﬁnancements", "Schœlcher"]


def test_whoosh_analyzer_gives_the_same_terms_with_positions_and_chars():
    text = "La rénovation urbaine à Schœlcher"
    got = [(t.text, t.pos, t.startchar, t.endchar)
           for t in FrenchTokenizer()(text, positions=True, chars=True)]
    assert [g[0] for g in got] == analyze(text)
    assert [g[1] for g in got] == [0, 1, 2]
    assert text[got[2][2]:got[2][3]] == "Schœlcher"
