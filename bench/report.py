"""The tables and plots of bench/README.md, from the JSON files the benchmarks wrote.

    python bench/report.py [--results bench/results] [--plots bench/plots]

Prints Markdown: the scale table (the default engine at each size, every figure beside
SQLite FTS5's from the same run), then one table per benchmark; and writes one PNG per
figure against the number of documents (log scale) into `--plots` (matplotlib, the
`bench` extra). Files: `search-<engine>-<n>.json` (bench/search.py), `index-…` (bench/index.py),
`web-<engine>-<n>[-w2].json` (bench/web.py), `crawl-….json` (bench/crawl.py), `pages-…`
(bench/pages.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PLOTS = HERE / "plots"
ENGINE = "tantivy"     # the default engine: the scale table and the plots


def _load(folder: Path, prefix: str) -> list[dict]:
    rows = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob(f"{prefix}-*.json"))]
    return sorted(rows, key=lambda r: (r.get("engine", ""), r.get("docs", 0), r.get("workers", 1)))


def _x(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base else "–"


def _n(value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}".rstrip("0").rstrip(".") if value >= 100 else f"{value:g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


# ------------------------------------------------------------------ the figures per size

def scale(results: dict[str, list[dict]]) -> dict[int, dict]:
    """docs -> {figure: (Veille, FTS5)} for the default engine."""
    sizes: dict[int, dict] = defaultdict(dict)
    for r in results["search"]:
        if r["engine"] == ENGINE:
            sizes[r["docs"]]["p50_ms"] = (r["p50_ms"], r["fts5_p50_ms"])
            sizes[r["docs"]]["p95_ms"] = (r["p95_ms"], r["fts5_p95_ms"])
    for r in results["index"]:
        if r["engine"] == ENGINE:
            s = sizes[r["docs"]]
            s["rebuild_docs_per_s"] = (r["docs_per_s"], r["fts5_docs_per_s"])
            s["incremental_100_s"] = (r["incremental_100_s"], r["fts5_incremental_100_s"])
            s["disk_mb_per_1k"] = (r.get("disk_mb_per_1k_docs"), r.get("fts5_disk_mb_per_1k_docs"))
            s["catalog_docs_per_s"] = (r.get("catalog_docs_per_s"), None)
    for r in results["web"]:
        if r["engine"] == ENGINE:
            s = sizes[r["docs"]]
            fts = r.get("fts5", {})
            key = "searches_per_s" if r.get("workers", 1) == 1 else f"searches_per_s_w{r['workers']}"
            s[key] = (r["requests_per_s"], fts.get("requests_per_s"))
            if r.get("workers", 1) == 1:
                s["web_peak_rss_mb"] = (r["web_peak_rss_mb"], fts.get("web_peak_rss_mb"))
                s["web_p95_ms"] = (r["p95_ms"], fts.get("p95_ms"))
    return dict(sorted(sizes.items()))


FIGURES = (   # key, title, unit, lower is better
    ("p50_ms", "search page p50", "ms", True),
    ("p95_ms", "search page p95", "ms", True),
    ("searches_per_s", "search pages served, 8 clients, 1 process", "searches/s", False),
    ("searches_per_s_w2", "search pages served, 8 clients, 2 processes", "searches/s", False),
    ("rebuild_docs_per_s", "full rebuild", "documents/s", False),
    ("incremental_100_s", "100 new documents committed and searchable", "s", True),
    ("web_peak_rss_mb", "web process peak RSS", "MB", True),
    ("disk_mb_per_1k", "index + catalog on disk per 1,000 documents", "MB", True),
)


def scale_table(sizes: dict[int, dict]) -> str:
    head = "| figure | " + " | ".join(f"{n:,} docs: Veille (FTS5)" for n in sizes) + " |"
    out = [head, "|" + "---|" * (len(sizes) + 1)]
    for key, title, unit, _ in FIGURES:
        cells = []
        for figures in sizes.values():
            ours, base = figures.get(key, (None, None))
            cells.append("–" if ours is None else f"{_n(ours)} ({_n(base)})")
        out.append(f"| {title}, {unit} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def plot(sizes: dict[int, dict], folder: Path) -> list[Path]:
    """One PNG per figure: Veille and FTS5 against the number of documents."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for key, title, unit, _ in FIGURES:
        points = [(n, f[key]) for n, f in sizes.items() if f.get(key, (None,))[0] is not None]
        if not points:
            continue
        figure, axes = pyplot.subplots(figsize=(5.5, 3.6), dpi=100)
        docs = [n for n, _ in points]
        axes.plot(docs, [v[0] for _, v in points], marker="o", label=f"Veille ({ENGINE})")
        base = [(n, v[1]) for n, v in points if v[1] is not None]
        if base:
            axes.plot([n for n, _ in base], [v for _, v in base], marker="s", linestyle="--",
                      label="SQLite FTS5")
        axes.set_xscale("log")
        if key != "incremental_100_s" or all(v[1] for _, v in points):
            axes.set_yscale("log")
        axes.set_xlabel("documents")
        axes.set_ylabel(unit)
        axes.set_title(title, fontsize=10)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
        figure.tight_layout()
        path = folder / f"{key}.png"
        figure.savefig(path)
        pyplot.close(figure)
        written.append(path)
    return written


