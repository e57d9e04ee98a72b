"""Print the Markdown tables of bench/README.md from the JSON files of bench/results/.

    python bench/report.py [bench/results]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _load(folder: Path, prefix: str) -> list[dict]:
    rows = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob(f"{prefix}-*.json"))]
    return sorted(rows, key=lambda r: (r.get("engine", ""), r.get("docs", 0)))


def _x(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base else "–"


def search_table(rows: list[dict]) -> str:
    out = ["| engine | docs | p50 ms | p95 ms | p99 ms | max ms | FTS5 p50 / p95 ms | ratio p50 / p95 "
           "| cold ms | peak RSS MB | load avg |", "|" + "---|" * 11]
    for r in rows:
        out.append(f"| {r['engine']} | {r['docs']:,} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
                   f"| {r['max_ms']} | {r['fts5_p50_ms']} / {r['fts5_p95_ms']} "
                   f"| {_x(r['p50_ms'], r['fts5_p50_ms'])} / {_x(r['p95_ms'], r['fts5_p95_ms'])} "
                   f"| {r['cold_first_query_ms']} | {r['peak_rss_mb']} | {r.get('load_average', 0):.1f} |")
    return "\n".join(out)


def index_table(rows: list[dict]) -> str:
    out = ["| engine | docs | docs/s | FTS5 docs/s | ratio | rebuild CPU s | incremental 100 s "
           "(FTS5) | index MB (FTS5) | peak RSS MB | load avg |", "|" + "---|" * 10]
    for r in rows:
        out.append(f"| {r['engine']} | {r['docs']:,} | {r['docs_per_s']} | {r['fts5_docs_per_s']} "
                   f"| {_x(r['docs_per_s'], r['fts5_docs_per_s'])} | {r.get('rebuild_cpu_s', '–')} "
                   f"| {r['incremental_100_s']} ({r['fts5_incremental_100_s']}) "
                   f"| {r['index_mb']} ({r['fts5_index_mb']}) "
                   f"| {r.get('rebuild_total_peak_rss_mb', r['peak_rss_mb'])} "
                   f"| {r.get('load_average', 0):.1f} |")
    return "\n".join(out)


def web_table(rows: list[dict]) -> str:
    out = ["| engine | docs | web processes | clients | searches/s | p50 ms | p95 ms | p99 ms "
           "| p95 during commit | commit s | errors | web peak RSS MB (a process / all) "
           "| web CPU ms a request | load avg |", "|" + "---|" * 14]
    for r in sorted(rows, key=lambda r: (r["engine"], r["docs"], r.get("workers", 1))):
        c = r["during_commit"]
        out.append(f"| {r['engine']} | {r['docs']:,} | {r.get('workers', 1)} | {r['clients']} "
                   f"| {r['requests_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
                   f"| {c['p95_ms']} | {c['commit_s']} | {r['errors']} "
                   f"| {r['web_peak_rss_mb']} / {r.get('web_peak_rss_mb_all', r['web_peak_rss_mb'])} "
                   f"| {r.get('web_cpu_ms_per_request', '–')} | {r.get('load_average', 0):.1f} |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else RESULTS
    for title, prefix, table in (("Search", "search", search_table), ("Index", "index", index_table),
                                 ("Web", "web", web_table)):
        rows = _load(folder, prefix)
        if rows:
            print(f"### {title}\n\n{table(rows)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
