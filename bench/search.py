"""Search benchmark: the fixed query mix through the web UI's code path, against FTS5.

    python bench/search.py --docs 50000 --engine whoosh --json bench/results/search-whoosh-50k.json

Each request is what the search page sends to `indexer.search.space.DocumentSpace.search`: top 10
with highlights and facet counts. Round r asks for result page r, so a cache of recent
pages cannot answer a repeated request. The first query after opening the space (cold) is
reported apart. The index (and the FTS5 database) are built once in child processes and
cached under bench/.cache/ (`--fresh` rebuilds them), so this process's peak memory is the
searching one's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus, fts5  # noqa: E402
from bench.common import load_config, peak_rss_mb, summary_ms, write_json  # noqa: E402
from bench.prepare import ensure_fts5, ensure_space  # noqa: E402
from bench.queries import QUERIES, BenchQuery  # noqa: E402


def request_for(query: BenchQuery, page: int):
    from types import MappingProxyType

    from indexer.search.request import SearchRequest

    return SearchRequest(q=query.q, filters=MappingProxyType(dict(query.filters)),
                         date_from=query.date_from, date_to=query.date_to, sort=query.sort,
                         page=page, per_page=10, facets=True, highlight=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--engine", default="whoosh", choices=("whoosh", "tantivy"))
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the mix (page 1..R)")
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached index first")
    args = parser.parse_args(argv)
    n = args.docs
    config_path = ensure_space(n, args.engine, args.seed, args.fresh, verbose=True)
    fts_path, _ = ensure_fts5(n, args.seed, args.fresh, verbose=True)

    from indexer.search.space import DocumentSpace

    config = load_config(config_path)
    started = time.perf_counter()
    space = DocumentSpace(config)
    first = space.search(request_for(QUERIES[0], 1))
    cold = time.perf_counter() - started

    times, by_label, totals = [], defaultdict(list), {}
    for page in range(1, args.rounds + 1):
        for query in QUERIES:
            request = request_for(query, page)
            t0 = time.perf_counter()
            found = space.search(request)
            elapsed = time.perf_counter() - t0
            times.append(elapsed)
            by_label[query.label].append(elapsed)
            totals[query.q] = found.total

    db = fts5.open_db(fts_path)
    fts5.search(db, QUERIES[0])  # the same warm start as above
    fts_times, fts_by_label, fts_totals = [], defaultdict(list), {}
    for page in range(1, args.rounds + 1):
        for query in QUERIES:
            t0 = time.perf_counter()
            found = fts5.search(db, query, page=page)
            elapsed = time.perf_counter() - t0
            fts_times.append(elapsed)
            fts_by_label[query.label].append(elapsed)
            fts_totals[query.q] = found["total"]
    db.close()

    ours, base = summary_ms(times), summary_ms(fts_times)
    result = {
        "docs": n, "engine": args.engine, **ours,
        "fts5_p50_ms": base["p50_ms"], "fts5_p95_ms": base["p95_ms"],
        "fts5_p99_ms": base["p99_ms"], "fts5_max_ms": base["max_ms"],
        "cold_first_query_ms": round(cold * 1000, 1),
        "queries": len(times), "over_1s": sum(t > 1.0 for t in times),
        "peak_rss_mb": peak_rss_mb(),
        "load_average": os.getloadavg()[0],
        "p50_ms_by_kind": {label: round(statistics.median(v) * 1000, 2)
                           for label, v in by_label.items()},
        "fts5_p50_ms_by_kind": {label: round(statistics.median(v) * 1000, 2)
                                for label, v in fts_by_label.items()},
        "totals": totals, "fts5_totals": fts_totals,
    }
    print(f"{args.engine} at {n} docs: p50 {ours['p50_ms']} ms "
          f"({ours['p50_ms'] / base['p50_ms']:.2f}x FTS5's {base['p50_ms']}), "
          f"p95 {ours['p95_ms']} ms ({ours['p95_ms'] / base['p95_ms']:.2f}x FTS5's "
          f"{base['p95_ms']}), p99 {ours['p99_ms']} ms, max {ours['max_ms']} ms; cold first "
          f"query {result['cold_first_query_ms']} ms (found {first.total}); "
          f"peak RSS {result['peak_rss_mb']} MB", file=sys.stderr)
    for label in by_label:
        print(f"  {label:7s} p50 {result['p50_ms_by_kind'][label]:8.2f} ms   "
              f"FTS5 {result['fts5_p50_ms_by_kind'][label]:8.2f} ms", file=sys.stderr)
    write_json(args.json, result)
    getattr(space, "close", lambda: None)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