# ------------------------------------------------------------------ one table per benchmark

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
    out = ["| engine | docs | rebuild docs/s | FTS5 docs/s | rebuild CPU s | catalog fill docs/s "
           "| 100 new committed + found s (FTS5) | index MB | catalog MB | FTS5 MB "
           "| MB per 1k docs (FTS5) | peak RSS MB | load avg (rebuild) |", "|" + "---|" * 13]
    for r in rows:
        out.append(f"| {r['engine']} | {r['docs']:,} | {r['docs_per_s']} | {r['fts5_docs_per_s']} "
                   f"| {r.get('rebuild_cpu_s', '–')} | {_n(r.get('catalog_docs_per_s'))} "
                   f"| {r['incremental_100_s']} ({r['fts5_incremental_100_s']}) "
                   f"| {r['index_mb']} | {r.get('catalog_mb', '–')} | {r['fts5_index_mb']} "
                   f"| {r.get('disk_mb_per_1k_docs', '–')} ({r.get('fts5_disk_mb_per_1k_docs', '–')}) "
                   f"| {r.get('rebuild_total_peak_rss_mb', r['peak_rss_mb'])} "
                   f"| {r.get('load_average', 0):.1f} ({r.get('rebuild_load_average') or 0:.1f}) |")
    return "\n".join(out)


def web_table(rows: list[dict]) -> str:
    out = ["| engine | docs | web processes | searches/s (FTS5) | p50 ms | p95 ms (FTS5) | p99 ms "
           "| p95 during crawl | p95 during commit | commit s | errors | web peak RSS MB, a process / all "
           "(FTS5) | web CPU ms a request | load avg |", "|" + "---|" * 14]
    for r in rows:
        fts = r.get("fts5", {})
        crawl = r.get("during_crawl", {})
        commit = r["during_commit"]
        out.append(f"| {r['engine']} | {r['docs']:,} | {r.get('workers', 1)} "
                   f"| {r['requests_per_s']} ({_n(fts.get('requests_per_s'))}) | {r['p50_ms']} "
                   f"| {r['p95_ms']} ({_n(fts.get('p95_ms'))}) | {r['p99_ms']} | {_n(crawl.get('p95_ms'))} "
                   f"| {commit['p95_ms']} | {commit.get('seconds', commit.get('commit_s'))} "
                   f"| {r['errors']}{' + ' + str(fts['errors']) if fts.get('errors') else ''} "
                   f"| {r['web_peak_rss_mb']} / {r.get('web_peak_rss_mb_all', r['web_peak_rss_mb'])} "
                   f"({_n(fts.get('web_peak_rss_mb'))}) | {r.get('web_cpu_ms_per_request', '–')} "
                   f"| {r.get('load_average', 0):.1f} |")
    return "\n".join(out)


def crawl_table(rows: list[dict]) -> str:
    out = ["| feeds | hosts | items | politeness s | cycle | wall s | CPU ms a source | new | 304 | failed "
           "| peak RSS MB |", "|" + "---|" * 11]
    for r in sorted(rows, key=lambda r: r["sources"]):
        for name, c in (("full", r["full_cycle"]), ("conditional", r["conditional_cycle"])):
            out.append(f"| {r['sources']:,} | {r['hosts']} | {r['items_per_feed']} | {r['delay_per_host_s']} "
                       f"| {name} | {c['wall_s']} | {c['cpu_ms_per_source']} | {c['new']:,} "
                       f"| {c['not_modified']} | {c['failed']} | {r['peak_rss_mb']} |")
    return "\n".join(out)


def pages_table(rows: list[dict]) -> str:
    """CPU ms per request of each page kind, one column per size (bench/pages.py)."""
    rows = sorted((r for r in rows if r.get("engine") == ENGINE), key=lambda r: r["docs"])
    if not rows:
        return ""
    out = ["| page | " + " | ".join(f"{r['docs']:,} docs" for r in rows) + " |", "|---" * (len(rows) + 1) + "|"]
    for label in rows[-1]["pages"]:
        cells = [str(r["pages"].get(label, {}).get("cpu_p50_ms", "—")) for r in rows]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--plots", type=Path, default=PLOTS)
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    results = {name: _load(args.results, name) for name in ("search", "index", "web", "crawl", "pages")}
    sizes = scale(results)
    if sizes:
        print(f"### {ENGINE} at each size, SQLite FTS5 in brackets\n\n{scale_table(sizes)}\n")
        if not args.no_plots:
            for path in plot(sizes, args.plots):
                print(f"![{path.stem}]({os.path.relpath(path, HERE)})")
            print()
    for title, name, table in (("Search", "search", search_table), ("Index", "index", index_table),
                               ("Web", "web", web_table), ("Crawl", "crawl", crawl_table),
                               (f"Pages ({ENGINE}, CPU ms per request, median)", "pages", pages_table)):
        if results[name]:
            print(f"### {title}\n\n{table(results[name])}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
