"""Rebuild the demo's JORF open-data archive from the real DILA files of the shared corpus.

The archive is committed (demo/feeds/dila-jorf/); this script documents how it was made:
the eight real files of `../shared/corpus/legal/dila-jorf-opendata/` in the DILA's layout, as
the delivery of 20 September 2026. `veille demo` serves the folder; the server's directory
listing stands for the DILA's.

    python demo/make_jorf.py [path/to/shared/corpus]
"""

import sys
from pathlib import Path

from watch.sources.jorf_archive import write_archive

HERE = Path(__file__).resolve().parent
STAMP = "20260920-013012"


def main(corpus: Path) -> Path:
    files = corpus / "legal" / "dila-jorf-opendata"
    records = [(path.stem, path.read_bytes()) for folder in ("texte", "article")
               for path in sorted((files / folder).glob("*.xml"))]
    if not records:
        raise SystemExit(f"no DILA files in {files}")
    out = HERE / "feeds" / "dila-jorf" / f"JORF_{STAMP}.tar.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as sink:
        write_archive(sink, STAMP, records)
    return out


if __name__ == "__main__":
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1] / "shared" / "corpus"
    print(main(corpus))
