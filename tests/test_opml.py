"""OPML import into sources.yaml (comments kept, result validated) and export."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import FIXTURES, ROOT
from veille.core.config import load_config
from veille.core.config_write import slugify, unique_name
from watch.opml import OpmlError, OpmlFeed, add_feeds_to_config, read_opml, write_opml

OPML = FIXTURES / "watch" / "abonnements.opml"


def test_read_opml_feeds_with_folders():
    feeds = read_opml(OPML.read_bytes())
    assert [(f.title, f.categories) for f in feeds] == [
        ("Profession Banlieue", ("Politique de la ville",)),
        ("Observatoire des territoires", ("Politique de la ville",)),
        ("Outre-mer la 1ère — Martinique", ("Politique de la ville", "Outre-mer")),
        ("Cour des comptes", ()),
    ]
    assert feeds[0].url == "https://www.professionbanlieue.org/spip.php?page=backend&lang=fr"
    assert feeds[0].site_url == "https://www.professionbanlieue.org/"


@pytest.mark.parametrize("data", [b"<html><body/></html>", b"not xml at all <",
                                  b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml/>'])
def test_bad_opml_is_refused(data):
    with pytest.raises(OpmlError):
        read_opml(data)


def test_slugs():
    assert slugify("Outre-mer la 1ère — Martinique") == "outre-mer-la-1ere-martinique"
    assert slugify("???", "flux") == "flux"
    assert unique_name("Agence", ["agence", "agence-2"]) == "agence-3"


def test_import_keeps_comments_and_layout_of_the_real_sources_yaml(tmp_path):
    path = tmp_path / "sources.yaml"
    shutil.copy(ROOT / "sources.yaml", path)
    before = path.read_text(encoding="utf-8")
    config = load_config(path)
    report = add_feeds_to_config(config, read_opml(OPML.read_bytes()), schedule="1d")
    # Profession Banlieue is already watched
    assert report.skipped == ("https://www.professionbanlieue.org/spip.php?page=backend&lang=fr",)
    assert report.added == ("observatoire-des-territoires", "outre-mer-la-1ere-martinique", "cour-des-comptes-2")
    after = path.read_text(encoding="utf-8")
    # every original line is still there, in order: comments and layout kept
    original_lines = before.splitlines()
    lines = after.splitlines()
    position = 0
    for line in original_lines:
        position = lines.index(line, position) + 1
    assert "# Veille — sources watched by the centre de ressources" in after
    assert "  # --- Statistics and audit bodies" in after
    new_config = load_config(path)
    added = new_config.source("outre-mer-la-1ere-martinique")
    assert added.kind == "feed" and added.schedule == "1d"
    assert added.url == "https://la1ere.francetvinfo.fr/martinique/rss"
    assert added.tags == ("Politique de la ville", "Outre-mer")
    assert len(new_config.sources) == len(config.sources) + 3
    # importing again adds nothing
    again = add_feeds_to_config(new_config, read_opml(OPML.read_bytes()))
    assert again.added == () and len(again.skipped) == 4
    assert path.read_text(encoding="utf-8") == after


def test_import_with_a_taken_name_gets_a_suffix(write_config):
    path = write_config("""
        # my sources
        sources:
          - {name: cour-des-comptes, kind: feed, url: "https://other.example/rss"}
        """)
    report = add_feeds_to_config(load_config(path), [OpmlFeed("https://www.ccomptes.fr/rss", "Cour des comptes")])
    assert report.added == ("cour-des-comptes-2",)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my sources\n")
    assert load_config(path).source("cour-des-comptes-2").url == "https://www.ccomptes.fr/rss"


def test_import_into_a_file_without_sources(write_config):
    path = write_config("data_dir: data   # here\n")
    report = add_feeds_to_config(load_config(path), [OpmlFeed("https://a.example/rss", "A")])
    assert report.added == ("a",)
    assert "# here" in path.read_text(encoding="utf-8")
    assert load_config(path).source("a").url == "https://a.example/rss"


def test_export_lists_feed_sources_grouped_by_tag():
    config = load_config(ROOT / "sources.yaml")
    text = write_opml(config.sources)
    root = ET.fromstring(text.encode("utf-8"))
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    assert urls == [s.url for s in config.sources if s.kind == "feed"]
    # what we export, a reader (and we) can import back
    assert [f.url for f in read_opml(text.encode("utf-8"))] == urls


def test_cli_import_and_export(write_config, run_cli, tmp_path):
    path = write_config("""
        data_dir: data
        sources:   # watched
          - {name: a, kind: feed, url: "https://a.example/rss", tags: [actualité]}
        """)
    result = run_cli("--config", str(path), "sources", "import", str(OPML))
    assert result.returncode == 0, result.stderr
    assert "4 source(s) ajoutée(s) à sources.yaml, 0 déjà présente(s)" in result.stdout
    assert "# watched" in path.read_text(encoding="utf-8")
    exported = run_cli("--config", str(path), "sources", "export")
    assert exported.returncode == 0
    assert exported.stdout.count("xmlUrl=") == 5
    bad = tmp_path / "bad.opml"
    bad.write_text("<html/>", encoding="utf-8")
    refused = run_cli("--config", str(path), "sources", "import", str(bad))
    assert refused.returncode == 1 and "OPML" in refused.stderr
