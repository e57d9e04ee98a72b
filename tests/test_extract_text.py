"""Plain text and Markdown: charsets, markup removed, front matter."""

from __future__ import annotations

import pytest

from indexer.extract import extract
from indexer.extract.text import decode_bytes, markdown_to_text

FRENCH = "Éducation prioritaire à Schœlcher : « réussite » des élèves — coût 5 €"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252"])
def test_decode_french_in_common_charsets(encoding):
    data = FRENCH.encode(encoding)
    assert decode_bytes(data) == FRENCH


def test_latin1_and_other_charsets():
    assert decode_bytes("Rivière-Salée, Trois-Îlets".encode("latin-1")) == "Rivière-Salée, Trois-Îlets"
    russian = "Политика городов и кварталов в заморских территориях Франции"
    assert decode_bytes(russian.encode("cp1251")) == russian


def test_markdown_markup_is_removed():
    text = markdown_to_text("## Titre ##\n\n**gras** et _italique_ et [lien](http://x) ![image](a.png)\n\n* item")
    assert text.split("\n") == ["Titre", "", "gras et italique et lien image", "", "item"]
    # a word_with_underscores and 2*3*4 are not emphasis
    assert markdown_to_text("snake_case_name et 2*3*4") == "snake_case_name et 2*3*4"


def test_plain_text_is_not_treated_as_markdown():
    result = extract("Compte rendu\nLigne avec *astérisques* gardés\n".encode(), filename="cr.txt")
    assert "*astérisques*" in result.text
    assert result.title == "Compte rendu"


def test_front_matter_must_be_a_mapping():
    result = extract(b"---\n- a\n- b\n---\n# Vrai titre\n", filename="x.md")
    assert result.title == "Vrai titre"
    result = extract(b"---\ntitle: [unclosed\n---\n# Titre\n", filename="y.md")
    assert result.status == "ok" and result.title
