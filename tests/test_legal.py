"""Legal references and identity of legal texts (indexer.enrich.legal), on fixture and real sentences."""

from __future__ import annotations

import functools
import html
import json
import re
from datetime import date

import feedparser
import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import FIXTURES
from indexer.enrich.legal_patterns import parse_french_date
from indexer.enrich.legal import (
    code_slug, extract_legal_refs, identify, identify_all, key_label, legal_keys, legifrance_url,
    nature_label, nature_of_title, query_keys,
)

CASES = yaml.safe_load((FIXTURES / "legal" / "references.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:50] for c in CASES])
def test_references_in_sentences(case):
    assert legal_keys(case["text"]) == case["keys"]


def test_reference_records_carry_matched_text_and_date():
    [ref] = extract_legal_refs("Vu la loi n° 2014-173 du 21 février 2014 de programmation ;")
    assert (ref.kind, ref.key, ref.text, ref.date) == (
        "loi", "loi:2014-173", "loi n° 2014-173 du 21 février 2014", date(2014, 2, 21))
    assert ref.label == "loi n° 2014-173"


@pytest.mark.parametrize("text, expected", [
    ("21 février 2014", date(2014, 2, 21)),
    ("le 1er août 2003", date(2003, 8, 1)),
    ("1ᵉʳ septembre 1948", date(1948, 9, 1)),
    ("5 DECEMBRE 2020", date(2020, 12, 5)),
    ("31 février 2021", None),
    ("février 2021", None),
])
def test_french_dates(text, expected):
    assert parse_french_date(text) == expected


@pytest.mark.parametrize("title, text, url, expected", [
    ("LOI n° 2014-173 du 21 février 2014 de programmation pour la ville et la cohésion urbaine",
     "", None, ("loi:2014-173", "loi:2014-02-21")),
    ("Décret n° 2021-214 du 24 février 2021 établissant les limites extérieures de la mer territoriale",
     "", "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000043184966",
     ("decret:2021-214", "jorftext:JORFTEXT000043184966", "decret:2021-02-24")),
    ("Arrêté du 10 décembre 2020 portant nomination", "",
     "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000042677123",
     ("jorftext:JORFTEXT000042677123", "arrete:2020-12-10")),
    # a JO print in the library: the title is a file name, the text says what it is
    ("joe_20140222_0045_0001", "JOURNAL OFFICIEL DE LA RÉPUBLIQUE FRANÇAISE\nLOIS\n"
     "LOI n° 2014-173 du 21 février 2014 de programmation pour la ville (1)\nNOR : VILX1306039L\n",
     None, ("loi:2014-173", "nor:VILX1306039L", "loi:2014-02-21")),
    ("Une page", "", "https://www.legifrance.gouv.fr/eli/loi/2020/12/14/2020-1576/jo/texte",
     ("loi:2020-1576", "eli:/eli/loi/2020/12/14/2020-1576/jo/texte")),
])
def test_identify_all(title, text, url, expected):
    assert identify_all(title, text, url) == expected


def test_identify_is_none_for_non_legal_texts_and_for_date_only_titles():
    assert identify("Guide de la politique de la ville", "La loi n° 2014-173 du 21 février 2014 ...") is None
    # a guide that starts by citing a law is not that law (no NOR line: not a JO print)
    assert identify("Guide", "Loi n° 2014-173 du 21 février 2014\nPrésentation") is None
    # several arrêtés share a date: a date alone never names one
    assert identify("Arrêté du 10 décembre 2020 portant nomination", "", None) is None
    assert identify("Actualité", "", "https://www.vie-publique.fr/loi/123") is None


@pytest.mark.parametrize("query, keys", [
    ("loi 2014-173", ["loi:2014-173"]),
    ("2014-173", ["loi:2014-173", "ordonnance:2014-173", "decret:2014-173"]),
    ("décret n° 2020-1576 logement", ["decret:2020-1576"]),
    ("ECOX2023815L", ["nor:ECOX2023815L"]),
    ("JORFTEXT000042665307", ["jorftext:JORFTEXT000042665307"]),
    ("article L. 300-1 du code de l'urbanisme", ["article:L300-1:code-urbanisme"]),
    ("rénovation urbaine 2021", []),
    ("article L. 300-1", []),
])
def test_query_keys(query, keys):
    assert query_keys(query) == keys


def test_labels_links_and_natures():
    assert code_slug("code de la construction et de l'habitation") == "code-construction-habitation"
    assert key_label("arrete:2021-03-05") == "arrêté du 5 mars 2021"
    assert key_label("arrete:2021-03-01") == "arrêté du 1er mars 2021"
    assert key_label("article:55:loi:2000-1208") == "article 55 (loi n° 2000-1208)"
    assert legifrance_url("jorftext:JORFTEXT000042665307") == \
        "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000042665307"
    assert legifrance_url("loi:2014-173").endswith("query=loi%202014-173")
    assert nature_of_title("Décret n° 2021-214 du 24 février 2021") == "décret"
    assert nature_of_title("LOI n° 2020-1576") == "loi"
    assert nature_of_title("Guide pratique") == ""
    assert nature_label("ARRETE") == "arrêté"


# ------------------------------------------------------------------ the real corpus


def test_every_numbered_law_in_the_codes_is_found(shared_corpus):
    """Oracle: a plain regex for `loi n° NN-NNN` over the etalab code articles."""
    oracle = re.compile(r"\b(?:loi|décret|ordonnance)s? n° (\d{2,4}-\d{1,5})\b", re.IGNORECASE)
    files = sorted((shared_corpus / "legal").rglob("article-*.md"))
    assert len(files) > 2000
    checked = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        numbers = {n for n in oracle.findall(text)}
        found = {key.split(":")[1] for key in legal_keys(text)
                 if key.split(":")[0] in ("loi", "decret", "ordonnance")}
        assert numbers <= found, path
        checked += len(numbers)
    assert checked > 300


def test_code_articles_cite_their_code(shared_corpus):
    path = next((shared_corpus / "legal").rglob("code-de-l-urbanisme/**/article-l300-1.md"))
    keys = legal_keys(path.read_text(encoding="utf-8"))
    assert all(k.startswith("article:") for k in keys)
    counts: dict[str, int] = {}
    for file in (shared_corpus / "legal").rglob("*.md"):
        for key in legal_keys(file.read_text(encoding="utf-8")):
            if key.startswith("article:") and key.count(":") == 2:
                code = key.split(":")[2]
                counts[code] = counts.get(code, 0) + 1
    assert counts["code-construction-habitation"] > 100
    assert counts["code-urbanisme"] > 30
    assert counts["code-general-collectivites-territoriales"] > 20


@functools.cache
def _parsed_feeds(folder):
    return [feedparser.parse(path.read_bytes()) for path in sorted(folder.rglob("*.xml"))]


def _feed_entries(shared_corpus):
    for feed in _parsed_feeds(shared_corpus / "feeds" / "legifrss-jorf-atom"):
        yield from feed.entries


def test_jorf_feed_items_are_identified(shared_corpus):
    entries = list(_feed_entries(shared_corpus))
    assert len(entries) > 250
    numbered = 0
    for entry in entries:
        keys = identify_all(entry.title, "", entry.link)
        jorftext = re.search(r"JORFTEXT\d{12}", entry.link).group(0)
        assert f"jorftext:{jorftext}" in keys
        if re.match(r"(LOI|Décret|Ordonnance)( organique)? n° ", entry.title):
            number = re.search(r"n° (\d{4}-\d+)", entry.title).group(1)
            assert identify(entry.title, "", entry.link).endswith(":" + number)
            numbered += 1
        else:
            assert identify(entry.title, "", entry.link) == f"jorftext:{jorftext}"
    assert numbered > 50


def test_jorf_feed_full_texts_yield_references(shared_corpus):
    keys: set[str] = set()
    for entry in _feed_entries(shared_corpus):
        content = entry.get("content", [{}])[0].get("value", "")
        keys.update(legal_keys(BeautifulSoup(html.unescape(content), "html.parser").get_text(" ")))
    kinds = {key.split(":")[0] for key in keys}
    assert {"loi", "decret", "arrete", "article"} <= kinds


def test_api_text_is_identified(shared_corpus):
    text = json.loads((shared_corpus / "web" / "legifrance-api-json" / "JORFTEXT000042665307.json")
                      .read_text(encoding="utf-8"))
    keys = identify_all(text["title"], f"NOR : {text['nor']}\n", text["eli"])
    assert keys[0] == "loi:2020-1576"
    assert {"nor:ECOX2023815L", "eli:/eli/loi/2020/12/14/ECOX2023815L/jo/texte"} <= set(keys)


def test_the_enrichment_hook_adds_legal_identity_and_references():
    from datetime import datetime, timezone

    from veille.core.records import Document
    from indexer.enrich.thesaurus import enrich

    doc = enrich(Document(
        id="x", title="Décret n° 2021-214 du 24 février 2021 établissant les limites extérieures",
        source="jo", kind="juridique", first_seen=datetime(2021, 3, 2, tzinfo=timezone.utc),
        url="https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000043184966",
        content="Vu le décret n° 72-692 du 25 juillet 1972 ; Saint-Pierre-et-Miquelon ..."))
    assert doc.extra["legal_id"] == "decret:2021-214"
    assert doc.extra["legal_refs"] == ["decret:2021-214", "jorftext:JORFTEXT000043184966",
                                       "decret:2021-02-24", "decret:72-692"]
    assert doc.doc_type == "décret"
    assert enrich(doc) == doc
