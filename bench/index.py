"""Indexing benchmark: full rebuild of N documents, then an incremental batch of 100.

    python bench/index.py --docs 50000 --engine whoosh --json bench/results/index-whoosh-50k.json

The catalog is filled first (the crawler's cost, cached between runs); the rebuild and the
incremental `index_pending()` then run through `indexer.search.space.DocumentSpace` in a child
process, so its peak memory is the indexer's and not the corpus generator's. SQLite FTS5
indexes the same documents in this process as the baseline.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus, fts5  # noqa: E402
from bench.common import (CACHE_DIR, catalog_copy, dir_size_mb, fill_catalog,  # noqa: E402
                          fresh_data_dir, load_config, peak_rss_mb, run_child, write_json)

BATCH = 100


def child(phase: str, config_path: str) -> None:
    """Runs in a fresh process: one indexing phase, its time and peak memory as JSON."""
    import json

    from indexer.search.space import DocumentSpace

    config = load_config(config_path)
    started, cpu = time.perf_counter(), time.process_time()
    space = DocumentSpace(config)
    if phase == "rebuild":
        space.rebuild()
    else:
        space.index_pending()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    getattr(space, "close", lambda: None)()
    # Worker processes (the Whoosh engine's bulk load): their CPU, and the largest one's peak
    # (ru_maxrss of waited-for children; at least this process's size when they started).
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": seconds, "cpu_s": cpu + workers.ru_utime + workers.ru_stime,
                      "peak_rss_mb": peak_rss_mb(),
                      "workers_peak_rss_mb": round(workers.ru_maxrss / 1024, 1)}))


def _worker_count(engine: str, rebuild: dict) -> int:
    if engine != "whoosh" or not rebuild.get("workers_peak_rss_mb"):
        return 0
    from indexer.search.whoosh_backend import BULK_PROCS
    return BULK_PROCS if BULK_PROCS > 1 else 0


def publish_space(data_dir: Path, name: str) -> None:
    """Keep a copy of the freshly built space for bench/search.py (saves a second rebuild)."""
    target = CACHE_DIR / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(data_dir, target)
    (target / ".built").write_text("ok\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int)
    parser.add_argument("--engine", default="whoosh", choices=("whoosh", "tantivy"))
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--child", nargs=2, metavar=("PHASE", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    if not args.docs:
        parser.error("--docs is required")

    n = args.docs
    docs = corpus.load(n + BATCH, args.seed, verbose=True)
    catalog_file = catalog_copy(n, args.seed, lambda: docs[:n])
    config = fresh_data_dir(f"index-run-{args.engine}-{n}", args.engine, catalog_file)

    rebuild = run_child("index.py", "--child", "rebuild", str(config.path))
    publish_space(config.data_dir, f"search-{args.engine}-{args.seed}-{n}")
    fill_catalog(config.data_dir, docs[n:])
    incremental = run_child("index.py", "--child", "pending", str(config.path))

    fts_path = CACHE_DIR / f"index-run-fts5-{n}.sqlite3"
    db, fts_seconds, _ = fts5.build(fts_path, docs[:n])
    started = time.perf_counter()
    fts5.add(db, docs[n:])
    fts_incremental = time.perf_counter() - started
    db.close()

    result = {
        "docs": n, "engine": args.engine,
        "docs_per_s": round(n / rebuild["seconds"], 1),
        "rebuild_s": round(rebuild["seconds"], 2),
        "rebuild_cpu_s": round(rebuild["cpu_s"], 2),   # all threads: wall time on a busy box lies
        "fts5_docs_per_s": round(n / fts_seconds, 1),
        "incremental_100_s": round(incremental["seconds"], 3),
        "fts5_incremental_100_s": round(fts_incremental, 3),
        "index_mb": dir_size_mb(config.layout),
        "fts5_index_mb": round(fts5.index_size(fts_path) / 1e6, 1),
        "peak_rss_mb": max(rebuild["peak_rss_mb"], incremental["peak_rss_mb"]),
        # the rebuild's parent plus each of its worker processes at their peak: an upper bound
        # of the memory the rebuild held at once
        "rebuild_total_peak_rss_mb": round(rebuild["peak_rss_mb"]
                                           + _worker_count(args.engine, rebuild) * rebuild["workers_peak_rss_mb"], 1),
        "bench_process_peak_rss_mb": peak_rss_mb(),
        "load_average": os.getloadavg()[0],
    }
    print(f"{args.engine} {n} docs: rebuild {result['docs_per_s']:.0f} docs/s "
          f"({result['docs_per_s'] / result['fts5_docs_per_s']:.2f}x FTS5's "
          f"{result['fts5_docs_per_s']:.0f}); incremental 100 in {result['incremental_100_s']} s "
          f"(FTS5 {result['fts5_incremental_100_s']} s); index {result['index_mb']} MB, "
          f"peak RSS {result['peak_rss_mb']} MB", file=sys.stderr)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
