"""`veille check`, `veille backup`, `veille restore`: the configuration and the data directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from indexer.enrich.synonyms import SynonymsError, load_synonyms
from indexer.extract.ocr import unavailable
from indexer.search.indexes import check_index
from veille.cli.console import load, warn
from veille.ops.backup import backup, default_archive_name, restore


def run_check(args: argparse.Namespace) -> int:
    config = load(args)   # a configuration with problems raises ConfigError: main lists them
    try:
        load_synonyms()
    except SynonymsError as exc:   # the documentalists' table: listed like the configuration's
        for problem in exc.problems:
            warn(problem)
        return 1
    print(f"{config.path.name}: OK — {len(config.sources)} sources, "
          f"{len(config.library)} library folders, {len(config.alerts)} alerts; "
          f"data in {config.data_dir}")
    problem = check_index(config.layout, config.search.engine)
    if problem:
        warn(f"veille: {problem}")
    ocr_problem = unavailable(config.extraction.ocr_languages) if config.extraction.ocr else ""
    if ocr_problem:
        warn(f"veille: {ocr_problem}")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    report = backup(load(args), Path(args.file or default_archive_name()))
    print(f"backup written to {report.path}: {report.files} files, {report.bytes / 1e6:.1f} MB "
          f"({report.databases} databases) in {report.seconds:.1f} s")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    report = restore(load(args), Path(args.file), force=args.force)
    print(f"restored {report.files} files into {report.data_dir}")
    if report.set_aside:
        print(f"the previous data directory is kept in {report.set_aside} (delete it when satisfied)")
    if not report.authenticated:
        warn("veille: sauvegarde non authentifiée par la clé secrète de cette instance : ni son index "
             "ni son planificateur n'ont été ouverts ; l'index a été reconstruit depuis le catalogue "
             "(sur une nouvelle machine, donnez l'ancienne clé dans $VEILLE_SECRET_KEY)")
    elif report.rebuilt:
        warn("the restored index could not be used: it was rebuilt from the catalog")
    print(f"{report.documents} documents in the catalog; {report.brought_up_to_date} brought up to date in the index")
    return 0
