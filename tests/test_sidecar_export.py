"""Staff edits written into a library folder's metadata file: only the edited cells change."""

from __future__ import annotations

from datetime import datetime

from indexer.extract.common import LOCAL_TZ
from indexer.library.sidecar import merge_csv, merge_yaml, parse_csv, parse_yaml

CHANGES = {
    "guides/guide.pdf": {"title": "Guide révisé", "themes": ("Santé", "Éducation"),
                         "published": datetime(2024, 2, 8, tzinfo=LOCAL_TZ)},
    "nouveau/étude.pdf": {"doc_type": "étude", "authors": ("Ville du Lamentin",), "visibility": "interne"},
}


def test_a_comma_separated_cp1252_file_keeps_its_columns_rows_and_separator():
    original = ("file,title,notes du centre,date\r\n"
                "guides/guide.pdf,Ancien titre,à garder,2020\r\n"
                "autre.pdf,Autre,\"ligne, avec virgule\",\r\n").encode("cp1252")
    merged = merge_csv(original, CHANGES)
    text = merged.decode("utf-8-sig")
    assert text.splitlines() == [
        "file,title,notes du centre,date,auteurs,thèmes,type,visibilité",
        "guides/guide.pdf,Guide révisé,à garder,2024-02-08,,Santé|Éducation,,",
        'autre.pdf,Autre,"ligne, avec virgule",,,,,',
        "nouveau/étude.pdf,,,,Ville du Lamentin,,étude,interne",
    ]
    sidecar = parse_csv(merged)
    guide = sidecar.entries["guides/guide.pdf"]
    assert guide.title == "Guide révisé" and guide.themes == ("Santé", "Éducation")
    assert guide.published == datetime(2024, 2, 8, tzinfo=LOCAL_TZ)
    new = sidecar.entries["nouveau/étude.pdf"]
    assert new.doc_type == "étude" and new.authors == ("Ville du Lamentin",) and new.visibility == "interne"
    assert sidecar.entries["autre.pdf"].title == "Autre"


def test_a_new_file_is_a_french_spreadsheet_and_an_unchanged_merge_changes_nothing():
    merged = merge_csv(None, CHANGES)
    assert merged.startswith(b"\xef\xbb\xbf") and merged.decode("utf-8-sig").startswith("fichier;")
    assert set(parse_csv(merged).entries) == set(CHANGES)
    assert merge_csv(merged, {}) == merged


def test_yaml_keeps_unknown_keys_and_reads_back():
    original = ("# notes\nguides/guide.pdf:\n  title: Ancien\n  cote: B-12\nautre.pdf:\n  title: Autre\n").encode()
    merged = merge_yaml(original, CHANGES)
    sidecar = parse_yaml(merged)
    assert sidecar.entries["guides/guide.pdf"].title == "Guide révisé"
    assert sidecar.entries["nouveau/étude.pdf"].visibility == "interne"
    assert "cote: B-12" in merged.decode() and sidecar.entries["autre.pdf"].title == "Autre"
