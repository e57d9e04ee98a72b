"""PDF extraction: committed fixtures, then the real PDFs of the shared corpus."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from indexer.extract import Limits, extract
from indexer.extract.common import normalize_text
from indexer.extract.pdf import REASON_CORRUPT, REASON_PASSWORD, REASON_SCANNED, extract_pdf

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "extract" / "samples"


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_pages_are_kept_apart_for_page_numbered_snippets():
    result = extract_pdf(_sample("guide-multipage.pdf"))
    assert result.page_count == 3 and len(result.pages) == 3
    assert "Volga-Plage" in result.pages[1]
    assert result.text.count("\f") == 2


def test_max_pages_cuts_off_with_a_note():
    result = extract(_sample("guide-multipage.pdf"), filename="g.pdf", limits=Limits(max_pages=2))
    assert result.status == "ok"
    assert result.page_count == 3 and len(result.pages) == 2
    assert "Trénelle-Citron" not in result.text
    assert "seules les 2 premières pages sur 3" in result.reason


def test_max_chars_truncates_with_a_note():
    result = extract(_sample("rapport-renovation.pdf"), filename="r.pdf", limits=Limits(max_chars=40))
    assert len(result.text) == 40
    assert "texte tronqué" in result.reason


def test_size_limit_refuses_before_reading():
    result = extract(_sample("rapport-renovation.pdf"), filename="r.pdf", limits=Limits(max_bytes=1000))
    assert result.status == "error" and "trop volumineux" in result.reason


def test_reasons_for_protected_truncated_and_scanned():
    assert extract_pdf(_sample("chiffre-mot-de-passe.pdf")).reason == REASON_PASSWORD
    assert extract_pdf(_sample("tronque.pdf")).reason == REASON_CORRUPT
    scanned = extract_pdf(_sample("numerise.pdf"))
    assert (scanned.status, scanned.reason) == ("empty", REASON_SCANNED)


def test_every_truncation_of_a_pdf_is_handled():
    data = _sample("guide-multipage.pdf")
    for cut in range(0, len(data), len(data) // 40):
        result = extract(data[:cut], filename="cut.pdf")
        assert result.status in ("ok", "empty", "error")
        assert result.status == "ok" or result.reason


def test_useless_metadata_titles_fall_back_to_the_heading():
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(BytesIO(_sample("guide-multipage.pdf"))))
    writer.add_metadata({"/Title": "Microsoft Word - guide_v3_final.docx", "/Author": "anonymous"})
    out = BytesIO()
    writer.write(out)
    result = extract_pdf(out.getvalue())
    assert result.title == "Guide de la participation des habitants"
    assert result.authors == ()


# ------------------------------------------------------------------ the shared corpus

# Files pypdf itself cannot open, whatever the mode (ground truth counts pages we cannot).
UNREADABLE = {"017-unreadable-meta-data/unreadablemetadata.pdf"}


def _ground_truth(corpus: Path) -> list[dict]:
    return json.loads((corpus / "pdf" / "py-pdf-sample-files" / "files.json").read_text())["data"]


@pytest.mark.slow
def test_sample_files_page_counts_and_reasons(shared_corpus):
    base = shared_corpus / "pdf" / "py-pdf-sample-files"
    checked = 0
    for entry in _ground_truth(shared_corpus):
        path = base / entry["path"]
        if not path.exists():  # GeoTopo.pdf is left out of the snapshot (too big)
            continue
        checked += 1
        result = extract(path.read_bytes(), filename=path.name)
        if entry["path"] in UNREADABLE:
            assert (result.status, result.reason) == ("error", REASON_CORRUPT)
        elif entry["encrypted"]:
            # the LibreOffice one needs its open password: a clear reason, not a crash
            assert (result.status, result.reason) == ("error", REASON_PASSWORD), entry["path"]
        else:
            assert result.page_count == entry["pages"], entry["path"]
            assert result.status in ("ok", "empty"), (entry["path"], result.reason)
            if result.status == "empty":
                assert result.reason
    assert checked >= 30


def test_image_only_files_are_reported_as_scanned(shared_corpus):
    base = shared_corpus / "pdf" / "py-pdf-sample-files"
    for name in ("019-grayscale-image/grayscale-image.pdf", "023-cmyk-image/cmyk-image.pdf",
                 "007-imagemagick-images/imagemagick-lzw.pdf"):
        result = extract((base / name).read_bytes(), filename=name)
        assert (result.status, result.reason) == ("empty", REASON_SCANNED), name


def test_expected_texts_are_found(shared_corpus):
    resources = shared_corpus / "pdf" / "pypdf-resources"
    crazy = extract((resources / "crazyones.pdf").read_bytes())
    assert crazy.text == normalize_text((resources / "crazyones.txt").read_text(encoding="utf-8"))
    assert crazy.title == "The Crazy Ones" and crazy.language == "en"

    # layout-mode references: every word of the reference is in our text, as often
    for pdf, reference in (("py-pdf-sample-files/010-pdflatex-forms/pdflatex-forms.pdf", "010-pdflatex-forms.txt"),
                           ("py-pdf-sample-files/026-latex-multicolumn/multicolumn.pdf", "multicolumn-lorem-ipsum.txt")):
        result = extract((shared_corpus / "pdf" / pdf).read_bytes())
        words = Counter(re.findall(r"\w+", normalize_text((resources / reference).read_text(encoding="utf-8"))))
        ours = Counter(re.findall(r"\w+", result.pages[0]))
        missing = words - ours
        assert not missing, missing


@pytest.mark.parametrize("name, readable", [
    ("encryption/r3-empty-password.pdf", True),
    ("encryption/r5-empty-password.pdf", True),
    ("encryption/r4-aes-v2-no-key-length.pdf", True),
    ("encryption/unencrypted.pdf", True),
    ("encryption/r2-user-password.pdf", False),
    ("encryption/r4-aes-user-password.pdf", False),
    ("encryption/r6-both-passwords.pdf", False),
    ("crazyones-encrypted-256.pdf", False),
    ("encrypted-file.pdf", False),
    ("libreoffice-writer-password.pdf", False),
])
def test_encrypted_pdfs(shared_corpus, name, readable):
    result = extract((shared_corpus / "pdf" / "pypdf-resources" / name).read_bytes(), filename=name)
    if readable:
        assert result.status == "ok" and "pdf encryption test" in result.text.lower()
    else:
        assert (result.status, result.reason) == ("error", REASON_PASSWORD)


@pytest.mark.slow
def test_no_pdf_of_the_corpus_crashes(shared_corpus):
    files = sorted((shared_corpus / "pdf").rglob("*.pdf"))
    assert len(files) >= 50
    statuses = Counter()
    for path in files:
        result = extract(path.read_bytes(), filename=path.name)
        statuses[result.status] += 1
        assert result.status == "ok" or result.reason, path
    assert statuses["ok"] >= 40


def test_malformed_xref_is_read_leniently(shared_corpus):
    result = extract((shared_corpus / "pdf" / "pypdf-resources" / "issue-297.pdf").read_bytes())
    assert result.status == "ok" and result.page_count == 1 and result.text.strip()


def _handmade_pdf(objects: list[bytes]) -> bytes:
    """A minimal PDF whose objects are given as written (1-based numbering)."""
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    return out + (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
                  f"startxref\n{xref}\n%%EOF\n").encode()


@pytest.mark.parametrize("objects", [
    # the page tree lists itself among its kids
    [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"],
    # a content stream whose length is a reference to itself
    [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
     b"<< /Length 3 0 R >>", b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /MediaBox [0 0 612 792] >>",
     b"5 0 R"],
], ids=["page-tree-loop", "reference-loop"])
def test_reference_loops_end_with_a_reason(objects):
    result = extract(_handmade_pdf(objects), filename="boucle.pdf")
    assert result.status in ("error", "empty") and result.reason
    assert result.text == ""
