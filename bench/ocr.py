"""OCR benchmark: seconds per scanned page, through the extraction worker, as a library sync reads it.

    python bench/ocr.py [--pages 5] [--documents 2] [--json bench/results/ocr.json]

Renders pages of the seeded French corpus (bench/corpus.py) as 200 dpi A4 images, full of
text (about 40 lines of 70 characters), saves them as image-only PDFs, then reads each PDF
with `BoundedExtractor` and OCR on (`fra+eng`, one core), as `veille index` does. Reports
seconds per page (the worker already running: the steady cost), the first document apart
(worker start), and the share of the rendered words found in the recognised text.
Needs Pillow (`pip install -e '.[test]'`) and the Debian packages of the README.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import textwrap
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus import make_document  # noqa: E402
from indexer.extract import Limits  # noqa: E402
from indexer.extract.bounded import BoundedExtractor  # noqa: E402
from indexer.extract.ocr import missing  # noqa: E402

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LINES_PER_PAGE = 40
CHARS_PER_LINE = 70


def page_lines(seed_doc: int) -> list[str]:
    text = " ".join(make_document(seed_doc).content.split())
    lines = textwrap.wrap(text, CHARS_PER_LINE)
    while len(lines) < LINES_PER_PAGE:
        lines += lines
    return lines[:LINES_PER_PAGE]


def render(lines: list[str]):
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), 36) if FONT.is_file() else ImageFont.load_default(size=36)
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((140, 160 + number * 50), line, fill=0, font=font)
    return image


def scanned_pdf(pages: list[list[str]]) -> bytes:
    images = [render(lines) for lines in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=200, save_all=True, append_images=images[1:])
    return out.getvalue()


def _words(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    return {w for w in re.findall(r"[^\W\d_]{3,}", "".join(c for c in folded if not unicodedata.combining(c)))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=5, help="pages per document")
    parser.add_argument("--documents", type=int, default=2, help="documents (the first one starts the worker)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    problem = missing("fra+eng")
    if problem:
        print(f"no OCR here: {problem}", file=sys.stderr)
        return 1
    documents = [[page_lines(d * 100 + p) for p in range(args.pages)] for d in range(args.documents)]
    pdfs = [scanned_pdf(pages) for pages in documents]
    timings, found, rendered = [], 0, 0
    with BoundedExtractor(Limits(ocr=True, ocr_max_pages=args.pages)) as extractor:
        for pages, pdf in zip(documents, pdfs):
            started = time.perf_counter()
            result = extractor.extract(pdf, "scan.pdf")
            timings.append(time.perf_counter() - started)
            assert result.ocr_pages == args.pages, result.reason
            expected = _words(" ".join(" ".join(lines) for lines in pages))
            found += len(expected & _words(result.text))
            rendered += len(expected)
    steady = timings[1:] or timings
    report = {
        "pages_per_document": args.pages,
        "documents": args.documents,
        "first_document_s": round(timings[0], 2),
        "seconds_per_page": round(sum(steady) / (len(steady) * args.pages), 2),
        "first_document_seconds_per_page": round(timings[0] / args.pages, 2),
        "words_recognised": round(found / rendered, 3),
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
