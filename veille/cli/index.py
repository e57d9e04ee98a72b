"""`veille index`, `veille search`, `veille stats`: the documentation space from the terminal."""

from __future__ import annotations

import argparse
import html
import re
import time

from indexer.library.sync import sync_library
from indexer.search.request import SearchRequest
from indexer.search.space import DocumentSpace
from veille.cli.console import load, print_json, seconds, warn
from veille.core.progress import ProgressBar

MARK_RE = re.compile(r"</?mark>")


def run_index(args: argparse.Namespace) -> int:
    config = load(args)
    space = DocumentSpace(config)
    try:
        if config.library:
            # new, changed and removed files into the catalog; each problem is logged
            report = sync_library(config, space.catalog, ProgressBar("Bibliothèque"))
            warn(f"bibliothèque : {report.summary()}")
        if args.rebuild:
            report = space.rebuild(ProgressBar("Reconstruction"))
        else:
            space.check_files()   # a deleted segment: say what to run, index nothing more
            report = space.index_pending(ProgressBar("Indexation"))
        if args.optimize:
            started = time.monotonic()
            space.optimize()
            print(f"index {report.engine} optimisé en {seconds(time.monotonic() - started)}")
    finally:
        space.close()
    action = "reconstruit" if report.rebuilt else "à jour"
    print(f"index {report.engine} {action} : {report.indexed} document(s) indexé(s), "
          f"{report.deleted} retiré(s), en {seconds(report.seconds)}")
    return 0


def snippet_text(snippet: str) -> str:
    """A snippet's HTML as console text, the matches between asterisks."""
    return html.unescape(MARK_RE.sub("*", snippet))


def run_search(args: argparse.Namespace) -> int:
    space = DocumentSpace(load(args))
    try:
        space.check_files()
        # the command line is the team's: internal documents are found too, and marked
        found = space.search(SearchRequest(q=args.query, per_page=max(1, args.limit), facets=False,
                                           include_internal=True))
    finally:
        space.close()
    if args.json:
        print_json({"total": found.total, "results": [
            {"id": h.id, "title": h.title, "url": h.url, "source": h.source, "kind": h.kind,
             "published": h.published, "score": h.score, "snippet": h.snippet} for h in found.hits]})
        return 0
    if found.notice:
        print(found.notice)
    print(f"{found.total} document(s)")
    if found.suggestion:
        print(f"Vouliez-vous dire : {found.suggestion}")
    for rank, hit in enumerate(found.hits, 1):
        meta = " · ".join(x for x in (hit.published, hit.source, hit.kind) if x)
        mark = " [interne]" if hit.visibility != "public" else ""
        print(f"\n{rank}. {hit.title}{mark}\n   {meta}")
        if hit.url:
            print(f"   {hit.url}")
        if hit.snippet:
            page = f"(p. {hit.page}) " if hit.page else ""
            print(f"   {page}{snippet_text(hit.snippet)}")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    space = DocumentSpace(load(args))
    try:
        stats = space.stats()
    finally:
        space.close()
    if args.json:
        print_json(stats)
        return 0
    print(f"{stats['documents']} document(s) ({stats['pending']} en attente d'indexation)")
    for title, key in (("Par source", "by_source"), ("Par nature", "by_kind")):
        print(f"{title} :")
        for name, count in stats[key].items():
            print(f"  {name} : {count}")
    return 0
