"""`veille check`, `veille backup`, `veille restore`: the configuration and the data directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from indexer.enrich.synonyms import SynonymsError, load_synonyms
from indexer.extract.ocr import unavailable
from indexer.search.indexes import check_index
from veille.cli.console import load, seconds, warn
from veille.ops.backup import backup, default_archive_name, restore


def run_check(args: argparse.Namespace) -> int:
    config = load(args)   # a configuration with problems raises ConfigError: main lists them
    try:
        load_synonyms()
    except SynonymsError as exc:   # the documentalists' table: listed like the configuration's
        for problem in exc.problems:
            warn(problem)
        return 1
    print(f"{config.path.name} : correct — {len(config.sources)} source(s), "
          f"{len(config.library)} dossier(s) de bibliothèque, {len(config.alerts)} alerte(s) ; "
          f"données dans {config.data_dir}")
    problem = check_index(config.layout, config.search.engine)
    if problem:
        warn(f"veille : {problem}")
    ocr_problem = unavailable(config.extraction.ocr_languages) if config.extraction.ocr else ""
    if ocr_problem:
        warn(f"veille : {ocr_problem}")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    report = backup(load(args), Path(args.file or default_archive_name()))
    size = f"{report.bytes / 1e6:.1f}".replace(".", ",")
    print(f"sauvegarde écrite dans {report.path} : {report.files} fichier(s), {size} Mo "
          f"({report.databases} base(s) de données) en {seconds(report.seconds)}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    report = restore(load(args), Path(args.file), force=args.force)
    print(f"{report.files} fichier(s) restauré(s) dans {report.data_dir}")
    if report.set_aside:
        print(f"l'ancien dossier de données est gardé dans {report.set_aside} "
              "(supprimez-le quand tout vous convient)")
    if not report.authenticated:
        warn("veille : sauvegarde non authentifiée par la clé secrète de cette instance : ni son index "
             "ni son planificateur n'ont été ouverts ; l'index a été reconstruit depuis le catalogue "
             "(sur une nouvelle machine, donnez l'ancienne clé dans $VEILLE_SECRET_KEY)")
    elif report.rebuilt:
        warn("l'index restauré était inutilisable : il a été reconstruit depuis le catalogue")
    print(f"{report.documents} document(s) dans le catalogue ; {report.brought_up_to_date} "
          "mis à jour dans l'index")
    return 0
