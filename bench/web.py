"""Web benchmark: concurrent clients against `veille serve` on loopback, during a crawl and a commit.

    python bench/web.py --docs 1000000 --engine tantivy --clients 8 --duration 60 [--workers 2] --json F

A copy of the cached benchmark space (bench/prepare.py) is served by a real `veille serve`
process on 127.0.0.1. Client threads (bounded in count and duration) request search pages
of the fixed query mix over keep-alive connections, with filters and sorts as the page's
URL carries them, each client walking its own order and result pages. A third of the way
in, `veille crawl` fetches 50 loopback feeds (1,000 new documents, politeness on), 100
library documents enter the catalog, and `veille index` commits them all, each in its own
process as the scheduler would run them; latencies during the crawl and during the commit
are reported apart. The web processes' peak memory (VmHWM) and CPU are read from /proc.

Then the FTS5 baseline is served the same way (bench/fts5_server.py: the same mix, total,
ten hits with snippets, six facets) to the same clients for as long, taking the same number
of new documents a third of the way in. `--no-fts5` skips it.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus  # noqa: E402
from bench.common import CACHE_DIR, ROOT, DataDir, fill_catalog, summary_ms, write_json  # noqa: E402
from bench.crawl import start_feed_server, stop_feed_server, write_config  # noqa: E402
from bench.prepare import ensure_fts5, ensure_space  # noqa: E402
from bench.queries import QUERIES, BenchQuery  # noqa: E402

BATCH = 100            # library documents added beside the crawl
CRAWL_FEEDS = 50       # feeds crawled during the load: 1,000 new documents
CRAWL_HOSTS = 10
CRAWL_ITEMS = 20
CRAWL_DELAY = 0.5      # politeness per host, seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url_for(query: BenchQuery, page: int) -> str:
    params = [("q", query.q), ("page", str(page))]
    for name, values in query.filters.items():
        params.extend((name, value) for value in values)
    if query.date_from:
        params.append(("from", query.date_from.isoformat()))
    if query.date_to:
        params.append(("to", query.date_to.isoformat()))
    if query.sort != "relevance":
        params.append(("sort", query.sort))
    return "/search?" + urlencode(params)


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"veille serve exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("veille serve did not answer in time")


def peak_rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU seconds of process `pid` and its children that were waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    # fields[11:15] are utime, stime, cutime, cstime (stat fields 14-17)
    return sum(int(v) for v in fields[11:15]) / ticks


def process_tree(pid: int) -> list[int]:
    """`pid` and its live descendants (the workers of a prefork server)."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        pids.extend(process_tree(int(child)))
    return pids


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and its live descendants."""
    total = 0.0
    for each in process_tree(pid):
        try:
            total += cpu_seconds_of(each)
        except OSError:
            pass
    return total


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def client(port: int, seed: int, stop: list, out: list, errors: list, cpu: list, url_of=None) -> None:
    """Request search pages until `stop[0]` over one keep-alive connection, as a browser does."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop[0]:
        at, page = rng.randrange(len(QUERIES)), rng.randint(1, 5)
        path = url_of(at, page) if url_of else url_for(QUERIES[at], page)
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            errors.append(repr(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        finished = time.perf_counter()
        if status != 200:
            errors.append(f"HTTP {status} for {path}")
        out.append((started, finished))
    conn.close()
    cpu.append(time.thread_time())


def load_phase(port: int, clients: int, duration: float, server_pid: int, url_of, during) -> dict:
    """`clients` threads on `port` for `duration` seconds; a third of the way in, `during()`
    runs (the crawl and the commit) and returns its named time windows. Should it last past
    the end, the clients go on until it is over."""
    samples: list[tuple[float, float]] = []
    errors: list[str] = []
    client_cpu: list[float] = []
    server_cpu_start = tree_cpu_seconds(server_pid)
    started = time.monotonic()
    stop = [started + duration]
    threads = [threading.Thread(target=client, args=(port, i, stop, samples, errors, client_cpu, url_of))
               for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(duration / 3)
    windows, extra = during(errors)
    stop[0] = max(stop[0], time.monotonic() + 1.0)
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    server_cpu = tree_cpu_seconds(server_pid) - server_cpu_start
    # each process's own peak: a prefork server's workers are separate processes
    peaks = [peak_rss_of(pid) for pid in process_tree(server_pid)]
    latencies = [end - begin for begin, end in samples]
    result = {"duration_s": round(wall, 1), "requests": len(samples),
              "requests_per_s": round(len(samples) / wall, 1), **summary_ms(latencies),
              "errors": len(errors), "error_examples": errors[:3],
              "web_peak_rss_mb": max(peaks),                # the largest process's peak (VmHWM)
              "web_peak_rss_mb_all": round(sum(peaks), 1),  # every web process's peak, added
              # CPU of the web process during the load, per answered request; the clients'
              # own CPU (client threads, same machine) competes with it for the cores
              "web_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(samples)), 2),
              "client_cpu_ms_per_request": round(sum(client_cpu) * 1000 / max(1, len(samples)), 2),
              "load_average": load_average(), **extra}
    for name, (begin, end) in windows.items():
        during_it = [e - b for b, e in samples if b < end and e > begin]
        result[name] = {"requests": len(during_it), **summary_ms(during_it), "seconds": round(end - begin, 2)}
    return result


def start_server(command: list[str], port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    log.close()
    wait_until_up(port, server)
    return server


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def veille_phase(args, clients: int, duration: float) -> dict:
    """Veille served from a copy of the benchmark space while feeds are crawled into it and
    the crawl and 100 library documents are committed to its index from other processes."""
    source = ensure_space(args.docs, args.engine, args.seed, fresh=False).parent
    run_dir = CACHE_DIR / f"web-run-{args.engine}-{args.docs}"
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(source, run_dir)
    feeds, feed_port = start_feed_server(CRAWL_FEEDS, CRAWL_HOSTS, CRAWL_ITEMS, args.seed)
    # the served space's configuration, with the feeds to crawl during the load
    config_path = write_config(run_dir, feed_port, CRAWL_HOSTS, CRAWL_FEEDS, CRAWL_DELAY, 4, engine=args.engine)
    port = free_port()
    try:
        server = start_server([sys.executable, "-m", "veille", "--config", str(config_path), "serve",
                               "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)],
                              port, CACHE_DIR / f"web-{args.engine}-{args.docs}.log")
    except BaseException:
        stop_feed_server(feeds)
        raise
    try:
        # one request opens the index, as the first visitor would
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        warm.request("GET", url_for(QUERIES[0], 1))
        if "Aucun document ne correspond" in warm.getresponse().read().decode("utf-8"):
            # an index of an older layout is replaced by an empty one: fast, and meaningless
            raise SystemExit(f"the served index finds nothing for {QUERIES[0].q!r}: rebuild the "
                             f"cached space (python bench/prepare.py --docs {args.docs} --engine "
                             f"{args.engine}, after removing {source})")

        def crawl_and_commit(errors: list) -> tuple[dict, dict]:
            veille = [sys.executable, "-m", "veille", "--config", str(config_path)]
            crawl_start = time.perf_counter()
            crawl = subprocess.run([*veille, "crawl"], cwd=ROOT, capture_output=True, text=True)
            crawl_end = time.perf_counter()
            if crawl.returncode != 0:
                errors.append("veille crawl failed: " + crawl.stderr.strip()[-300:])
            fill_catalog(run_dir, corpus.generate(BATCH, args.seed, start=args.docs + 1000))
            commit_start = time.perf_counter()
            indexer = subprocess.run([*veille, "index"], cwd=ROOT, capture_output=True, text=True)
            commit_end = time.perf_counter()
            if indexer.returncode != 0:
                errors.append("veille index failed: " + indexer.stderr.strip()[-300:])
            return ({"during_crawl": (crawl_start, crawl_end), "during_commit": (commit_start, commit_end)},
                    {"crawled_new": _crawled(run_dir)})

        return load_phase(port, clients, duration, server.pid, None, crawl_and_commit)
    finally:
        stop_server(server)
        stop_feed_server(feeds)
        shutil.rmtree(run_dir, ignore_errors=True)


def fts5_phase(args, clients: int, duration: float) -> dict:
    """The FTS5 baseline served the same way (bench/fts5_server.py) from a copy of its
    database; a third of the way in, as many documents as Veille took are added to it."""
    fts_path, _ = ensure_fts5(args.docs, args.seed)
    copy = CACHE_DIR / f"web-run-fts5-{args.docs}.sqlite3"
    shutil.copyfile(fts_path, copy)
    port = free_port()
    server = start_server([sys.executable, str(ROOT / "bench" / "fts5_server.py"), str(copy), str(port)],
                          port, CACHE_DIR / f"web-fts5-{args.docs}.log")
    try:
        def add(errors: list) -> tuple[dict, dict]:
            begin = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("GET", f"/add?start={args.docs + 1000}&n={CRAWL_FEEDS * CRAWL_ITEMS + BATCH}")
            if conn.getresponse().status != 200:
                errors.append("the FTS5 commit failed")
            return {"during_commit": (begin, time.perf_counter())}, {}

        return load_phase(port, clients, duration, server.pid,
                          lambda at, page: f"/search?i={at}&page={page}", add)
    finally:
        stop_server(server)
        for leftover in copy.parent.glob(copy.name + "*"):
            leftover.unlink()


def _crawled(data_dir: Path) -> int:
    """Documents the crawl brought: those of the benchmark's feeds."""
    import sqlite3

    db = sqlite3.connect(DataDir(data_dir).catalog)
    try:
        return db.execute("SELECT count(*) FROM documents WHERE source LIKE 'flux-%'").fetchone()[0]
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--engine", default="tantivy", choices=("whoosh", "tantivy"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1,
                        help="web processes (`veille serve --workers`; 1: waitress)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (max 300)")
    parser.add_argument("--no-fts5", action="store_true", help="skip the FTS5 baseline's run")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    args = parser.parse_args(argv)
    clients = max(1, min(args.clients, 64))
    duration = max(2.0, min(args.duration, 300.0))

    ours = veille_phase(args, clients, duration)
    base = None if args.no_fts5 else fts5_phase(args, clients, duration)
    result = {"docs": args.docs, "engine": args.engine, "clients": clients, "workers": args.workers, **ours}
    if base is not None:
        result["fts5"] = base
    print(f"{args.engine} at {args.docs} docs, {clients} clients, {args.workers} web process(es): "
          f"{ours['requests_per_s']} searches/s, p50 {ours['p50_ms']} ms, p95 {ours['p95_ms']} ms; "
          f"during the crawl ({ours['during_crawl']['seconds']} s, {ours['crawled_new']} new) p95 "
          f"{ours['during_crawl']['p95_ms']} ms, during the commit ({ours['during_commit']['seconds']} s) "
          f"p95 {ours['during_commit']['p95_ms']} ms; {ours['errors']} errors; web peak RSS "
          f"{ours['web_peak_rss_mb']} MB a process ({ours['web_peak_rss_mb_all']} MB in all); web CPU "
          f"{ours['web_cpu_ms_per_request']} ms/request; load average {ours['load_average']}", file=sys.stderr)
    if base is not None:
        print(f"FTS5: {base['requests_per_s']} searches/s, p50 {base['p50_ms']} ms, p95 {base['p95_ms']} ms, "
              f"peak RSS {base['web_peak_rss_mb']} MB, {base['errors']} errors", file=sys.stderr)
    write_json(args.json, result)
    return 1 if ours["errors"] or (base and base["errors"]) else 0


if __name__ == "__main__":
    sys.exit(main())
