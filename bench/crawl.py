"""Crawl benchmark: 200 RSS feeds on loopback, one full cycle, then one of conditional GETs.

    python bench/crawl.py --sources 200 --hosts 20 --items 20 --delay 1.0 --json F

A feed server runs in a child process on 127.0.0.1 ... 127.0.0.H (all loopback on Linux, so
per-host politeness applies as it would to H real sites). Each feed answers with an ETag and
a Last-Modified, and 304 to a matching conditional request. The crawl runs in this process
through `watch.crawler.crawl_sources` with politeness on (`http.delay_per_host`), exactly as
`veille crawl` does: first a full cycle into an empty catalog, then a second cycle where
every feed answers 304. CPU seconds are this process's (the server's are not counted).
Bounded: at most 2,000 sources, 50 items each, a 10-minute cap per cycle.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import shutil
import subprocess
import sys
import time
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus  # noqa: E402
from bench.common import CACHE_DIR, peak_rss_mb, write_json  # noqa: E402

CYCLE_CAP_S = 600


def feed_xml(feed: int, items: int, seed: int) -> bytes:
    entries = []
    for n in range(items):
        doc = corpus.make_document(feed * 1000 + n, seed)
        entries.append(
            f"<item><title>{html.escape(doc.title)}</title>"
            f"<link>https://example.org/feed{feed}/{n}</link>"
            f"<guid>https://example.org/feed{feed}/{n}</guid>"
            f"<pubDate>{format_datetime(doc.published)}</pubDate>"
            f"<description>{html.escape(doc.content[:1500])}</description></item>")
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Flux {feed}</title><link>https://example.org/feed{feed}</link>"
            f"<description>Flux de test {feed}</description>{''.join(entries)}"
            "</channel></rss>").encode("utf-8")


def serve(port: int, hosts: int, sources: int, items: int, seed: int) -> None:
    """The feed server (child process): every feed built once, then served from memory."""
    import threading

    bodies = {f"/feed/{i}.xml": feed_xml(i, items, seed) for i in range(sources)}
    etags = {path: '"' + hashlib.sha1(body).hexdigest()[:16] + '"' for path, body in bodies.items()}
    modified = "Wed, 25 Nov 2026 12:00:00 GMT"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = bodies.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == etags[self.path]:
                self.send_response(304)
                self.send_header("ETag", etags[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etags[self.path])
            self.send_header("Last-Modified", modified)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    servers = [ThreadingHTTPServer((f"127.0.0.{h + 1}", port), Handler) for h in range(hosts)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()   # until the parent closes our stdin


def write_config(data_dir: Path, port: int, hosts: int, sources: int, delay: float,
                 concurrency: int, engine: str | None = None) -> Path:
    lines = ["data_dir: .",
             f"http: {{delay_per_host: {delay}, allow_private_networks: true, timeout: 10,"
             f" retries: 0, concurrency: {concurrency}}}",
             *([f"search: {{engine: {engine}}}"] if engine else []),
             "sources:"]
    for i in range(sources):
        host = f"127.0.0.{i % hosts + 1}"   # round-robin: neighbours in the list differ in host
        lines += [f"  - name: flux-{i:03d}", f"    title: Flux {i}", "    kind: feed",
                  f"    url: http://{host}:{port}/feed/{i}.xml", "    schedule: 1d"]
    path = data_dir / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_feed_server(sources: int, hosts: int, items: int, seed: int) -> tuple[subprocess.Popen, int]:
    """The feed server in a child process, once it answers; stop it with `stop_feed_server`."""
    from bench.web import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--sources", str(sources),
         "--hosts", str(hosts), "--items", str(items), "--seed", str(seed)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if server.stdout.readline().strip() != "ready":
        stop_feed_server(server)
        raise SystemExit("the feed server did not start")
    return server, port


def stop_feed_server(server: subprocess.Popen) -> None:
    server.stdin.close()
    server.terminate()
    server.wait(timeout=20)


def cycle(config, catalog) -> dict:
    from watch.crawler import crawl_sources
    from watch.fetcher import Fetcher

    wall, cpu = time.perf_counter(), time.process_time()
    with Fetcher(config.http, catalog.validators) as fetcher:
        reports = crawl_sources(config, catalog, fetcher)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if wall > CYCLE_CAP_S:
        print(f"warning: a cycle took {wall:.0f} s, over the {CYCLE_CAP_S} s cap", file=sys.stderr)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "cpu_ms_per_source": round(cpu / max(1, len(reports)) * 1000, 1),
            "new": sum(r.new for r in reports), "unchanged": sum(r.unchanged for r in reports),
            "not_modified": sum(bool(r.not_modified) for r in reports),
            "failed": sum(not r.ok for r in reports),
            "errors": sorted({r.error for r in reports if r.error})[:3]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--delay", type=float, default=1.0, help="http.delay_per_host (politeness)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sources = max(1, min(args.sources, 2000))
    hosts = max(1, min(args.hosts, 200))
    items = max(1, min(args.items, 50))
    if args.serve:
        serve(args.serve, hosts, sources, items, args.seed)
        return 0

    from veille.storage.catalog import Catalog
    from veille.core.config import load_config

    server, port = start_feed_server(sources, hosts, items, args.seed)
    try:
        data_dir = CACHE_DIR / "crawl-run"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        config = load_config(write_config(data_dir, port, hosts, sources, args.delay, args.concurrency))
        catalog = Catalog.open(config.layout)
        full = cycle(config, catalog)
        conditional = cycle(config, catalog)
    finally:
        stop_feed_server(server)
    result = {"sources": sources, "hosts": hosts, "items_per_feed": items,
              "delay_per_host_s": args.delay, "concurrency": args.concurrency,
              "full_cycle": full, "conditional_cycle": conditional, "peak_rss_mb": peak_rss_mb()}
    print(f"{sources} feeds on {hosts} hosts, politeness {args.delay} s: full cycle "
          f"{full['wall_s']} s ({full['cpu_ms_per_source']} ms CPU/source, {full['new']} new, "
          f"{full['failed']} failed); conditional cycle {conditional['wall_s']} s "
          f"({conditional['cpu_ms_per_source']} ms CPU/source, {conditional['not_modified']} "
          f"not modified)", file=sys.stderr)
    write_json(args.json, result)
    shutil.rmtree(CACHE_DIR / "crawl-run", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
