"""The cached inputs of the benchmarks, each stage resumable: corpus, catalog, index, FTS5.

    python bench/prepare.py --docs 1000000 --engine tantivy

Stage by stage, each skipped when its result is cached under bench/.cache/ and taken up
where it stopped otherwise: the corpus a shard of 10,000 documents at a time
(`bench/corpus.py`), the catalog a shard per transaction, the search space (a copy of the
catalog and a full rebuild of its index, in a child process so the figures are the
indexer's alone), the FTS5 baseline a shard per transaction. Stop it at any moment (Ctrl-C,
a reboot) and run the same command again. The figures of each stage are kept beside its
result (`*.json`, the space's `.built`) and read by bench/index.py and bench/report.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus, fts5  # noqa: E402
from bench.common import (CACHE_DIR, Catalog, DataDir, fresh_data_dir, run_child)  # noqa: E402


def ensure_catalog(n: int, seed: int, verbose: bool = False, cache_dir: Path = CACHE_DIR,
                   shard_size: int = corpus.SHARD) -> tuple[Path, dict]:
    """A cached catalog file of the first n corpus documents, and how long filling it took.

    Filled a corpus shard per transaction (the crawler's cost, in large transactions) and
    resumable: each shard's documents and its CPU time commit together, so a run stopped
    midway goes on from the last whole shard."""
    path = cache_dir / f"catalog-{seed}-{n}.sqlite3"
    stats_path = path.with_suffix(".json")
    if path.exists() and stats_path.exists():
        return path, json.loads(stats_path.read_text(encoding="utf-8"))
    work = cache_dir / f"catalog-{seed}-{n}.partial"
    catalog = Catalog.open(DataDir(work))
    db = catalog.db.connection()
    db.execute("CREATE TABLE IF NOT EXISTS bench_fill (first INTEGER PRIMARY KEY, seconds REAL, cpu REAL)")
    done = db.execute("SELECT count(*) FROM bench_fill").fetchone()[0] * shard_size
    for first in range(done, n, shard_size):
        docs = list(corpus.documents(min(n, first + shard_size), seed, start=first, cache_dir=cache_dir,
                                     verbose=verbose, shard_size=shard_size))
        started, cpu = time.perf_counter(), time.process_time()
        with catalog.transaction():
            for doc in docs:
                catalog.documents.put(doc)
            db.execute("INSERT INTO bench_fill VALUES (?, 0, ?)", (first, time.process_time() - cpu))
        # the commit (WAL write and checkpoint) counts too; lost if stopped right here
        db.execute("UPDATE bench_fill SET seconds = ? WHERE first = ?", (time.perf_counter() - started, first))
        if verbose:
            print(f"catalog: {first + len(docs):,}/{n:,} documents", file=sys.stderr)
    seconds, cpu = db.execute("SELECT sum(seconds), sum(cpu) FROM bench_fill").fetchone()
    db.execute("DROP TABLE bench_fill")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    catalog.close()
    stats = {"docs": n, "seconds": round(seconds, 3), "cpu_s": round(cpu, 3),
             "docs_per_s": round(n / seconds, 1), "load_average": os.getloadavg()[0],
             "catalog_mb": round(catalog.path.stat().st_size / 1e6, 1)}
    catalog.path.replace(path)
    stats_path.write_text(json.dumps(stats) + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return path, stats


def space_dir(n: int, engine: str, seed: int) -> Path:
    return CACHE_DIR / f"search-{engine}-{seed}-{n}"


def ensure_space(n: int, engine: str, seed: int, fresh: bool = False, verbose: bool = False) -> Path:
    """A data directory holding the catalog of n documents and its index, built by a full
    rebuild in a child process; returns its sources.yaml. The rebuild's figures (time, CPU,
    peak memory, the load around it) are kept in its `.built` file."""
    data_dir = space_dir(n, engine, seed)
    marker = data_dir / ".built"
    if fresh or not marker.exists():
        catalog_file, _ = ensure_catalog(n, seed, verbose=verbose)
        config = fresh_data_dir(data_dir.name, engine, catalog_file)
        if verbose:
            print(f"index: rebuilding {n:,} documents with {engine}", file=sys.stderr)
        built = run_child("index.py", "--child", "rebuild", str(config.path))
        built.update(docs=n, engine=engine, load_average=os.getloadavg()[0],
                     built_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
        marker.write_text(json.dumps(built) + "\n", encoding="utf-8")
        if verbose:
            print(f"index: {n / built['seconds']:.0f} documents/s", file=sys.stderr)
    return data_dir / "sources.yaml"


def built_stats(n: int, engine: str, seed: int) -> dict:
    """The figures of the rebuild that made the cached space (see `ensure_space`)."""
    return json.loads((space_dir(n, engine, seed) / ".built").read_text(encoding="utf-8"))


def fts5_path(n: int, seed: int) -> Path:
    return CACHE_DIR / f"fts5-{seed}-{n}.sqlite3"


def ensure_fts5(n: int, seed: int, fresh: bool = False, verbose: bool = False) -> tuple[Path, dict]:
    """The FTS5 baseline database of the first n documents, and its build figures."""
    path = fts5_path(n, seed)
    if fresh:
        for stale in (path.with_suffix(".json"), *path.parent.glob(path.name + "*")):
            stale.unlink(missing_ok=True)

    def shards(first: int):
        for start in range(first, n, corpus.SHARD):
            if verbose:
                print(f"fts5: {start:,}/{n:,} documents", file=sys.stderr)
            yield list(corpus.documents(min(n, start + corpus.SHARD), seed, start=start))

    return path, fts5.ensure(path, n, shards)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, nargs="+", required=True)
    parser.add_argument("--engine", nargs="+", default=["tantivy"], choices=("whoosh", "tantivy"))
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    args = parser.parse_args(argv)
    for n in args.docs:
        corpus.ensure_shards(n, args.seed, verbose=True)
        _, stats = ensure_catalog(n, args.seed, verbose=True)
        print(f"catalog of {n:,}: {stats['docs_per_s']:.0f} documents/s, {stats['catalog_mb']} MB")
        for engine in args.engine:
            ensure_space(n, engine, args.seed, verbose=True)
            built = built_stats(n, engine, args.seed)
            print(f"{engine} index of {n:,}: {n / built['seconds']:.0f} documents/s")
        _, stats = ensure_fts5(n, args.seed, verbose=True)
        print(f"FTS5 of {n:,}: {stats['docs_per_s']:.0f} documents/s, {stats['mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
