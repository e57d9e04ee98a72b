"""The SQLite FTS5 baseline (stdlib sqlite3): same corpus, same query mix, same page work.

Each search does what Veille's search page does: the total, the top 10 (bm25 with the title
weighted, or newest first) with a highlighted snippet, and facet counts over all matches
(kind, source, doc_type, year, themes, territories) by GROUP BY on a temp table of matches.
The tokenizer folds case and diacritics (`unicode61 remove_diacritics 2`); there is no
French stemming in FTS5.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

from veille.core.facets import BY_NAME
from veille.core.records import Document

from bench.queries import BenchQuery

SCHEMA = """
CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT, title TEXT, source TEXT, kind TEXT,
                   doc_type TEXT, year INTEGER, published TEXT);
CREATE TABLE doc_values (rowid INTEGER, field TEXT, value TEXT);
CREATE VIRTUAL TABLE fts USING fts5(title, content, tokenize = 'unicode61 remove_diacritics 2');
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS doc_values_rowid ON doc_values(rowid);
CREATE INDEX IF NOT EXISTS docs_published ON docs(published);
"""


def _rows(docs: Iterable[Document], start: int):
    for rowid, doc in enumerate(docs, start):
        yield rowid, doc


def build(path: Path, docs: Iterable[Document]) -> tuple[sqlite3.Connection, float, int]:
    """A fresh FTS5 database of `docs`; returns (connection, seconds, count)."""
    path = Path(path)
    _remove(path)
    db = _connect(path)
    started = time.perf_counter()
    db.executescript(SCHEMA)
    count = add(db, docs, start=1)
    _finish(db)
    return db, time.perf_counter() - started, count


def ensure(path: Path, n: int, shards: Callable[[int], Iterator[Iterable[Document]]]) -> dict:
    """The FTS5 database of the first n documents at `path`, built a shard per transaction
    and resumable like the catalog: `shards(first)` yields the document batches from
    document `first` on. Returns its build figures (seconds summed over resumed runs)."""
    path = Path(path)
    stats_path = path.with_suffix(".json")
    if path.exists() and stats_path.exists():
        return json.loads(stats_path.read_text(encoding="utf-8"))
    db = _connect(path)
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'fts'").fetchone():
        db.executescript(SCHEMA)
    db.execute("CREATE TABLE IF NOT EXISTS bench_fill (first INTEGER PRIMARY KEY, seconds REAL)")
    done = db.execute("SELECT count(*) FROM docs").fetchone()[0]
    for batch in shards(done):
        started, first = time.perf_counter(), done
        done += add(db, batch, start=done + 1)
        # documents commit first: a run stopped right here loses this batch's seconds only
        db.execute("INSERT INTO bench_fill VALUES (?, ?)", (first, time.perf_counter() - started))
    started = time.perf_counter()
    _finish(db)
    seconds = (db.execute("SELECT coalesce(sum(seconds), 0) FROM bench_fill").fetchone()[0]
               + time.perf_counter() - started)
    db.execute("DROP TABLE bench_fill")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    stats = {"docs": done, "seconds": round(seconds, 2), "docs_per_s": round(done / seconds, 1),
             "mb": round(index_size(path) / 1e6, 1)}
    stats_path.write_text(json.dumps(stats) + "\n", encoding="utf-8")
    return stats


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _finish(db: sqlite3.Connection) -> None:
    db.executescript(INDEXES)
    db.execute("INSERT INTO fts(fts) VALUES ('optimize')")


def add(db: sqlite3.Connection, docs: Iterable[Document], start: int | None = None) -> int:
    """Insert documents in one transaction (the incremental batch uses it too)."""
    if start is None:
        start = db.execute("SELECT coalesce(max(rowid), 0) + 1 FROM docs").fetchone()[0]
    count = 0
    db.execute("BEGIN")
    for rowid, doc in _rows(docs, start):
        date = doc.date
        db.execute("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (rowid, doc.id, doc.title, doc.source, doc.kind, doc.doc_type, date.year,
                    date.date().isoformat()))
        db.executemany("INSERT INTO doc_values VALUES (?, ?, ?)",
                       [(rowid, "themes", v) for v in doc.themes]
                       + [(rowid, "territories", v) for v in doc.territories])
        db.execute("INSERT INTO fts(rowid, title, content) VALUES (?, ?, ?)",
                   (rowid, doc.title, doc.content))
        count += 1
    db.execute("COMMIT")
    return count


def open_db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


def search(db: sqlite3.Connection, query: BenchQuery, per_page: int = 10, page: int = 1) -> dict:
    """Total, top hits with snippets and facet counts, as the search page needs them."""
    where, args = ["fts MATCH ?"], [query.fts]
    if query.date_from:
        where.append("d.published >= ?")
        args.append(query.date_from.isoformat())
    if query.date_to:
        where.append("d.published <= ?")
        args.append(query.date_to.isoformat())
    for name, values in query.filters.items():
        marks = ",".join("?" * len(values))
        if name in ("kind", "source", "doc_type"):
            where.append(f"d.{name} IN ({marks})")
        else:
            where.append(f"d.rowid IN (SELECT rowid FROM doc_values WHERE field = ? AND value IN ({marks}))")
            args.append(BY_NAME[name].field)
        args.extend(values)
    condition = " AND ".join(where)
    db.execute("DROP TABLE IF EXISTS temp.m")
    db.execute(f"CREATE TEMP TABLE m AS SELECT fts.rowid AS rowid FROM fts "
               f"JOIN docs d ON d.rowid = fts.rowid WHERE {condition}", args)
    total = db.execute("SELECT count(*) FROM m").fetchone()[0]
    order = "d.published DESC" if query.sort == "date" else "bm25(fts, 5.0, 1.0)"
    hits = db.execute(
        f"SELECT d.id, d.title, d.source, d.published, "
        f"snippet(fts, -1, '<mark>', '</mark>', '…', 24) FROM fts JOIN docs d ON d.rowid = fts.rowid "
        f"WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?",
        (*args, per_page, (page - 1) * per_page)).fetchall()
    facets = {}
    for name in ("kind", "source", "doc_type", "year"):
        facets[name] = db.execute(
            f"SELECT d.{name}, count(*) c FROM m JOIN docs d ON d.rowid = m.rowid "
            f"GROUP BY d.{name} ORDER BY c DESC LIMIT 20").fetchall()
    for name in ("themes", "territories"):
        facets[name] = db.execute(
            "SELECT v.value, count(*) c FROM m JOIN doc_values v ON v.rowid = m.rowid "
            "WHERE v.field = ? GROUP BY v.value ORDER BY c DESC LIMIT 20", (name,)).fetchall()
    return {"total": total, "hits": hits, "facets": facets}


def index_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).parent.glob(Path(path).name + "*"))
