"""Library sync benchmark: the shared corpus's PDFs (and the extraction samples) as a library.

    python bench/library.py [--copies 3] [--json bench/results/library.json]

Times the first sync (every file extracted in the worker process), a second sync (nothing
changed: size+mtime), a sync after touching every file (hash only), and one after moving
every file to another folder (extraction reused). Prints files per second for each.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from veille.storage.catalog import Catalog  # noqa: E402
from indexer.library.sync import sync_library  # noqa: E402
from veille.core.config import load_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=3, help="copies of each file (default 3)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()

    sources = sorted((ROOT.parent / "shared" / "corpus" / "pdf").rglob("*.pdf"))
    samples = ROOT / "tests" / "fixtures" / "extract" / "samples"
    sources += sorted(p for p in samples.iterdir() if not p.name.endswith(".expected.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        library = tmp / "library" / "a"
        library.mkdir(parents=True)
        count = 0
        for copy in range(args.copies):
            for path in sources:
                shutil.copy(path, library / f"{copy}-{path.parent.name}-{path.name}")
                count += 1
        (tmp / "sources.yaml").write_text("data_dir: data\nlibrary:\n  - {name: B, path: library}\n",
                                          encoding="utf-8")
        config = load_config(tmp / "sources.yaml")
        catalog = Catalog.open(config.layout)
        results = {"files": count, "megabytes": round(sum(p.stat().st_size for p in library.iterdir()) / 1e6, 1)}

        def timed(label: str) -> None:
            started = time.perf_counter()
            report = sync_library(config, catalog)
            seconds = time.perf_counter() - started
            results[label] = {"seconds": round(seconds, 2), "files_per_second": round(count / seconds, 1),
                              "report": report.summary()}
            print(f"{label:>10}: {seconds:6.2f} s  {count / seconds:7.1f} files/s  {report.summary()}")

        timed("first")
        timed("unchanged")
        for path in library.iterdir():
            os.utime(path)
        timed("touched")
        shutil.move(library, tmp / "library" / "b")
        timed("moved")
        catalog.close()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
