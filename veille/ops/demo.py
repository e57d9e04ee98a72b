"""`veille demo`: the whole pipeline on bundled data, offline, then the search page.

The demo feeds (and a JORF open-data delivery of the DILA) are real files served by a throw-away HTTP server on loopback, so the demo
crawls through exactly the code production uses; only the port in the demo configuration's
URLs is replaced by the one the server got.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from veille.core.config import Config, load_config
from veille.core.errors import VeilleError

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
PLACEHOLDER_HOST = "127.0.0.1:8399"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the demo prints its own progress
        return None


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 (a free port) for the duration; yields `host:port`."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="demo-feeds", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def demo_config(feeds_host: str, demo_dir: Path = DEMO_DIR, data_dir: Path | None = None) -> Config:
    """The demo configuration, its feed URLs pointing at `feeds_host`."""
    if not (demo_dir / "sources.yaml").is_file():
        raise VeilleError(f"demo data not found in {demo_dir}",
                          hint="run from a checkout installed with 'pip install -e .'")
    config = load_config(demo_dir / "sources.yaml")
    sources = tuple(replace(s, url=s.url.replace(PLACEHOLDER_HOST, feeds_host)) for s in config.sources)
    config = replace(config, sources=sources)
    if data_dir is not None:
        config = replace(config, data_dir=Path(data_dir).resolve())
    return config


def run_demo(data_dir: Path | None = None, out=print) -> Config:
    """Crawl the demo feeds and index them with the demo library; returns the configuration.

    The demo's data directory is emptied first: each demo starts from the same state, and the
    feed server's port (part of the documents' URLs) may differ from one run to the next.
    """
    import shutil

    from veille.storage.catalog import Catalog
    from indexer.search.space import DocumentSpace
    from veille.core.progress import ProgressBar
    from watch.crawler import crawl_sources
    from watch.fetcher import Fetcher

    with serve_directory(DEMO_DIR / "feeds") as feeds_host:
        config = demo_config(feeds_host, data_dir=data_dir)
        if config.data_dir.exists():
            shutil.rmtree(config.data_dir)
        catalog = Catalog.open(config.layout)
        out(f"Veille demo: crawling {len(config.sources)} bundled sources served on {feeds_host}")
        with Fetcher(config.http, catalog.validators) as fetcher:
            reports = crawl_sources(config, catalog, fetcher, config.sources,
                                    on_report=lambda report: out(f"  {report.line()}"))
        catalog.close()
    failed = [r for r in reports if not r.ok]
    if failed:
        raise VeilleError(f"demo crawl failed for {', '.join(r.source for r in failed)}")
    space = DocumentSpace(config)
    try:
        from indexer.library.sync import sync_library

        sync_library(config, space.catalog, ProgressBar("Library"))
        report = space.index_pending(ProgressBar("Indexing"))
        stats = space.stats()
    finally:
        space.close()
    out(f"Indexed {report.indexed} documents; the documentation space holds {stats['documents']}: "
        + ", ".join(f"{n} {kind}" for kind, n in sorted(stats["by_kind"].items())))
    return config
