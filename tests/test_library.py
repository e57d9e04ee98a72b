"""Library sync: add, change, delete, move, the sidecar, and what is listed for unreadable files."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from veille.storage.catalog import Catalog
from indexer.extract import Limits
from indexer.library.sync import guess_doc_type, sync_library, title_from_filename
from veille.core.records import KIND_LIBRARY, document_id
from veille.core.config import load_config

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "extract" / "samples"
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
T1 = datetime(2024, 3, 8, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def library(tmp_path, write_config):
    folder = tmp_path / "bibliotheque"
    folder.mkdir()
    config = load_config(write_config("""
        data_dir: data
        library:
          - {name: Bibliothèque, path: bibliotheque/}
    """))
    catalog = Catalog.open(config.layout)
    yield folder, config, catalog
    catalog.close()


def put(folder: Path, relpath: str, sample: str | None = None, data: bytes | None = None) -> Path:
    path = folder / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if data is not None else (SAMPLES / sample).read_bytes())
    return path


def doc_of(catalog: Catalog, relpath: str):
    return catalog.documents.get(document_id(f"library:Bibliothèque/{relpath}"))


def library_docs(catalog: Catalog) -> dict:
    return {d.path: d for d in catalog.documents.iter_all() if d.kind == KIND_LIBRARY}


def sync(config, catalog, now=T0):
    return sync_library(config, catalog, now=now, limits=Limits(timeout=60))


def test_first_sync_lists_every_file_even_unreadable_ones(library):
    folder, config, catalog = library
    put(folder, "rapports/rapport-renovation.pdf", "rapport-renovation.pdf")
    put(folder, "cr/compte-rendu.docx", "compte-rendu.docx")
    put(folder, "notes-atelier.md", "notes-atelier.md")
    put(folder, "scans/Bilan_QPV_2019_scan.pdf", "numerise.pdf")
    put(folder, "protégé.pdf", "chiffre-mot-de-passe.pdf")
    put(folder, "photo-atelier.png", data=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    put(folder, ".cache/hidden.txt", data=b"cache")
    put(folder, ".DS_Store", data=b"junk")
    put(folder, "cr/~$compte-rendu.docx", data=b"lock")

    report = sync(config, catalog)
    docs = library_docs(catalog)
    assert set(docs) == {"rapports/rapport-renovation.pdf", "cr/compte-rendu.docx", "notes-atelier.md",
                         "scans/Bilan_QPV_2019_scan.pdf", "protégé.pdf", "photo-atelier.png"}
    assert (report.new, report.updated, report.removed, report.unreadable) == (6, 0, 0, 3)

    pdf = docs["rapports/rapport-renovation.pdf"]
    assert pdf.id == document_id("library:Bibliothèque/rapports/rapport-renovation.pdf")
    assert pdf.source == "Bibliothèque" and pdf.kind == KIND_LIBRARY
    assert pdf.title == "Rénovation urbaine à Schœlcher : bilan 2023"
    assert pdf.page_count == 1 and pdf.status == "ok" and "financement" in pdf.content
    assert pdf.first_seen == T0 and pdf.published.date().isoformat() == "2023-11-15"
    assert pdf.content_hash and pdf.summary
    assert "Schœlcher" in pdf.territories and "Habitat et renouvellement urbain" in pdf.themes
    assert docs["cr/compte-rendu.docx"].doc_type == "compte-rendu"

    scan = docs["scans/Bilan_QPV_2019_scan.pdf"]
    assert scan.status == "empty" and "document numérisé" in scan.status_reason
    assert scan.title == "Scan 0042"                       # from the PDF metadata
    assert "Bilan_QPV_2019_scan.pdf" in scan.summary       # findable by its file name
    locked = docs["protégé.pdf"]
    assert locked.status == "error" and "mot de passe" in locked.status_reason
    assert locked.title == "protégé"                       # nothing else to go on: the file name
    image = docs["photo-atelier.png"]
    assert image.status == "error" and "reconnaissance de caractères" in image.status_reason


def test_second_sync_skips_unchanged_files(library):
    folder, config, catalog = library
    put(folder, "a.md", "notes-atelier.md")
    put(folder, "b.txt", "note-windows.txt")
    sync(config, catalog)
    catalog.queue.mark_indexed([d.id for d in catalog.documents.iter_all()])
    report = sync(config, catalog, now=T1)
    assert (report.new, report.updated, report.unchanged) == (0, 0, 2)
    assert catalog.queue.pending() == []                         # nothing to re-index

    # touched but identical: the hash says unchanged, the new mtime is remembered
    os.utime(folder / "a.md", ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    report = sync(config, catalog, now=T1)
    assert (report.new, report.updated, report.unchanged) == (0, 0, 2)
    known = catalog.library_files.of_library("Bibliothèque")
    assert known["a.md"].mtime_ns == 1_700_000_000_000_000_000


def test_changed_file_is_extracted_again_and_keeps_first_seen(library):
    folder, config, catalog = library
    path = put(folder, "note.txt", data="Première version sur la santé.".encode())
    sync(config, catalog)
    path.write_text("Deuxième version : emploi et insertion à Ducos.", encoding="utf-8")
    report = sync(config, catalog, now=T1)
    assert (report.new, report.updated) == (0, 1)
    doc = doc_of(catalog, "note.txt")
    assert "Deuxième version" in doc.content and doc.first_seen == T0
    assert "Ducos" in doc.territories
    assert doc.id in {d.id for d in catalog.queue.pending()}


def test_deleted_file_is_removed_from_catalog_and_index_queue(library):
    folder, config, catalog = library
    put(folder, "a.md", "notes-atelier.md")
    put(folder, "sous/b.txt", "note-windows.txt")
    sync(config, catalog)
    gone = doc_of(catalog, "sous/b.txt").id
    (folder / "sous" / "b.txt").unlink()
    report = sync(config, catalog, now=T1)
    assert report.removed == 1
    assert set(library_docs(catalog)) == {"a.md"}
    assert gone in catalog.queue.deletions()
    assert set(catalog.library_files.of_library("Bibliothèque")) == {"a.md"}


def test_moved_file_keeps_its_extraction_and_first_seen(library):
    folder, config, catalog = library
    put(folder, "vrac/guide.pdf", "guide-multipage.pdf")
    sync(config, catalog)
    old = doc_of(catalog, "vrac/guide.pdf")
    (folder / "guides").mkdir()
    shutil.move(folder / "vrac" / "guide.pdf", folder / "guides" / "guide-participation.pdf")
    report = sync(config, catalog, now=T1)
    assert (report.moved, report.new, report.removed) == (1, 0, 0)
    assert doc_of(catalog, "vrac/guide.pdf") is None
    moved = doc_of(catalog, "guides/guide-participation.pdf")
    assert moved.first_seen == T0 and moved.content == old.content
    assert moved.content.count("\f") == 2 and moved.page_count == 3
    assert moved.title == "Guide de la participation des habitants"
    assert old.id in catalog.queue.deletions()
    assert set(catalog.library_files.of_library("Bibliothèque")) == {"guides/guide-participation.pdf"}


def test_copies_and_moves_of_identical_files(library):
    folder, config, catalog = library
    put(folder, "a.txt", data=b"meme contenu sur le logement")
    put(folder, "b.txt", data=b"meme contenu sur le logement")
    sync(config, catalog)
    (folder / "a.txt").rename(folder / "c.txt")
    (folder / "b.txt").unlink()
    sync(config, catalog, now=T1)
    assert set(library_docs(catalog)) == {"c.txt"}


SIDECAR_CSV = """fichier;titre;auteurs;date;thèmes;territoires;type;résumé;commentaire
rapports/rapport.pdf;Bilan de la rénovation de Terreville;Ville de Schœlcher|ANRU;2023;Habitat et renouvellement urbain;Schœlcher;étude;Le bilan du PRU.;interne
scans/scan.pdf;Diagnostic du Tombolo (scan);;31/13/2020;;Sainte-Marie;diagnostic;;
absent.pdf;Fichier disparu;;;;;;;
"""


def test_sidecar_csv_gives_metadata(library):
    folder, config, catalog = library
    put(folder, "rapports/rapport.pdf", "rapport-renovation.pdf")
    put(folder, "scans/scan.pdf", "numerise.pdf")
    (folder / "metadata.csv").write_bytes(SIDECAR_CSV.encode("cp1252"))
    report = sync(config, catalog)
    assert set(library_docs(catalog)) == {"rapports/rapport.pdf", "scans/scan.pdf"}  # sidecar not a document
    doc = doc_of(catalog, "rapports/rapport.pdf")
    assert doc.title == "Bilan de la rénovation de Terreville"
    assert doc.authors == ("Ville de Schœlcher", "ANRU")
    assert doc.published.year == 2023 and doc.published.month == 1
    assert doc.doc_type == "étude" and doc.summary == "Le bilan du PRU."
    assert doc.themes[0] == "Habitat et renouvellement urbain" and doc.territories[0] == "Schœlcher"
    scan = doc_of(catalog, "scans/scan.pdf")
    assert scan.title == "Diagnostic du Tombolo (scan)" and scan.status == "empty"
    assert scan.published is None
    problems = "\n".join(report.problems)
    assert "metadata.csv:1 : colonne inconnue « commentaire »" in problems
    assert "metadata.csv:3 : date illisible « 31/13/2020 »" in problems
    assert "« absent.pdf » décrit mais absent du dossier" in problems


def test_sidecar_change_updates_without_reading_the_file_again(library):
    folder, config, catalog = library
    put(folder, "guide.pdf", "guide-multipage.pdf")
    sync(config, catalog)
    (folder / "metadata.yaml").write_text(
        "guide.pdf:\n  title: Guide pratique\n  doc_type: guide\n  date: 2022-05-04\n"
        "  themes: [Participation des habitants]\n  couleur: bleu\n", encoding="utf-8")
    report = sync(config, catalog, now=T1)
    assert report.updated == 1
    doc = doc_of(catalog, "guide.pdf")
    assert doc.title == "Guide pratique" and doc.doc_type == "guide"
    assert doc.published.date().isoformat() == "2022-05-04"
    assert "Volga-Plage" in doc.content and doc.page_count == 3
    assert any("champ inconnu « couleur »" in p for p in report.problems)
    # and back: without the sidecar, extraction's title returns
    (folder / "metadata.yaml").unlink()
    sync(config, catalog, now=T1)
    assert doc_of(catalog, "guide.pdf").title == "Guide de la participation des habitants"


def test_missing_or_unmounted_folder_keeps_the_documents(library):
    folder, config, catalog = library
    for i in range(6):
        put(folder, f"f{i}.txt", data=f"document numéro {i} sur la jeunesse".encode())
    sync(config, catalog)
    for child in folder.iterdir():
        child.unlink()
    report = sync(config, catalog, now=T1)
    assert len(library_docs(catalog)) == 6 and report.removed == 0
    assert any("paraît vide" in p for p in report.problems)
    folder.rmdir()
    report = sync(config, catalog, now=T1)
    assert len(library_docs(catalog)) == 6
    assert any("dossier introuvable" in p for p in report.problems)


def test_symlinks_leaving_the_folder_are_not_synced(library, tmp_path):
    folder, config, catalog = library
    secret = tmp_path / "secret.txt"
    secret.write_text("mot de passe root", encoding="utf-8")
    (folder / "lien.txt").symlink_to(secret)
    put(folder, "vrai.txt", data=b"texte de la bibliotheque")
    (folder / "alias.txt").symlink_to(folder / "vrai.txt")
    report = sync(config, catalog)
    assert set(library_docs(catalog)) == {"vrai.txt", "alias.txt"}
    assert any("lien symbolique ignoré" in p for p in report.problems)


def test_file_too_big_is_listed_with_a_reason(library):
    folder, config, catalog = library
    put(folder, "gros.txt", data=b"x" * 5000)
    sync_library(config, catalog, now=T0, limits=Limits(max_bytes=1000))
    doc = doc_of(catalog, "gros.txt")
    assert doc.status == "error" and "trop volumineux" in doc.status_reason and doc.title == "gros"


def test_nfd_file_names_get_the_same_id_as_nfc(library):
    import unicodedata

    folder, config, catalog = library
    put(folder, unicodedata.normalize("NFD", "étude-schœlcher.txt"), data=b"texte")
    sync(config, catalog)
    assert doc_of(catalog, "étude-schœlcher.txt") is not None


def test_guess_doc_type_and_title_from_filename():
    assert guess_doc_type("", "Fiche d'expérience : jardins partagés") == "fiche d'expérience"
    assert guess_doc_type("", "", "CR_COPIL_2024-02.docx") == "compte-rendu"
    assert guess_doc_type("", "Étude sur la mobilité") == "étude"
    assert guess_doc_type("compte-rendu", "Guide") == "compte-rendu"   # the hint comes first
    assert guess_doc_type("", "Quartiers 2030") == ""
    assert title_from_filename("cr/CR_COPIL_2024-02.docx") == "CR COPIL 2024-02"
    assert title_from_filename(".bashrc") == ".bashrc"


def test_library_removed_from_the_configuration_is_forgotten(library, write_config):
    folder, config, catalog = library
    put(folder, "a.txt", data=b"texte sur la culture")
    sync(config, catalog)
    renamed = load_config(write_config("""
        data_dir: data
        library:
          - {name: Centre de ressources, path: bibliotheque/}
    """))
    report = sync(renamed, catalog, now=T1)
    assert report.new == 1 and report.removed == 1
    assert [d.source for d in library_docs(catalog).values()] == ["Centre de ressources"]
    assert catalog.library_files.library_names() == ["Centre de ressources"]
    assert any("retirée de la configuration" in p for p in report.problems)
