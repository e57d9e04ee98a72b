"""DOCX and ODT: broken archives and decompression bombs are refused with a reason."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from indexer.extract import extract
from indexer.extract.docx import extract_docx
from indexer.extract.odt import extract_odt

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "extract" / "samples"


def _bomb(first_entry: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(*first_entry)
        archive.writestr("word/document.xml", b"\0" * (20 * 1024 * 1024))
    return out.getvalue()


def test_decompression_bomb_is_not_inflated():
    data = _bomb(("[Content_Types].xml", b"<Types/>"))
    assert len(data) < 200_000
    result = extract(data, filename="bombe.docx")
    assert result.status == "error" and "archive suspecte" in result.reason
    odt = _bomb(("mimetype", b"application/vnd.oasis.opendocument.text"))
    assert "archive suspecte" in extract_odt(odt).reason


def test_truncated_office_files():
    for name, function in (("compte-rendu.docx", extract_docx), ("fiche-experience.odt", extract_odt)):
        data = (SAMPLES / name).read_bytes()
        for cut in (10, len(data) // 2, len(data) - 30):
            result = extract(data[:cut], filename=name)
            assert result.status == "error" and result.reason, (name, cut)
        assert function(data).status == "ok"


def test_zip_that_is_not_a_word_file():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
    result = extract(out.getvalue(), filename="faux.docx")
    assert result.status == "error" and "Word" in result.reason


def test_docx_headings_when_core_title_is_empty():
    import docx

    document = docx.Document()
    document.add_paragraph("12")
    document.add_heading("Étude sur la mobilité au Robert", level=1)
    document.add_paragraph("Les transports en commun desservent mal les quartiers.")
    out = io.BytesIO()
    document.save(out)
    result = extract_docx(out.getvalue())
    assert result.title == "Étude sur la mobilité au Robert"
