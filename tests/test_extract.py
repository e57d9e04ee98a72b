"""The extraction entry point: format detection, never raising, common clean-up."""

from __future__ import annotations

import pytest

from indexer.extract import Extracted, detect_format, extract
from indexer.extract.common import first_heading, guess_language, normalize_text, parse_date


@pytest.mark.parametrize("data, filename, content_type, expected", [
    (b"%PDF-1.4\n...", "", "", "pdf"),
    (b"%PDF-1.4\n...", "rapport.txt", "text/plain", "pdf"),        # magic bytes win
    (b"<!DOCTYPE html><html></html>", "", "", "html"),
    (b"<p>fragment</p>", "page.htm", "", "html"),
    (b"<p>fragment</p>", "", "text/html; charset=utf-8", "html"),
    (b"# Titre\n\ntexte", "notes.md", "", "text"),
    (b"texte brut", "", "", "text"),
    (b"texte brut", "LISEZMOI", "text/plain", "text"),
    (b"PK\x03\x04" + b"\x00" * 26 + b"mimetypeapplication/vnd.oasis.opendocument.text", "", "", "odt"),
    (b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml", "a.docx", "", "docx"),
    (b"PK\x03\x04" + b"\x00" * 100, "archive.zip", "", ""),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png", "image/png", "image"),   # read by OCR
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "", "", "image"),
    (b"II*\x00\x08\x00", "scan.tif", "", "image"),
    (b"texte brut", "photo.png", "", ""),            # named an image, but not one
    (b"GIF89a\x01\x00", "anim.gif", "image/gif", ""),
    (bytes(range(256)) * 4, "", "application/octet-stream", ""),
])
def test_detect_format(data, filename, content_type, expected):
    assert detect_format(data, filename, content_type) == expected


def test_unsupported_and_empty_files_get_a_reason():
    result = extract(b"GIF89a\x01\x00\x01\x00", filename="anim.gif")
    assert result.status == "error" and "format non pris en charge" in result.reason
    result = extract(b"\x89PNG\r\n\x1a\n\x00\x00", filename="photo.png")       # OCR off
    assert result.status == "error" and "reconnaissance de caractères" in result.reason
    result = extract(b"", filename="vide.pdf")
    assert result.status == "empty" and result.reason == "fichier vide"
    result = extract(b"   \n\n  ", filename="blanc.txt")
    assert result.status == "empty" and result.reason


def test_garbage_with_a_known_extension_does_not_raise():
    for name in ("a.pdf", "a.docx", "a.odt", "a.html", "a.txt", "a.md"):
        result = extract(b"%PDF-1.7\n\x00\xff garbage" if name.endswith("pdf") else b"PK\x03\x04broken",
                         filename=name)
        assert isinstance(result, Extracted)
        assert result.status in ("ok", "empty", "error")
        if result.status == "error":
            assert result.reason


def test_normalize_text_ligatures_and_spaces():
    assert normalize_text("ﬁnancement  de\u00a0la\u00adville\r\nﬂux") == "financement de laville\nflux"
    assert normalize_text("a\f\fb") == "a\f\fb"   # page separators survive
    assert normalize_text("\fpage deux") == "\fpage deux"


def test_parse_date_formats():
    assert parse_date("2024-03-12").isoformat() == "2024-03-12T00:00:00-04:00"   # Martinique
    assert parse_date("2024-03-12T10:30:00Z").isoformat() == "2024-03-12T10:30:00+00:00"
    assert parse_date("D:20220403180542+02'00'").isoformat() == "2022-04-03T18:05:42+02:00"
    assert parse_date("12/03/2024").date().isoformat() == "2024-03-12"
    assert parse_date("1er février 2022").date().isoformat() == "2022-02-01"
    assert parse_date("Tue, 12 Mar 2024 10:00:00 GMT").isoformat() == "2024-03-12T10:00:00+00:00"
    for junk in ("", None, "n/a", "31/02/2024", "D:99", "9999-99-99"):
        assert parse_date(junk) is None


def test_guess_language():
    assert guess_language("Le contrat de ville est signé par les partenaires pour les quartiers "
                          "prioritaires de la commune et des environs.") == "fr"
    assert guess_language("The city contract is signed by the partners for the priority "
                          "neighbourhoods of the town and its surroundings.") == "en"
    assert guess_language("12 34 56") == ""


def test_first_heading_skips_numbers_and_short_lines():
    assert first_heading("12\n\n- 3 -\nRapport d'activité 2023\nLe centre a...") == "Rapport d'activité 2023"
    assert first_heading("") == ""
