"""Browsing a library folder and resolving download paths safely."""

from __future__ import annotations

import unicodedata

import pytest

from veille.storage.catalog import Catalog
from indexer.extract import Limits
from indexer.library.sync import (LibraryPathError, document_file, library_folder, list_folder,
                             resolve_file, sync_library)
from veille.core.records import document_id
from veille.core.config import load_config


@pytest.fixture
def setup(tmp_path, write_config):
    root = tmp_path / "biblio"
    (root / "guides" / "anciens").mkdir(parents=True)
    (root / "guides" / "participation.txt").write_text("Guide de la participation des habitants", encoding="utf-8")
    (root / "guides" / "anciens" / "2015.txt").write_text("Ancien guide", encoding="utf-8")
    (root / "Étude mobilité.txt").write_text("Étude sur les transports", encoding="utf-8")
    (root / ".cache").mkdir()
    (root / ".cache" / "x.txt").write_text("caché", encoding="utf-8")
    (root / ".htaccess").write_text("secret", encoding="utf-8")
    (root / "metadata.csv").write_text("fichier;titre\nguides/participation.txt;Guide participation\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0", encoding="utf-8")
    (root / "fuite.txt").symlink_to(outside / "passwd")
    (root / "fuite-dossier").symlink_to(outside, target_is_directory=True)
    config = load_config(write_config("""
        data_dir: data
        library:
          - {name: Centre, path: biblio}
    """))
    catalog = Catalog.open(config.layout)
    yield config, catalog, root, outside
    catalog.close()


def test_list_top_and_subfolder(setup):
    config, catalog, root, _ = setup
    folder = library_folder(config, "Centre")
    before = list_folder(folder, catalog)
    assert [f.document for f in before.files] == [None]      # not synced yet, still listed
    sync_library(config, catalog, limits=Limits(timeout=60))

    top = list_folder(folder, catalog)
    assert top.folder == "" and top.subfolders == ("guides",)
    assert [f.path for f in top.files] == ["Étude mobilité.txt"]
    entry = top.files[0]
    assert entry.document.id == document_id("library:Centre/Étude mobilité.txt")
    assert entry.size == len("Étude sur les transports".encode()) and entry.modified.tzinfo

    guides = list_folder(folder, catalog, "guides")
    assert guides.folder == "guides" and guides.subfolders == ("guides/anciens",)
    assert guides.files[0].document.title == "Guide participation"
    assert [f.path for f in list_folder(folder, catalog, "guides/anciens").files] == ["guides/anciens/2015.txt"]


@pytest.mark.parametrize("bad", ["../outside/passwd", "guides/../../outside/passwd", "/etc/passwd",
                                 "fuite.txt", "fuite-dossier/passwd", ".htaccess", ".cache/x.txt",
                                 "metadata.csv", "guides", "absent.pdf", "guides/\x00.txt",
                                 "C:/Windows/win.ini", "..\\outside\\passwd"])
def test_resolve_refuses_anything_outside_or_hidden(setup, bad):
    config, _, _, _ = setup
    with pytest.raises(LibraryPathError):
        resolve_file(library_folder(config, "Centre"), bad)


def test_resolve_finds_files_in_nfc_or_nfd(setup):
    config, _, root, _ = setup
    folder = library_folder(config, "Centre")
    expected = (root / "Étude mobilité.txt").resolve()
    assert resolve_file(folder, "Étude mobilité.txt") == expected
    assert resolve_file(folder, unicodedata.normalize("NFD", "Étude mobilité.txt")) == expected
    assert resolve_file(folder, "guides/./participation.txt") == (root / "guides" / "participation.txt").resolve()


def test_listing_refuses_escaping_folders(setup):
    config, catalog, _, _ = setup
    folder = library_folder(config, "Centre")
    for bad in ("fuite-dossier", "../outside", "guides/participation.txt", ".cache"):
        with pytest.raises(LibraryPathError):
            list_folder(folder, catalog, bad)
    assert "fuite-dossier" not in list_folder(folder, catalog).subfolders


def test_document_file_and_unknown_library(setup):
    config, catalog, root, _ = setup
    sync_library(config, catalog, limits=Limits(timeout=60))
    doc = catalog.documents.get(document_id("library:Centre/guides/participation.txt"))
    assert document_file(config, doc) == (root / "guides" / "participation.txt").resolve()
    with pytest.raises(LibraryPathError, match="bibliothèque inconnue"):
        library_folder(config, "Autre")


def test_the_latest_library_files_are_read_from_their_own_index(tmp_path):
    from datetime import datetime, timezone

    from veille.core.records import KIND_LIBRARY, KIND_NEWS, Document

    catalog = Catalog(tmp_path / "catalog.sqlite3")
    for i in range(30):   # many newer items of another kind must not be walked through
        catalog.documents.put(Document(id=f"n{i}", title=f"Actualité {i}", source="flux", kind=KIND_NEWS,
                                       url=f"https://example.org/{i}", visibility="public",
                                       first_seen=datetime(2026, 2, 1, 0, i, tzinfo=timezone.utc)))
    catalog.documents.put(Document(id="g", title="Guide", source="Centre", kind=KIND_LIBRARY, url="",
                                   visibility="public", first_seen=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    traced: list[str] = []
    catalog.db.connection().set_trace_callback(traced.append)
    latest = catalog.documents.latest(KIND_LIBRARY, 5)
    catalog.db.connection().set_trace_callback(None)
    assert [d.id for d in latest] == ["g"]
    plan = " ".join(row[-1] for row in catalog.db.connection().execute("EXPLAIN QUERY PLAN " + traced[-1]))
    # read newest first from the index; only equal dates are sorted by id, no sort of them all
    assert "documents_kind_first_seen" in plan and "TEMP B-TREE FOR ORDER BY" not in plan
    catalog.close()
