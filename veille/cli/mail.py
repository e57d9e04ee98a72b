"""`veille digest --preview|--send`: the alert digests, shown or sent."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timezone
from pathlib import Path

from veille.cli.console import load, warn
from veille.core.config import Config
from veille.digest.run import Composed, compose_digests, open_space, send_digests, space_matcher
from veille.storage.catalog import Catalog


def run_digest(args: argparse.Namespace) -> int:
    config = load(args)
    now = datetime.now(timezone.utc)
    if args.send:
        report = send_digests(config, now=now)
        for outcome in report.outcomes:
            if outcome.status == "failed":
                warn(f"veille : courriel d'alertes à {outcome.recipient} non envoyé : {outcome.error}")
        print(report.summary())
        return 0 if report.ok else 1
    return preview(config, args, now)


def preview(config: Config, args: argparse.Namespace, now: datetime) -> int:
    """Each recipient's digest, printed or written to files; nothing is sent or recorded."""
    catalog = Catalog.open(config.layout)
    space = open_space(config)
    try:
        composed, failed = compose_digests(config, catalog, space_matcher(space, catalog),
                                           now=now, recipient=args.recipient)
    finally:
        space.close()
    for outcome in failed:
        warn(f"veille : pas de courriel d'alertes pour {outcome.recipient} : {outcome.error}")
    if not composed:
        warn("aucun destinataire ne suit d'alerte" if not failed else "aucun courriel d'alertes n'a pu être composé")
        return 1 if failed else 0
    for item in composed:
        show(item, args, several=len(composed) > 1)
    return 1 if failed else 0


def show(item: Composed, args: argparse.Namespace, several: bool) -> None:
    body = item.text if args.text else item.html
    if not args.out:
        print(body)
        return
    out = Path(args.out)
    if several:  # one file per recipient beside the one asked for
        # an address may hold `/` or `..`: never a path of its own
        safe = re.sub(r"[^\w@.+-]", "_", item.digest.recipient).strip(".") or "destinataire"
        out = out.with_name(f"{out.stem}-{safe}{out.suffix}")
    out.write_text(body, encoding="utf-8")
    print(f"{item.digest.recipient} : {item.digest.total} document(s) -> {out}")
