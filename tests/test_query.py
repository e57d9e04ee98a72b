"""The query language: syntax, repairs explained in French, and never a crash."""

import pytest
from hypothesis import given, settings, strategies as st

from indexer.search.query import (And, Not, Or, ParsedQuery, Phrase, Word, parse_query,
                           suggestion_words)


def test_default_is_all_words():
    parsed = parse_query("renovation urbaine")
    assert parsed.root == And((Word("renovation"), Word("urbaine")))
    assert parsed.notice == ""


def test_phrase_or_and_exclusion():
    parsed = parse_query('"contrat de ville" OR qpv -Paris')
    assert parsed.root == Or((Phrase("contrat de ville"),
                              And((Word("qpv"), Not(Word("Paris"))))))
    assert parse_query("NOT Paris").root == Not(Word("Paris"))
    assert parse_query("logement OU habitat").root == Or((Word("logement"), Word("habitat")))


def test_french_quotes_are_phrases():
    assert parse_query("« politique de la ville »").root == Phrase("politique de la ville")
    assert parse_query("“quartier prioritaire”").root == Phrase("quartier prioritaire")


@pytest.mark.parametrize("text, expected", [
    ("title:quartier", Word("quartier", "title")),
    ("titre:quartier", Word("quartier", "title")),
    ("source:vie-publique", Word("vie-publique", "source")),
    ("thème:emploi", Word("emploi", "theme")),
    ("kind:juridique", Word("juridique", "kind")),
    ("type:guide", Word("guide", "type")),
    ("territoire:Schœlcher", Word("Schœlcher", "territory")),
    ("année:2024", Word("2024", "year")),
    ('title:"plan de relance"', Phrase("plan de relance", "title")),
])
def test_fields(text, expected):
    parsed = parse_query(text)
    assert parsed.root == expected
    assert parsed.notice == ""


def test_field_group_applies_to_each_word():
    assert parse_query("theme:(emploi OR santé)").root == Or(
        (Word("emploi", "theme"), Word("santé", "theme")))


def test_wildcards_and_parentheses():
    parsed = parse_query("(renov* OR réhabilitation) logement")
    assert parsed.root == And((Or((Word("renov*", wildcard=True), Word("réhabilitation"))),
                               Word("logement")))


@pytest.mark.parametrize("text, root, notice", [
    ('"contrat de ville', Phrase("contrat de ville"), "Guillemet non fermé"),
    ("(logement OR habitat", Or((Word("logement"), Word("habitat"))), "Parenthèse non fermée"),
    ("logement ) habitat", And((Word("logement"), Word("habitat"))), "Parenthèse fermante"),
    ("logement OR", Word("logement"), "« OR » sans mot"),
    ("OR logement", Word("logement"), "« OR » sans mot"),
    ("logement OR OR habitat", Or((Word("logement"), Word("habitat"))), "« OR » sans mot"),
    ("logement - habitat", And((Word("logement"), Word("habitat"))), "Signe « - » seul"),
    ("-", None, "Signe « - » seul"),
    ("title: logement", Word("logement"), "Champ « title: » sans valeur"),
    ("auteur:Dupont", Word("auteur:Dupont"), "Champ inconnu « auteur: »"),
    ("*", None, "Joker seul"),
    ("a*", None, "un joker demande au moins 2 lettres avant * ou ?"),
    ("logement b? title:?x*", Word("logement"), "« b? » ignoré"),
    ('""', None, "Expression vide"),
    ("les", Word("les"), "Mots trop courants"),
])
def test_repairs_are_explained_in_one_french_line(text, root, notice):
    parsed = parse_query(text)
    assert parsed.root == root
    assert notice in parsed.notice
    assert "\n" not in parsed.notice


def test_urls_are_text_without_a_notice():
    parsed = parse_query("https://www.anct.gouv.fr/")
    assert parsed.root == Word("https://www.anct.gouv.fr/")
    assert parsed.notice == ""


def test_empty_query_is_everything():
    assert parse_query("").root is None
    assert parse_query("   ").is_empty


def test_overlong_and_deep_queries_are_bounded():
    assert "tronquée" in parse_query("mot " * 400).notice
    parsed = parse_query("(" * 5000 + "a")
    assert isinstance(parsed, ParsedQuery)


def test_did_you_mean_replaces_plain_words_only():
    parsed = parse_query('renovatoin title:quartier "contrat de ville" -paris urba*')
    assert suggestion_words(parsed) == ["renovatoin"]
    assert parsed.replace_words({"renovatoin": "renovation"}).text() == \
        'renovation title:quartier "contrat de ville" -paris urba*'


QUERY_ALPHABET = st.sampled_from(list('abcé œ"«»()-*?:ORNOTtitle:source:theme:|+&\\\f\n\t\x00'))
query_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(QUERY_ALPHABET,
                       st.sampled_from(["OR", " OR ", "NOT ", "title:", "theme:(", '"', "-", ")", "("])),
             max_size=40).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(query_text)
def test_any_text_parses_without_error(text):
    parsed = parse_query(text)
    assert isinstance(parsed, ParsedQuery)
    assert "\n" not in parsed.notice


@settings(max_examples=400, deadline=None)
@given(query_text)
def test_written_back_query_parses_to_the_same_tree(text):
    parsed = parse_query(text)
    again = parse_query(parsed.text())
    assert again.root == parsed.root


def test_query_word_count_is_capped_with_a_french_notice():
    from indexer.search.query import MAX_QUERY_WORDS

    pasted = " ".join(f"mot{i}" for i in range(200))
    parsed = parse_query(pasted)
    assert len(parsed.positive_words()) == MAX_QUERY_WORDS
    assert f"Requête limitée à ses {MAX_QUERY_WORDS} premiers mots." in parsed.notice
    long = parse_query("rénovation " + "p" * 600)
    assert "Requête tronquée à 500 caractères." in long.notice
    law = parse_query("Loi n° 2014-173 du 21 février 2014 de programmation pour la ville et la cohésion urbaine")
    assert "premiers mots" not in law.notice


def test_two_letter_wildcards_still_work():
    assert parse_query("re*").root == Word("re*", wildcard=True)
    assert parse_query("ur?a*").root == Word("ur?a*", wildcard=True)
    assert parse_query("re*").notice == ""
