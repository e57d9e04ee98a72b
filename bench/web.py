"""Web benchmark: concurrent clients against `veille serve` on loopback, during a commit.

    python bench/web.py --docs 50000 --engine tantivy --clients 8 --duration 30 --json F

A copy of the cached benchmark space (see bench/search.py) is served by a real
`veille serve` process on 127.0.0.1. Client threads (bounded in count and duration) request
search pages of the fixed query mix, with filters and sorts as the page's URL carries them,
each client walking its own order and result pages. A third of the way in, 100 new documents
enter the catalog and `veille index` commits them in another process, as the scheduler does;
latencies during that commit are reported apart. The web process's peak memory (VmHWM) is
read from /proc at the end.
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
from bench.common import (CACHE_DIR, ROOT, fill_catalog, load_config, summary_ms,  # noqa: E402
                          write_json)
from bench.queries import QUERIES, BenchQuery  # noqa: E402
from bench.prepare import ensure_space  # noqa: E402


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


def client(port: int, seed: int, stop: float, out: list, errors: list, cpu: list) -> None:
    """Request search pages until `stop` over one keep-alive connection, as a browser does."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop:
        path = url_for(rng.choice(QUERIES), rng.randint(1, 5))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--engine", default="whoosh", choices=("whoosh", "tantivy"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1,
                        help="web processes (`veille serve --workers`; 1: waitress)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (max 300)")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    args = parser.parse_args(argv)
    clients = max(1, min(args.clients, 64))
    duration = max(2.0, min(args.duration, 300.0))

    source = ensure_space(args.docs, args.engine, args.seed, fresh=False).parent
    run_dir = CACHE_DIR / f"web-run-{args.engine}-{args.docs}"
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(source, run_dir)
    config_path = run_dir / "sources.yaml"
    port = free_port()
    server_log = (CACHE_DIR / f"web-{args.engine}-{args.docs}.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "veille", "--config", str(config_path), "serve",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)],
        cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_up(port, server)
        # one request opens the index, as the first visitor would
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        warm.request("GET", url_for(QUERIES[0], 1))
        if "Aucun document ne correspond" in warm.getresponse().read().decode("utf-8"):
            # an index of an older layout is replaced by an empty one: fast, and meaningless
            raise SystemExit(f"the served index finds nothing for {QUERIES[0].q!r}: rebuild the "
                             f"cached space (python bench/search.py --docs {args.docs} --engine "
                             f"{args.engine} --fresh)")

        samples: list[tuple[float, float]] = []
        errors: list[str] = []
        client_cpu: list[float] = []
        server_cpu_start = tree_cpu_seconds(server.pid)
        started = time.monotonic()
        stop = started + duration
        threads = [threading.Thread(target=client, args=(port, i, stop, samples, errors, client_cpu))
                   for i in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(duration / 3)
        new_docs = list(corpus.generate(100, args.seed, start=args.docs + 1000))
        fill_catalog(load_config(config_path).data_dir, new_docs)
        commit_start = time.perf_counter()
        indexer = subprocess.run([sys.executable, "-m", "veille", "--config", str(config_path), "index"],
                                 cwd=ROOT, capture_output=True, text=True)
        commit_end = time.perf_counter()
        if indexer.returncode != 0:
            errors.append("veille index failed: " + indexer.stderr.strip()[-300:])
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        server_cpu = tree_cpu_seconds(server.pid) - server_cpu_start
        load = load_average()
        # each process's own peak: a prefork server's workers are separate processes
        peaks = [peak_rss_of(pid) for pid in process_tree(server.pid)]
        web_rss = max(peaks)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()

    latencies = [end - begin for begin, end in samples]
    during = [end - begin for begin, end in samples if begin < commit_end and end > commit_start]
    result = {
        "docs": args.docs, "engine": args.engine, "clients": clients,
        "duration_s": round(wall, 1), "requests": len(samples),
        "requests_per_s": round(len(samples) / wall, 1), **summary_ms(latencies),
        "during_commit": {"requests": len(during), **summary_ms(during),
                          "commit_s": round(commit_end - commit_start, 2)},
        "errors": len(errors), "error_examples": errors[:3],
        "workers": args.workers,
        "web_peak_rss_mb": web_rss,          # the largest process's peak (VmHWM)
        "web_peak_rss_mb_all": round(sum(peaks), 1),   # every web process's peak, added
        # CPU of the web process during the load, per answered request; the clients' own
        # CPU (client threads, same machine) competes with it for the cores
        "web_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(samples)), 2),
        "client_cpu_ms_per_request": round(sum(client_cpu) * 1000 / max(1, len(samples)), 2),
        "load_average": load,
    }
    print(f"{args.engine} at {args.docs} docs, {clients} clients, {args.workers} web process(es): "
          f"{result['requests_per_s']} "
          f"searches/s, p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms; during the "
          f"commit ({result['during_commit']['commit_s']} s) p95 {result['during_commit']['p95_ms']} "
          f"ms; {len(errors)} errors; web peak RSS {web_rss} MB a process ({result['web_peak_rss_mb_all']} "
          f"MB in all); web CPU "
          f"{result['web_cpu_ms_per_request']} ms/request, clients {result['client_cpu_ms_per_request']} "
          f"ms/request; load average {load}", file=sys.stderr)
    if errors:
        print(f"server log: {server_log.name}", file=sys.stderr)
    write_json(args.json, result)
    shutil.rmtree(run_dir, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
