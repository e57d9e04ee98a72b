"""The synonym and acronym table: validated like the configuration, read again when it changes."""

from __future__ import annotations

import os

import pytest

from indexer.enrich.synonyms import SynonymFile, SynonymsError, load_synonyms, parse_synonyms


def test_the_shipped_table_is_valid_and_covers_the_field():
    table = load_synonyms()
    terms = {entry.term for entry in table.entries}
    for acronym in ("QPV", "NPNRU", "ANRU", "PRU", "ZUS", "ZFU", "CUCS", "DSU", "CTM", "CACEM", "CAP Nord",
                    "CAESM", "EPCI", "GUSP", "CLSPD", "PRE", "CLAS", "ANCT", "CGET"):
        assert acronym in terms
    assert all(entry.means for entry in table.entries)


def test_every_mistake_is_named_with_its_line():
    text = (
        "synonyms:\n"
        "  - term: QPV\n"
        "    means: quartier prioritaire\n"        # not a list
        "  - term: ZUS\n"
        "    means: [zone urbaine sensible]\n"
        "    case_sensitve: true\n"                 # misspelt key
        "  - means: [sans terme]\n"                # no term
        "  - term: zus\n"                           # twice (case aside)
        "    means: [autre chose encore]\n"
        "  - term: ZAC\n"
        "    means: [zone]\n"                       # one word, would bring ZAC back everywhere
        "oups: 1\n")
    with pytest.raises(SynonymsError) as caught:
        parse_synonyms(text, "synonyms.yaml")
    problems = caught.value.problems
    assert "synonyms.yaml:3: synonyms[0].means: doit être une liste d'expressions" in problems
    assert any(p.startswith("synonyms.yaml:6: synonyms[1].case_sensitve: clé inconnue") for p in problems)
    assert any(p.startswith("synonyms.yaml:7: synonyms[2]: une entrée demande term et means") for p in problems)
    assert any(p.startswith("synonyms.yaml:8: synonyms[3].term: « zus » figure déjà") for p in problems)
    assert any(p.startswith("synonyms.yaml:11: synonyms[4].means: « zone »") for p in problems)
    assert any(p.startswith("synonyms.yaml:12: oups: clé inconnue") for p in problems)


def test_a_changed_file_is_read_again_and_a_broken_one_keeps_the_last_good_table(tmp_path):
    path = tmp_path / "synonyms.yaml"
    path.write_text("synonyms:\n  - {term: QPV, means: [quartier prioritaire]}\n", encoding="utf-8")
    source = SynonymFile(path)
    assert [e.term for e in source.table().entries] == ["QPV"]
    path.write_text("synonyms:\n  - {term: ZUS, means: [zone urbaine sensible]}\n", encoding="utf-8")
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))
    assert [e.term for e in source.table().entries] == ["ZUS"]
    path.write_text("synonyms: [[[", encoding="utf-8")
    os.utime(path, ns=(1, 3_000_000_000_000_000_000))
    assert [e.term for e in source.table().entries] == ["ZUS"]


def test_veille_check_validates_the_table(write_config, run_cli):
    done = run_cli("--config", str(write_config("data_dir: data\n")), "check")
    assert done.returncode == 0, done.stderr
