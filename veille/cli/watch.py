"""`veille crawl` and `veille sources`: the watched sources, crawled now or listed with their
state; OPML import and export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from veille.cli.console import load, print_json, table_time, warn
from veille.core.config import Config, Source
from veille.core.errors import VeilleError, os_error_reason
from veille.core.labels import source_kind_label
from veille.core.schedules import describe_schedule
from veille.jobs.scheduler import next_run_times
from veille.storage.catalog import Catalog
from watch.crawler import CrawlReport, crawl_sources
from watch.fetcher import Fetcher
from watch.opml import add_feeds_to_config, read_opml, write_opml
from watch.status import source_statuses


def chosen_sources(config: Config, name: str | None) -> list[Source]:
    if name is None:
        return [s for s in config.sources if s.enabled]
    try:
        return [config.source(name)]
    except KeyError:
        known = ", ".join(s.name for s in config.sources) or "aucune"
        raise VeilleError(f"aucune source ne s'appelle « {name} »", hint=f"sources : {known}") from None


def run_crawl(args: argparse.Namespace) -> int:
    config = load(args)
    sources = chosen_sources(config, args.source)
    if not sources:
        warn("aucune source active à relever")
        return 0
    catalog = Catalog.open(config.layout)
    done = 0

    def show(report: CrawlReport) -> None:
        nonlocal done
        done += 1
        print(f"[{done}/{len(sources)}] {report.line(config.tz)}", flush=True)

    with Fetcher(config.http, catalog.validators) as fetcher:
        reports = crawl_sources(config, catalog, fetcher, sources, on_report=show)
    failed = [r for r in reports if not r.ok]
    print(f"{len(reports)} source(s) : {sum(r.new for r in reports)} nouveau(x), "
          f"{sum(r.updated for r in reports)} mis à jour, {sum(r.unchanged for r in reports)} inchangé(s), "
          f"{len(failed)} en échec")
    return 1 if failed else 0   # a script or timer must notice a failing source


def run_sources(args: argparse.Namespace) -> int:
    config = load(args)
    action = getattr(args, "sources_command", None) or "list"
    if action == "import":
        return import_opml(config, args)
    if action == "export":
        return export_opml(config, args)
    catalog = Catalog.open(config.layout)
    statuses = source_statuses(config, catalog, next_run_times(config, catalog))
    if args.json:
        print_json({"sources": [s.as_json() for s in statuses]})
        return 0
    tz = config.tz
    rows = [("SOURCE", "TYPE", "RYTHME", "ÉTAT", "DOCS", "DERNIER SUCCÈS", "PROCHAIN RELEVÉ", "ÉCHECS",
             "DERNIÈRE ERREUR")]
    for s in statuses:
        error = f"[{s.last_error_code}] {s.last_error}" if s.last_error and s.consecutive_failures else ""
        rows.append((s.name, source_kind_label(s.kind), describe_schedule(s.schedule), s.state_label,
                     str(s.documents),
                     table_time(s.last_success, tz), table_time(s.next_run, tz),
                     str(s.consecutive_failures), error[:100]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def import_opml(config: Config, args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise VeilleError(f"impossible de lire {args.file} : {os_error_reason(exc)}") from None
    report = add_feeds_to_config(config, read_opml(data), schedule=args.schedule)
    for name in report.added:
        print(f"ajoutée : {name}")
    for url in report.skipped:
        print(f"déjà suivie : {url}")
    print(f"{len(report.added)} source(s) ajoutée(s) à {config.path.name}, "
          f"{len(report.skipped)} déjà présente(s)")
    return 0


def export_opml(config: Config, args: argparse.Namespace) -> int:
    text = write_opml(config.sources)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{sum(s.kind == 'feed' for s in config.sources)} flux écrit(s) dans {args.out}")
    else:
        sys.stdout.write(text)
    return 0
