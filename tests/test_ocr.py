"""Scanned documents read by OCRmyPDF and Tesseract, in the extraction worker, under limits.

The scans are made here (text rendered to an image, saved as an image-only PDF or image
file); real PDFs come from the shared corpus. What is recognised must be found by search.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.extract import Limits, extract
from indexer.extract.bounded import BoundedExtractor
from indexer.extract.ocr import OCR_NOTE, REASON_IMAGE_NO_OCR
from indexer.extract.pdf import REASON_CORRUPT, REASON_PASSWORD, REASON_SCANNED
from indexer.library.sync import sync_library
from indexer.search.request import SearchRequest
from indexer.search.space import DocumentSpace
from tests.scans import long_scan, ocr_or_skip, scanned_image, scanned_pdf
from veille.core.config import load_config
from veille.core.records import document_id
from veille.storage.catalog import Catalog

DELIBERATION = ["Deliberation du conseil municipal", "Lotissement des Terres Sainville",
                "Le conseil approuve la zinguerie communale", "Rénovation urbaine du quartier"]
ANNEX = ["Annexe budgetaire", "Palmeraie et canalisations du bourg"]
OCR = Limits(timeout=60, ocr=True)


@pytest.fixture(autouse=True)
def _needs_ocr():
    ocr_or_skip()


@pytest.fixture
def library(tmp_path, write_config):
    folder = tmp_path / "bibliotheque"
    folder.mkdir()
    config = load_config(write_config("""
        data_dir: data
        library:
          - {name: Archives, path: bibliotheque/, visibility: public}
        search: {engine: tantivy}
    """))
    return folder, config


def doc_of(catalog, relpath):
    return catalog.documents.get(document_id(f"library:Archives/{relpath}"))


def test_the_made_scan_really_has_no_text_layer():
    result = extract(scanned_pdf([DELIBERATION]), filename="scan.pdf")     # OCR off
    assert (result.status, result.reason) == ("empty", REASON_SCANNED)
    assert result.image_pages == (0,)


def test_scanned_words_are_found_by_search_and_marked_as_recognised(library):
    folder, config = library
    (folder / "deliberation-2019.pdf").write_bytes(scanned_pdf([DELIBERATION, ANNEX]))
    catalog = Catalog.open(config.layout)
    report = sync_library(config, catalog, limits=OCR)
    assert report.unreadable == 0
    doc = doc_of(catalog, "deliberation-2019.pdf")
    assert doc.status == "ok" and OCR_NOTE in doc.status_reason and "(2 pages)" in doc.status_reason
    pages = doc.content.split("\f")
    assert len(pages) == 2 and "zinguerie" in pages[0] and "Palmeraie" in pages[1]
    assert "Rénovation" in pages[0]                    # French, accents and all
    assert doc.extra["extracted"]["ocr_pages"] == 2
    catalog.close()

    space = DocumentSpace(config)
    try:
        space.index_pending()
        for word, page in (("zinguerie", 1), ("palmeraie", 2), ("renovation quartier", 1)):
            found = space.search(SearchRequest(q=word))
            assert [hit.id for hit in found.hits] == [doc.id], word
            assert "<mark>" in found.hits[0].snippet and found.hits[0].page == page
    finally:
        space.close()

    from web import create_app

    client = create_app(config, {"TESTING": True}).test_client()
    page = client.get(f"/documents/{doc.id}?p=2").get_data(as_text=True)
    assert "texte obtenu par reconnaissance de caractères" in page
    assert "Palmeraie" in page and "page 2 sur 2" in page


@pytest.mark.parametrize("fmt, name", [("PNG", "affiche.png"), ("JPEG", "photo.jpg"), ("TIFF", "scan.tiff")])
def test_images_are_read_by_ocr(fmt, name):
    with BoundedExtractor(OCR) as extractor:
        result = extractor.extract(scanned_image(DELIBERATION, fmt), name)
    assert result.status == "ok" and OCR_NOTE in result.reason
    assert "zinguerie" in result.text and result.ocr_pages == 1


def test_images_without_ocr_are_listed_with_the_reason():
    result = extract(scanned_image(DELIBERATION, "PNG"), filename="affiche.png")      # OCR off
    assert result.status == "error" and result.reason == REASON_IMAGE_NO_OCR


def test_password_protected_and_broken_files_give_their_reason(shared_corpus):
    encryption = shared_corpus / "pdf" / "pypdf-resources" / "encryption"
    real = (shared_corpus / "pdf" / "pypdf-resources" / "crazyones.pdf").read_bytes()
    with BoundedExtractor(OCR) as extractor:
        for name in ("r2-user-password.pdf", "r4-aes-user-password.pdf", "r6-both-passwords.pdf"):
            locked = extractor.extract((encryption / name).read_bytes(), name)
            assert (locked.status, locked.reason) == ("error", REASON_PASSWORD), name
        broken = extractor.extract(real[: len(real) // 3], "crazyones.pdf")
        assert broken.status == "error" and broken.reason == REASON_CORRUPT
        # a scan cut short: what pypdf cannot open, OCR is not asked to guess
        scan = scanned_pdf([DELIBERATION])
        cut = extractor.extract(scan[: len(scan) // 2], "scan.pdf")
        assert cut.status in ("error", "empty") and cut.reason
        image = extractor.extract(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "photo.png")
        assert image.status == "error" and "reconnaissance de caractères" in image.reason
        # the real PDFs still read as before, beside the scans
        assert "misfits" in extractor.extract(real, "crazyones.pdf").text.lower()


def test_real_image_only_pdfs_from_the_corpus_are_recognised_or_say_why(shared_corpus):
    # ImageMagick renderings of pictures: no words to find, and that is what they say
    path = shared_corpus / "pdf" / "py-pdf-sample-files" / "007-imagemagick-images" / "imagemagick-lzw.pdf"
    with BoundedExtractor(OCR) as extractor:
        result = extractor.extract(path.read_bytes(), path.name)
    assert result.status in ("ok", "empty")
    assert result.reason and (OCR_NOTE in result.reason or "aucun texte" in result.reason)


def test_a_500_page_scan_stops_at_the_page_limit_and_the_rest_goes_on(library):
    folder, config = library
    (folder / "a-registre-500-pages.pdf").write_bytes(long_scan(DELIBERATION, 500))
    (folder / "b-note.txt").write_text("Note de service sur les jardins familiaux.", encoding="utf-8")
    catalog = Catalog.open(config.layout)
    sync_library(config, catalog, limits=Limits(timeout=60, ocr=True, ocr_max_pages=3))
    scan = doc_of(catalog, "a-registre-500-pages.pdf")
    assert scan.status == "ok" and scan.page_count == 500
    assert "limitée aux 3 premières pages numérisées sur 500" in scan.status_reason
    pages = scan.content.split("\f")
    assert len(pages) == 500 and all("zinguerie" in p for p in pages[:3]) and not any(pages[3:])
    assert doc_of(catalog, "b-note.txt").status == "ok"
    catalog.close()


def test_a_recognition_over_its_time_is_cut_off_and_the_rest_goes_on(library):
    folder, config = library
    (folder / "a-registre.pdf").write_bytes(long_scan(DELIBERATION, 200))
    (folder / "b-note.txt").write_text("Note de service sur les jardins familiaux.", encoding="utf-8")
    catalog = Catalog.open(config.layout)
    sync_library(config, catalog, limits=Limits(timeout=60, ocr=True, ocr_max_pages=200, ocr_timeout=2))
    stuck = doc_of(catalog, "a-registre.pdf")
    assert "reconnaissance de caractères interrompue : plus de 2 s" in stuck.status_reason
    assert stuck.status == "empty" and stuck.page_count == 200     # listed, findable by name
    assert "jardins familiaux" in doc_of(catalog, "b-note.txt").content
    catalog.close()


def test_the_worker_waits_for_an_announced_recognition_beyond_its_usual_time_limit():
    # two pages take longer than one second to recognise: without the announcement the
    # worker would be killed as a stuck file
    with BoundedExtractor(Limits(timeout=1, ocr=True)) as extractor:
        result = extractor.extract(scanned_pdf([DELIBERATION, ANNEX]), "scan.pdf")
        assert result.status == "ok" and result.ocr_pages == 2
        assert extractor.extract(b"plain text", "a.txt").text == "plain text"


def test_veille_check_says_in_one_line_when_tesseract_is_missing(tmp_path, write_config, run_cli):
    import sys

    path = write_config("data_dir: data\n")
    # a PATH holding only this interpreter: no ocrmypdf, no tesseract
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(Path(sys.executable))
    missing = run_cli("--config", str(path), "check", env={"PATH": str(bin_dir)})
    assert missing.returncode == 0
    lines = [line for line in missing.stderr.splitlines() if "reconnaissance de caractères" in line]
    assert lines == ["veille : reconnaissance de caractères indisponible : Tesseract n'est pas installé "
                     "(apt-get install ocrmypdf tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng) ; les "
                     "documents numérisés et les images sont listés sans leur texte"]
    present = run_cli("--config", str(path), "check")
    assert present.returncode == 0 and "reconnaissance de caractères" not in present.stderr
    off = write_config("data_dir: data\nextraction: {ocr: false}\n", name="off.yaml")
    assert "reconnaissance" not in run_cli("--config", str(off), "check", env={"PATH": str(bin_dir)}).stderr
