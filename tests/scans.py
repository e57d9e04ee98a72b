"""Scanned pages made on the spot: text rendered to an image with Pillow, saved as an image-only
PDF (no text layer, as a scanner writes it) or as a PNG, JPEG or TIFF file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
         Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"))
DPI = 200


def ocr_or_skip() -> None:
    """Skip the calling test when OCRmyPDF, Tesseract or its French data is not installed."""
    from indexer.extract.ocr import missing

    problem = missing("fra+eng")
    if problem:
        pytest.skip(f"no OCR here: {problem}")


def page_image(lines: list[str], size: tuple[int, int] = (1654, 2339)):
    """An A4 page at 200 dpi, black text on white, one line per item of `lines`."""
    from PIL import Image, ImageDraw, ImageFont

    font_file = next((f for f in FONTS if f.is_file()), None)
    font = ImageFont.truetype(str(font_file), 44) if font_file else ImageFont.load_default(size=44)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((160, 220 + number * 80), line, fill=0, font=font)
    return image


def scanned_pdf(pages: list[list[str]]) -> bytes:
    """An image-only PDF, one page image per item of `pages`."""
    images = [page_image(lines) for lines in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=DPI, save_all=True, append_images=images[1:])
    return out.getvalue()


def long_scan(lines: list[str], pages: int) -> bytes:
    """A `pages`-page scan of one page repeated (the image is stored once: a small file)."""
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(io.BytesIO(scanned_pdf([lines]))).pages[0]
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_image(lines: list[str], fmt: str) -> bytes:
    """The page as an image file: fmt is "PNG", "JPEG" or "TIFF"."""
    out = io.BytesIO()
    page_image(lines).save(out, format=fmt, dpi=(DPI, DPI))
    return out.getvalue()
