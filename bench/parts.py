"""Where a search request's time goes: CPU per request over the mix, with and without its parts.

    python bench/parts.py --docs 100000 --engine tantivy [--profile]

Runs on the space bench/search.py built (run that first). Each variant asks for result pages
no other variant asked for, so the engines' page caches never answer: full requests (top 10,
highlights, all six facets), then without highlights, without facets, and with neither. CPU
time (`time.process_time`, Rust threads included) is the figure to compare on a shared
machine; wall time and the load average are printed beside it. `--profile` adds a cProfile
of full requests, timed in CPU seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus  # noqa: E402
from bench.common import load_config  # noqa: E402
from bench.prepare import space_dir  # noqa: E402
from bench.queries import QUERIES  # noqa: E402
from bench.search import request_for  # noqa: E402

VARIANTS = {
    "full": {},
    "no highlights": {"highlight": False},
    "no facets": {"facets": False},
    "neither": {"highlight": False, "facets": False},
}


def measure(space, pages: range, **changes) -> dict:
    walls, cpus = [], []
    for page in pages:
        for query in QUERIES:
            request = replace(request_for(query, page), **changes)
            wall, cpu = time.perf_counter(), time.process_time()
            space.search(request)
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
    walls.sort()
    return {"cpu_mean_ms": round(statistics.mean(cpus) * 1000, 2),
            "cpu_p50_ms": round(statistics.median(cpus) * 1000, 2),
            "wall_p50_ms": round(statistics.median(walls) * 1000, 2),
            "wall_p95_ms": round(walls[min(len(walls) - 1, int(len(walls) * 0.95))] * 1000, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--engine", default="tantivy", choices=("whoosh", "tantivy"))
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--rounds", type=int, default=3, help="pages per variant")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    config_path = space_dir(args.docs, args.engine, args.seed) / "sources.yaml"
    if not config_path.exists():
        parser.error(f"{config_path} is missing: run bench/search.py --docs {args.docs} "
                     f"--engine {args.engine} first")

    from indexer.search.space import DocumentSpace

    space = DocumentSpace(load_config(config_path))
    space.search(request_for(QUERIES[0], 1000))   # opened and warm: the cold query is apart
    first = 10
    for name, changes in VARIANTS.items():
        pages = range(first, first + args.rounds)
        first += args.rounds
        print(f"{name:14} {measure(space, pages, **changes)}  load {os.getloadavg()[0]:.1f}")
    if args.profile:
        profile = cProfile.Profile(time.process_time)
        profile.runcall(measure, space, range(first, first + args.rounds))
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    space.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
