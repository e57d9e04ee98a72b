"""`veille demo`: the whole pipeline on bundled data, offline, kept from one run to the next.

The demo feeds (and a JORF open-data delivery of the DILA) are real files served by a small
HTTP server on loopback, so the demo crawls through exactly the code production uses.

The demo has its own configuration file in its data directory, made from `demo/sources.yaml`
on the first run: the data directory is its own folder, the library is `demo/library`, the
feeds' URLs point at the feed server, and `web.base_url` at the port the demo serves on. It
is kept with the data: staff accounts made with `veille --config <it> user add`, alerts and
sources added in the browser, the digest history survive a restart; `--reset` starts over.
The feed server takes the port of the previous run again when it can (documents are known by
their URLs); only sources never crawled are crawled before serving, the rest is the
scheduler's business as in `veille run`.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import threading
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

from veille.core.config import Config, load_config
from veille.core.config_write import edit_config, update_source, write_atomically
from veille.core.errors import VeilleError

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEFAULT_DATA_DIR = DEMO_DIR.parent / "index" / "demo"
PLACEHOLDER_HOST = "127.0.0.1:8399"
CONFIG_NAME = "sources.yaml"
HEADER = ("# Made by `veille demo` from demo/sources.yaml and kept with the demo's data: sources and\n"
          "# alerts added from the web land here. The feeds' port and web.base_url follow the demo's\n"
          "# ports at each start; `veille demo --reset` starts over from demo/sources.yaml.\n")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the demo prints its own progress
        return None


@contextlib.contextmanager
def serve_directory(root: Path, port: int = 0) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 (`port`, else a free one) for the duration; yields `host:port`."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError:
        if not port:
            raise
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)   # taken since: another port
    thread = threading.Thread(target=server.serve_forever, name="demo-feeds", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class DemoPlan:
    config_path: Path
    feeds_host: str          # where the feeds were served last time (the placeholder at first)
    fresh: bool              # made now, from demo/sources.yaml


def prepare_config(data_dir: Path, reset: bool, out: Callable[[str], None]) -> DemoPlan:
    """The demo's configuration file in `data_dir`, made from demo/sources.yaml if missing."""
    if not (DEMO_DIR / CONFIG_NAME).is_file():
        raise VeilleError(f"données de démonstration introuvables dans {DEMO_DIR}",
                          hint="lancez depuis une copie installée avec « pip install -e . »")
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
        out(f"Données de la démonstration effacées ({data_dir}).")
    path = data_dir / CONFIG_NAME
    if path.is_file():
        return DemoPlan(path, feeds_host_of(load_config(path)), fresh=False)
    if data_dir.is_dir() and any(data_dir.iterdir()):
        # not a demo's folder, or one from a release that rebuilt it at every run: nothing
        # in it is removed unless asked
        raise VeilleError(f"{data_dir} n'est pas vide et n'a pas de configuration de démonstration",
                          hint="choisissez un autre --data-dir, ou ajoutez --reset pour l'effacer")
    data_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(path, HEADER + (DEMO_DIR / CONFIG_NAME).read_text(encoding="utf-8"))

    def localise(document) -> None:
        document["data_dir"] = "."
        for folder in document.get("library") or ():
            folder["path"] = str((DEMO_DIR / folder["path"]).resolve())

    edit_config(path, localise)
    return DemoPlan(path, PLACEHOLDER_HOST, fresh=True)


def demo_source_names() -> list[str]:
    return [source.name for source in load_config(DEMO_DIR / CONFIG_NAME).sources]


def feeds_host_of(config: Config) -> str:
    """Where the demo's own sources were last served from (`127.0.0.1:<port>`)."""
    names = set(demo_source_names())
    for source in config.sources:
        if source.name in names:
            return urlsplit(source.url).netloc
    return PLACEHOLDER_HOST


def point_at(path: Path, old_host: str, new_host: str, base_url: str) -> Config:
    """The demo's sources served from `new_host` (instead of `old_host`), links on `base_url`."""
    names = set(demo_source_names())

    def change(document) -> None:
        document.setdefault("web", {})["base_url"] = base_url
        if old_host == new_host:
            return
        for entry in document.get("sources") or ():
            url = str(entry.get("url", ""))
            if entry.get("name") in names and urlsplit(url).netloc == old_host:
                update_source(document, entry["name"], {"url": url.replace(old_host, new_host, 1)})

    return edit_config(path, change)[1]


@contextlib.contextmanager
def demo_session(data_dir: Path | None = None, *, reset: bool = False, base_url: str = "http://127.0.0.1:5000",
                 out: Callable[[str], None] = print) -> Iterator[Config]:
    """Ready the demo (configuration, first crawls, library, index) and keep its feeds served
    while the block runs; yields its configuration."""
    from indexer.library.sync import sync_library
    from indexer.search.space import DocumentSpace
    from veille.core.progress import ProgressBar
    from veille.storage.catalog import Catalog
    from watch.crawler import crawl_sources
    from watch.fetcher import Fetcher

    data_dir = Path(data_dir or DEFAULT_DATA_DIR).resolve()
    plan = prepare_config(data_dir, reset, out)
    previous_port = int(plan.feeds_host.rsplit(":", 1)[1]) if not plan.fresh else 0
    with serve_directory(DEMO_DIR / "feeds", previous_port) as feeds_host:
        if not plan.fresh and feeds_host != plan.feeds_host:
            out(f"Le port {previous_port} des flux de démonstration est pris : ils sont servis sur "
                f"{feeds_host} (leurs documents seront relevés de nouveau).")
        config = point_at(plan.config_path, plan.feeds_host, feeds_host, base_url)
        catalog = Catalog.open(config.layout)
        crawled = catalog.runs.last_per_source()
        first = [s for s in config.sources if s.enabled and s.name not in crawled]
        if first:
            out(f"Démonstration : relevé de {len(first)} source(s) fournie(s), servie(s) sur {feeds_host}")
            with Fetcher(config.http, catalog.validators) as fetcher:
                reports = crawl_sources(config, catalog, fetcher, first,
                                        on_report=lambda report: out(f"  {report.line(config.tz)}"))
            failed = [r.source for r in reports if not r.ok]
            if failed:
                raise VeilleError(f"le relevé de démonstration a échoué pour {', '.join(failed)}")
        else:
            out(f"Démonstration : données gardées du lancement précédent ({catalog.documents.count()} "
                "documents) ; « veille demo --reset » repart de zéro.")
        catalog.close()
        space = DocumentSpace(config)
        try:
            sync_library(config, space.catalog, ProgressBar("Bibliothèque"))
            report = space.index_pending(ProgressBar("Indexation"))
            stats = space.stats()
        finally:
            space.close()
        out(f"{report.indexed} document(s) indexé(s) ; l'espace documentaire en compte {stats['documents']} : "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(stats["by_kind"].items())))
        out(f"\nConfiguration de la démonstration : {config.path}\n"
            "Pour créer un compte de l'équipe (pages Lettre, Alertes et Sources) :\n"
            f"  veille --config {config.path} user add vous@example.org\n"
            "Les données sont gardées d'un lancement à l'autre ; « veille demo --reset » repart de zéro.")
        yield config
