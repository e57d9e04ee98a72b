"""Hostile queries beside normal ones: what an anonymous visitor can make one search cost.

    python bench/hostile.py --docs 10000 --engine tantivy --json bench/results/hostile-tantivy-10k.json

Each request is the search page's (top 10, highlights, facets, "did you mean" on). The
normal mix is `bench/queries.py`'s; the hostile one is what an attacker types to make the
server work: very long words (`p` x 490, 250 random letters), a 500-character paste, 200
words, 40 misspelt words each asking for a suggestion, one-letter wildcards, deep
parentheses and long OR chains. p50/p95 of both mixes, with SQLite FTS5 answering the
same words in the same process as the baseline (FTS5 has no "did you mean": the ratio
shows what suggestions and the query language cost on top of matching). The space and
FTS5 database are the ones `bench/prepare.py` builds and caches.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus, fts5  # noqa: E402
from bench.common import load_config, peak_rss_mb, summary_ms, write_json  # noqa: E402
from bench.queries import QUERIES, BenchQuery  # noqa: E402
from bench.prepare import ensure_fts5, ensure_space  # noqa: E402
from bench.search import request_for  # noqa: E402


def _fts(q: str) -> str:
    """The words of `q` as an FTS5 expression (each quoted: no FTS5 syntax gets through)."""
    words = re.findall(r"\w+", q)[:64] or ["x"]
    return " OR ".join(f'"{w}"' for w in words) if " OR " in q else " ".join(f'"{w}"' for w in words)


def hostile_queries(seed: int = 15) -> list[BenchQuery]:
    rng = random.Random(seed)
    letters = lambda n: "".join(rng.choice(string.ascii_lowercase) for _ in range(n))  # noqa: E731
    misspelt = ["renovatoin", "logemnt", "quartierss", "urbanisem", "colectivite", "politque",
                "habitnat", "cohesoin", "prefecure", "martiniqe"]
    texts = {
        "long-word": "p" * 490,
        "random-250": letters(250),
        "paste-500": " ".join(letters(rng.randint(3, 12)) for _ in range(80))[:500],
        "200-words": " ".join(letters(rng.randint(4, 9)) for _ in range(200)),
        "40-typos": " ".join(rng.choice(misspelt) + letters(1) for _ in range(40)),
        "wildcards": "a* b* c? d* e* r* l* p* q* u*",
        "parens": "(" * 40 + "logement" + ")" * 40,
        "or-chain": " OR ".join(letters(6) for _ in range(60)),
    }
    return [BenchQuery(label, q, _fts(q)) for label, q in texts.items()]


def _time(run, queries, rounds: int) -> tuple[list[float], dict[str, list[float]]]:
    times, by_label = [], {}
    for page in range(1, rounds + 1):
        for query in queries:
            t0 = time.perf_counter()
            run(query, page)
            elapsed = time.perf_counter() - t0
            times.append(elapsed)
            by_label.setdefault(query.label, []).append(elapsed)
    return times, by_label


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--engine", default="tantivy", choices=("whoosh", "tantivy"))
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--rounds", type=int, default=3, help="passes over each mix (page 1..R)")
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached index first")
    args = parser.parse_args(argv)

    config_path = ensure_space(args.docs, args.engine, args.seed, args.fresh)
    fts_path, _ = ensure_fts5(args.docs, args.seed, args.fresh)
    from indexer.search.space import DocumentSpace

    space = DocumentSpace(load_config(config_path))
    hostile = hostile_queries()
    space.search(request_for(QUERIES[0], 1))      # warm: the same start for both mixes
    # each round asks for another page and another misspelling, so no cache answers
    normal_times, _ = _time(lambda q, page: space.search(request_for(q, page)), QUERIES, args.rounds)
    hostile_times, hostile_by_label = _time(lambda q, page: space.search(request_for(q, page)),
                                            hostile, args.rounds)
    comparisons = space._current().vocabulary.comparisons
    space.close()

    db = fts5.open_db(fts_path)
    fts5.search(db, QUERIES[0])
    fts_normal, _ = _time(lambda q, page: fts5.search(db, q, page=page), QUERIES, args.rounds)
    fts_hostile, _ = _time(lambda q, page: fts5.search(db, q, page=page), hostile, args.rounds)
    db.close()

    normal, hostile_ms = summary_ms(normal_times), summary_ms(hostile_times)
    base_normal, base_hostile = summary_ms(fts_normal), summary_ms(fts_hostile)
    result = {
        "docs": args.docs, "engine": args.engine, "rounds": args.rounds,
        "normal_p50_ms": normal["p50_ms"], "normal_p95_ms": normal["p95_ms"],
        "hostile_p50_ms": hostile_ms["p50_ms"], "hostile_p95_ms": hostile_ms["p95_ms"],
        "hostile_max_ms": hostile_ms["max_ms"],
        "fts5_normal_p95_ms": base_normal["p95_ms"], "fts5_hostile_p95_ms": base_hostile["p95_ms"],
        "suggestion_comparisons": comparisons,
        "hostile_max_ms_by_kind": {label: round(max(v) * 1000, 2) for label, v in hostile_by_label.items()},
        "peak_rss_mb": peak_rss_mb(), "load_average": os.getloadavg()[0],
    }
    print(f"{args.engine} at {args.docs} docs: normal p50 {normal['p50_ms']} ms / p95 {normal['p95_ms']} ms "
          f"(FTS5 p95 {base_normal['p95_ms']}); hostile p50 {hostile_ms['p50_ms']} ms / p95 "
          f"{hostile_ms['p95_ms']} ms / max {hostile_ms['max_ms']} ms (FTS5 p95 {base_hostile['p95_ms']}); "
          f"{comparisons} suggestion comparisons in all", file=sys.stderr)
    for label, value in result["hostile_max_ms_by_kind"].items():
        print(f"  {label:11s} max {value:8.2f} ms", file=sys.stderr)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
