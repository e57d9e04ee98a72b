"""Theme and territory tagging with the thesaurus shipped in the repo."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from veille.core.records import KIND_LIBRARY, Document
from indexer.enrich.thesaurus import (THESAURUS_FILE, ThesaurusError, default_thesaurus, enrich,
                               fold_accents, load_thesaurus, parse_thesaurus, tag)

COMMUNES = {
    "L'Ajoupa-Bouillon", "Les Anses-d'Arlet", "Basse-Pointe", "Bellefontaine", "Le Carbet",
    "Case-Pilote", "Le Diamant", "Ducos", "Fonds-Saint-Denis", "Fort-de-France", "Le François",
    "Grand'Rivière", "Gros-Morne", "Le Lamentin", "Le Lorrain", "Macouba", "Le Marigot",
    "Le Marin", "Le Morne-Rouge", "Le Morne-Vert", "Le Prêcheur", "Rivière-Pilote",
    "Rivière-Salée", "Le Robert", "Saint-Esprit", "Saint-Joseph", "Saint-Pierre", "Sainte-Anne",
    "Sainte-Luce", "Sainte-Marie", "Schœlcher", "La Trinité", "Les Trois-Îlets", "Le Vauclin",
}


def test_the_shipped_file_is_valid_and_complete():
    thesaurus = load_thesaurus()
    communes = {t.name for t in thesaurus.territories if t.kind == "commune"}
    assert communes == COMMUNES and len(communes) == 34
    assert len([t for t in thesaurus.territories if t.kind == "qpv"]) == 7
    names = {t.name for t in thesaurus.themes}
    for required in ("Habitat et renouvellement urbain", "Emploi et insertion", "Éducation", "Santé",
                     "Sécurité et prévention", "Cohésion sociale", "Participation des habitants",
                     "Culture", "Développement économique", "Transports et mobilité", "Jeunesse"):
        assert required in names


@pytest.mark.parametrize("commune", sorted(COMMUNES))
def test_every_commune_is_found_by_its_name_in_a_sentence(commune):
    tags = tag("", f"Réunion publique organisée hier à {commune} avec les habitants.")
    assert commune in tags.territories
    assert "Martinique" in tags.territories and "Outre-mer" in tags.territories


@pytest.mark.parametrize("text", ["Schœlcher", "Schoelcher", "SCHŒLCHER", "schoelcher",
                                  "Schœlchérois", "les Schoelcheroises"])
def test_schoelcher_spellings(text):
    assert "Schœlcher" in tag(text, "").territories


def test_accents_hyphens_and_apostrophes_are_ignored():
    for text in ("Fort de France", "FORT-DE-FRANCE", "fort-de-france", "Foyalais"):
        assert "Fort-de-France" in tag(text, "").territories, text
    for text in ("Grand Rivière", "Grand-Riviere", "Grand’Rivière"):
        assert "Grand'Rivière" in tag(text, "").territories, text
    assert "Les Trois-Îlets" in tag("Trois Ilets", "").territories


def test_qpv_names_tag_the_qpv_and_its_commune():
    tags = tag("Diagnostic en marchant à Volga Plage", "")
    assert tags.territories[0] == "Volga-Plage (Fort-de-France)"
    assert {"Fort-de-France", "Martinique"} <= set(tags.territories)
    assert "Quartiers Ouest (Fort-de-France)" in tag("Trénelle-Citron et Terres-Sainville", "").territories
    assert "Quartiers Ouest (Fort-de-France)" in tag("opération à Texaco", "").territories
    assert "Sainte-Thérèse – Bon Air (Fort-de-France)" in tag("L'écoquartier Bon Air", "").territories
    assert "Haut-Dillon (Fort-de-France)" in tag("quartier du Haut de Dillon", "").territories
    robert = tag("Cité Lacroix", "").territories
    assert robert[:2] == ("Cité Lacroix – Trou Terre – Pointe Lynch (Le Robert)", "Le Robert")
    assert "Le Lamentin" in tag("Bas Mission", "").territories
    assert "Sainte-Marie" in tag("le Tombolo", "").territories


def test_ordinary_words_are_not_places():
    text = ("le marin pêcheur a vu un diamant ; prochaine réunion jeudi ; le bon air du large ; "
            "François Hollande ; la place d'armes de Verdun ; un carbet ; le tombolo de Giens")
    assert tag("", text).territories == ()


def test_names_that_mean_something_else():
    assert "Schœlcher" not in tag("", "L'œuvre de Victor Schœlcher pour l'abolition").territories
    spm = tag("", "Saint-Pierre-et-Miquelon").territories
    assert "Saint-Pierre-et-Miquelon" in spm and "Saint-Pierre" not in spm


def test_case_sensitive_forms_of_communes():
    assert "Le Robert" in tag("", "Les jeunes du Robert").territories
    assert "Le Robert" not in tag("", "le robert illustré").territories
    assert "La Trinité" in tag("", "à la Trinité").territories
    assert "Le François" in tag("", "au François").territories


def test_themes_need_the_title_or_repeated_terms():
    assert "Santé" in tag("Contrat local de santé", "").themes
    assert "Santé" not in tag("Rapport", "Une seule mention de la santé.").themes
    assert "Santé" in tag("Rapport", "La santé des jeunes ; accès aux soins difficile.").themes
    assert "Habitat et renouvellement urbain" in tag("Renovation urbaine", "").themes
    assert "Habitat et renouvellement urbain" in tag("Logements sociaux", "").themes
    assert "Emploi et insertion" in tag("", "Les chantiers d'insertion et France Travail.").themes
    # acronyms only in capitals
    assert "Habitat et renouvellement urbain" in tag("Convention ANRU", "").themes
    assert "Santé" not in tag("", "cls cls cls").themes


def test_themes_ordered_title_first():
    tags = tag("Emploi des jeunes", "La santé, la santé, la santé, la santé, les soins.")
    assert tags.themes[:2] == ("Emploi et insertion", "Jeunesse")
    assert "Santé" in tags.themes


def test_fold_accents():
    assert fold_accents("Schœlcher Trénelle ÆSOP Écoles") == "Schoelcher Trenelle AESOP Ecoles"


def test_enrich_keeps_given_tags_first():
    doc = Document(id="x", title="Fiche d'expérience : jardins partagés à Sainte-Marie",
                   source="Bibliothèque", kind=KIND_LIBRARY,
                   first_seen=datetime(2024, 1, 1, tzinfo=timezone.utc),
                   content="Les jardins partagés du Tombolo. Cohésion sociale et lien social.",
                   themes=("Agriculture",), territories=("Sainte-Marie",))
    enriched = enrich(doc)
    assert enriched.themes[0] == "Agriculture"
    assert {"Environnement et cadre de vie", "Cohésion sociale"} <= set(enriched.themes)
    assert enriched.territories[0] == "Sainte-Marie"
    assert "Tombolo (Sainte-Marie)" in enriched.territories
    assert enriched.territories.count("Sainte-Marie") == 1
    assert enrich(enriched) == enriched


def test_invalid_thesaurus_files_are_reported():
    with pytest.raises(ThesaurusError, match=r"territories\[0\] \(X\)\.kind"):
        parse_thesaurus({"territories": [{"name": "X", "kind": "ville", "variants": ["x"]}]})
    with pytest.raises(ThesaurusError, match="parent inconnu « Nulle part »"):
        parse_thesaurus({"territories": [{"name": "X", "kind": "commune", "variants": ["x"],
                                          "parents": ["Nulle part"]}]})
    with pytest.raises(ThesaurusError, match="son propre ancêtre"):
        parse_thesaurus({"territories": [
            {"name": "A", "kind": "commune", "variants": ["a"], "parents": ["B"]},
            {"name": "B", "kind": "commune", "variants": ["b"], "parents": ["A"]}]})
    with pytest.raises(ThesaurusError, match="aucun mot-clé"):
        parse_thesaurus({"themes": [{"name": "Vide"}]})
    with pytest.raises(ThesaurusError, match="thème « T » en double"):
        parse_thesaurus({"themes": [{"name": "T", "keywords": ["a"]}, {"name": "T", "keywords": ["b"]}]})


def test_invalid_yaml_names_the_line(tmp_path):
    bad = tmp_path / "thesaurus.yaml"
    bad.write_text("themes:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ThesaurusError, match=r"thesaurus\.yaml:\d+ : YAML illisible"):
        load_thesaurus(bad)


def test_shipped_file_is_the_default():
    assert default_thesaurus().themes == load_thesaurus(THESAURUS_FILE).themes
    assert isinstance(yaml.safe_load(THESAURUS_FILE.read_text(encoding="utf-8")), dict)


def test_enrich_spells_hand_given_tags_as_the_thesaurus():
    doc = Document(id="y", title="Guide du relogement", source="Bibliothèque", kind=KIND_LIBRARY,
                   first_seen=datetime(2024, 1, 1, tzinfo=timezone.utc),
                   content="Le renouvellement urbain et la rénovation urbaine des quartiers.",
                   themes=("habitat et renouvellement urbain", "Habitat et renouvellement urbain",
                           "Thème maison"),
                   territories=("FORT-DE-FRANCE",))
    enriched = enrich(doc)
    assert enriched.themes.count("Habitat et renouvellement urbain") == 1
    assert "habitat et renouvellement urbain" not in enriched.themes
    assert enriched.themes[:2] == ("Habitat et renouvellement urbain", "Thème maison")
    assert enriched.territories[0] == "Fort-de-France"
