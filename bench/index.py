"""Indexing benchmark: full rebuild of N documents, then an incremental batch of 100.

    python bench/index.py --docs 1000000 --engine tantivy --json bench/results/index-tantivy-1000k.json

The rebuild is the one bench/prepare.py made of the cached space (`--fresh` makes it again
now), in a child process through `indexer.search.space.DocumentSpace`, so its peak memory is
the indexer's; the catalog fill and the FTS5 build are that stage's figures too. Then, in a
copy of the space, 100 new documents enter the catalog and a child process commits them
with `index_pending()` (what the scheduler does after a crawl) and finds the first by its
title: "committed and searchable". FTS5 adds the same 100 to a copy of its database.
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

from bench import corpus, fts5, prepare  # noqa: E402
from bench.common import (CACHE_DIR, dir_size_mb, fill_catalog, load_config,  # noqa: E402
                          peak_rss_mb, run_child, write_json)

BATCH = 100


def child(phase: str, config_path: str) -> None:
    """Runs in a fresh process: one indexing phase, its time and peak memory as JSON."""
    import json

    from indexer.search.space import DocumentSpace

    config = load_config(config_path)
    started, cpu = time.perf_counter(), time.process_time()
    space = DocumentSpace(config)
    searchable = None
    if phase == "rebuild":
        space.rebuild()
    else:
        # committed and searchable: the new documents found by the words of their titles
        fresh = space.catalog.queue.pending_batch(limit=1)[0]
        space.index_pending()
        searchable = bool(fresh) and any(
            hit.id == fresh[0].id for hit in space.search(_title_request(fresh[0].title)).hits)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    getattr(space, "close", lambda: None)()
    # Worker processes (the Whoosh engine's bulk load): their CPU, and the largest one's peak
    # (ru_maxrss of waited-for children; at least this process's size when they started).
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": seconds, "cpu_s": cpu + workers.ru_utime + workers.ru_stime,
                      "peak_rss_mb": peak_rss_mb(), "searchable": searchable,
                      "workers_peak_rss_mb": round(workers.ru_maxrss / 1024, 1)}))


def _title_request(title: str):
    from indexer.search.request import SearchRequest

    return SearchRequest(q=f'"{title}"', per_page=10, facets=False, highlight=False, suggest=False)


def _worker_count(engine: str, rebuild: dict) -> int:
    if engine != "whoosh" or not rebuild.get("workers_peak_rss_mb"):
        return 0
    from indexer.search.whoosh_backend import BULK_PROCS
    return BULK_PROCS if BULK_PROCS > 1 else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int)
    parser.add_argument("--engine", default="whoosh", choices=("whoosh", "tantivy"))
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached index first")
    parser.add_argument("--child", nargs=2, metavar=("PHASE", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    if not args.docs:
        parser.error("--docs is required")

    n = args.docs
    config_path = prepare.ensure_space(n, args.engine, args.seed, fresh=args.fresh, verbose=True)
    rebuild = prepare.built_stats(n, args.engine, args.seed)
    _, catalog_stats = prepare.ensure_catalog(n, args.seed)
    fts_path, fts_stats = prepare.ensure_fts5(n, args.seed, verbose=True)

    # the incremental batch goes into a copy: the cached space stays the first n documents
    run_dir = CACHE_DIR / f"index-run-{args.engine}-{n}"
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(config_path.parent, run_dir)
    config = load_config(run_dir / "sources.yaml")
    batch = list(corpus.generate(BATCH, args.seed, start=n))
    fill_catalog(config.data_dir, batch)
    incremental = run_child("index.py", "--child", "pending", str(config.path))
    sizes = {"index_mb": dir_size_mb(config.layout),
             "catalog_mb": round(sum(p.stat().st_size for p in config.layout.catalog.parent.glob(
                 config.layout.catalog.name + "*")) / 1e6, 1)}
    shutil.rmtree(run_dir, ignore_errors=True)

    fts_copy = CACHE_DIR / f"index-run-fts5-{n}.sqlite3"
    shutil.copyfile(fts_path, fts_copy)
    db = fts5.open_db(fts_copy)
    started = time.perf_counter()
    fts5.add(db, batch)
    fts_incremental = time.perf_counter() - started
    db.close()
    for leftover in fts_copy.parent.glob(fts_copy.name + "*"):
        leftover.unlink()

    result = {
        "docs": n, "engine": args.engine,
        "docs_per_s": round(n / rebuild["seconds"], 1),
        "rebuild_s": round(rebuild["seconds"], 2),
        "rebuild_cpu_s": round(rebuild["cpu_s"], 2),   # all threads: wall time on a busy box lies
        "rebuild_load_average": rebuild.get("load_average"),
        "rebuild_at": rebuild.get("built_at"),
        "catalog_docs_per_s": catalog_stats["docs_per_s"],
        "fts5_docs_per_s": fts_stats["docs_per_s"],
        "incremental_100_s": round(incremental["seconds"], 3),
        "incremental_100_searchable": incremental["searchable"],
        "fts5_incremental_100_s": round(fts_incremental, 3),
        **sizes,
        "fts5_index_mb": fts_stats["mb"],
        "disk_mb_per_1k_docs": round((sizes["index_mb"] + sizes["catalog_mb"]) / (n / 1000), 2),
        "fts5_disk_mb_per_1k_docs": round(fts_stats["mb"] / (n / 1000), 2),
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
