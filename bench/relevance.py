"""Relevance: judged queries on the real code articles, Veille beside SQLite FTS5 and BM25.

    python bench/relevance.py [--corpus ../shared/corpus] [--json bench/results/relevance.json]

The collection is `legal/etalab-codes-juridiques-francais/` of the shared corpus, read as a
library folder is (`indexer.extract`, `indexer.library.sync.build_document`): 2,646 articles
of codes and the 601 tables of contents (`README.md` of each book, title, chapter) between
them. The queries (`bench/relevance_queries.py`) are of three kinds:

- known items: words a professional would use for one article, plus one plausible word the
  article does not hold (checked when the benchmark starts);
- references: an article as people write it (`L. 142-13`, `art. L. 631-7 CCH`, `R*129-2`);
- topics: a subject; the relevant articles are those saying it (a pattern per topic).

Systems, in one process on the same documents: Veille's engines (tantivy, Whoosh) through
`DocumentSpace.search` as the search page asks; SQLite FTS5 (`unicode61 remove_diacritics
2`, bm25 with the title weighted 3) with the words AND-ed and OR-ed; plain BM25 (Okapi,
`rank_bm25`) over folded words. Reported per kind and overall: MRR@10, success@10, nDCG@10.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sqlite3
import sys
import time
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from indexer.extract import extract  # noqa: E402
from indexer.library.sync import build_document  # noqa: E402
from indexer.search.analysis import analyze  # noqa: E402
from indexer.search.request import SearchRequest  # noqa: E402
from indexer.search.space import DocumentSpace  # noqa: E402

from bench.common import write_config  # noqa: E402
from bench.corpus import CACHE_DIR  # noqa: E402
from bench.relevance_queries import QUERIES, Judged  # noqa: E402

CODES = "legal/etalab-codes-juridiques-francais"
LIBRARY = "codes"
TOP = 10
WHEN = datetime(2020, 9, 1, tzinfo=timezone.utc)


def load_documents(corpus: Path) -> dict[str, object]:
    """relative path -> Document, for every Markdown file of the codes."""
    root = corpus / CODES
    docs = {}
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        if rel == "README.md":
            continue
        data = path.read_bytes()
        extracted = extract(data, filename=path.name)
        docs[rel] = build_document(LIBRARY, rel, extracted, sha256=str(len(data)), size=len(data),
                                   mtime=WHEN, sidecar=None, first_seen=WHEN)
    return docs


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe"))
    return "".join(c for c in text if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


# ------------------------------------------------------------------ judgments


def judgments(query: Judged, docs: dict) -> dict[str, int]:
    """doc id -> grade of the documents relevant to `query`."""
    out = {}
    for rel, doc in docs.items():
        name = rel.rsplit("/", 1)[-1]
        if query.files and any(rel.endswith(f) for f in query.files):
            out[doc.id] = 2
        elif query.also and any(name == f for f in query.also):
            out[doc.id] = 1
        elif query.pattern and re.search(query.pattern, fold(doc.content)):
            out[doc.id] = 1
    return out


def check_known_item(query: Judged, docs: dict, vocabularies: dict) -> str | None:
    """Why a known-item query is not the case it stands for — words a professional types
    for one article, one of which the article does not use, and that no document holds
    all of (so an all-words search finds nothing) — else None."""
    target = next(doc for rel, doc in docs.items() if rel.endswith(query.files[0]))
    terms = vocabularies[target.id]
    extra = set(analyze(query.extra))
    if extra & terms:
        return f"{query.q!r}: the extra word {query.extra!r} is in the article"
    missing = [w for w in query.q.replace(query.extra, "").split() if analyze(w) and not set(analyze(w)) <= terms]
    if missing:
        return f"{query.q!r}: {missing} not in the article"
    every = set(analyze(query.q))
    holders = [docs_id for docs_id, vocabulary in vocabularies.items() if every <= vocabulary]
    if holders:
        return f"{query.q!r}: {len(holders)} document(s) hold every word"
    return None


# ------------------------------------------------------------------ systems


class Veille:
    def __init__(self, engine: str, docs: dict):
        self.name = f"Veille ({engine})"
        data_dir = CACHE_DIR / f"relevance-{engine}"
        shutil.rmtree(data_dir, ignore_errors=True)
        self.space = DocumentSpace(write_config(data_dir, engine))
        with self.space.catalog.transaction():
            for doc in docs.values():
                self.space.catalog.documents.put(doc)
        self.space.rebuild()

    def rank(self, q: str) -> list[str]:
        found = self.space.search(SearchRequest(q=q, per_page=TOP, facets=False, highlight=False,
                                                include_internal=True))
        return [hit.id for hit in found.hits]


class Fts5:
    def __init__(self, docs: dict, operator: str):
        self.name = f"SQLite FTS5 ({operator})"
        self.operator = operator
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE fts USING fts5(id UNINDEXED, title, content,"
                        " tokenize = 'unicode61 remove_diacritics 2')")
        self.db.executemany("INSERT INTO fts VALUES (?, ?, ?)",
                            [(d.id, d.title, d.content) for d in docs.values()])

    def rank(self, q: str) -> list[str]:
        tokens = [t for t in words(q)]
        if not tokens:
            return []
        match = f" {self.operator} ".join(f'"{t}"' for t in tokens)
        rows = self.db.execute("SELECT id FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 0, 3.0, 1.0)"
                               " LIMIT ?", (match, TOP))
        return [row[0] for row in rows]


class PlainBM25:
    def __init__(self, docs: dict):
        from rank_bm25 import BM25Okapi

        self.name = "BM25 (Okapi)"
        self.ids = [d.id for d in docs.values()]
        self.bm25 = BM25Okapi([words(d.title + " " + d.content) for d in docs.values()])

    def rank(self, q: str) -> list[str]:
        scores = self.bm25.get_scores(words(q))
        best = sorted(range(len(scores)), key=lambda i: (-scores[i], self.ids[i]))[:TOP]
        return [self.ids[i] for i in best if scores[i] > 0]


# ------------------------------------------------------------------ metrics


def metrics(ranked: list[str], grades: dict[str, int]) -> tuple[float, float, float]:
    """(reciprocal rank, success, nDCG) at TOP."""
    ranked = ranked[:TOP]
    first = next((i for i, doc_id in enumerate(ranked) if grades.get(doc_id)), None)
    rr = 1.0 / (first + 1) if first is not None else 0.0
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked))
    ideal = sorted(grades.values(), reverse=True)[:TOP]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return rr, float(first is not None), dcg / idcg if idcg else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--show", action="store_true", help="print each query's first results")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    docs = load_documents(args.corpus)
    vocabularies = {doc.id: set(analyze(doc.title + " " + doc.content)) for doc in docs.values()}
    problems = [p for q in QUERIES if q.kind == "known item" and (p := check_known_item(q, docs, vocabularies))]
    if problems:
        print("judged queries to fix:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    graded = [(q, judgments(q, docs)) for q in QUERIES]
    empty = [q.q for q, grades in graded if not grades]
    if empty:
        print(f"queries with nothing relevant: {empty}", file=sys.stderr)
        return 2
    systems = [Veille("tantivy", docs), Veille("whoosh", docs), Fts5(docs, "AND"), Fts5(docs, "OR"),
               PlainBM25(docs)]
    titles = {d.id: d.title for d in docs.values()}
    kinds = sorted({q.kind for q in QUERIES})
    table: dict[str, dict[str, dict[str, float]]] = {}
    for system in systems:
        rows: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in kinds}
        for query, grades in graded:
            ranked = system.rank(query.q)
            rows[query.kind].append(metrics(ranked, grades))
            if args.show and system is systems[0]:
                marks = ["*" if grades.get(d) else " " for d in ranked[:3]]
                print(f"{query.q!r}: " + " | ".join(f"{m}{titles.get(d, d)}" for m, d in zip(marks, ranked[:3])))
        rows["all"] = [m for kind in kinds for m in rows[kind]]
        table[system.name] = {kind: {"MRR@10": _mean(v, 0), "success@10": _mean(v, 1), "nDCG@10": _mean(v, 2),
                                     "queries": len(v)} for kind, v in rows.items()}
    _print(table, kinds + ["all"])
    result = {"documents": len(docs), "queries": len(QUERIES), "seconds": round(time.perf_counter() - started, 1),
              "table": table}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


def _mean(values: list[tuple[float, float, float]], i: int) -> float:
    return round(sum(v[i] for v in values) / len(values), 3) if values else 0.0


def _print(table: dict, kinds: list[str]) -> None:
    for kind in kinds:
        n = next(iter(table.values()))[kind]["queries"]
        print(f"\n{kind} ({n} queries)\n| system | MRR@10 | success@10 | nDCG@10 |\n|---|---|---|---|")
        for name, rows in table.items():
            row = rows[kind]
            print(f"| {name} | {row['MRR@10']:.3f} | {row['success@10']:.3f} | {row['nDCG@10']:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
