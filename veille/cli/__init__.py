"""The `veille` command line: one console script, one subcommand per task.

`parser.py` declares the commands; each runs a function of the module of its subject
(`index`, `watch`, `accounts`, `mail`, `service`, `ops`), which returns the exit code. Whatever goes
wrong reaches the person at the console here, once, as one line (a configuration's
problems one per line, with file and line), never a traceback unless `--verbose` is given.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Callable

from veille.cli.console import load, warn
from veille.cli.parser import build_parser
from veille.core.config import ConfigError
from veille.core.errors import VeilleError, os_error_text, storage_error_message
from veille.core.logs import configure_operator_logging

__all__ = ["build_parser", "main"]

log = logging.getLogger("veille")

EXIT_FAILED = 1          # the command could not do its work; the message says why
EXIT_UNEXPECTED = 2      # a defect: the traceback (with --verbose) belongs in a bug report
EXIT_INTERRUPTED = 130   # Ctrl-C, as shells report SIGINT


def configure_logging(verbose: bool) -> None:
    configure_operator_logging(verbose, sys.stderr)


def command_function(args: argparse.Namespace) -> Callable[[argparse.Namespace], int]:
    """The function running the chosen command (its subject's module imported now)."""
    module, name = args.handler.split(":")
    return getattr(importlib.import_module(f"veille.cli.{module}"), name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    if args.command != "run" and not args.verbose:
        # one line per stored document belongs in the service's journal, not on a console
        # where `crawl` and `demo` print their own summary per source
        logging.getLogger("watch.crawler").setLevel(logging.WARNING)
    try:
        return int(command_function(args)(args) or 0)
    except ConfigError as exc:
        for problem in exc.problems:
            warn(problem)
        return EXIT_FAILED
    except VeilleError as exc:
        if args.verbose:
            log.exception("échec")
        warn(f"veille : {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        warn("veille : interrompu")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last resort: one line, the traceback only on request
        if args.verbose:
            log.exception("erreur inattendue")
        storage = storage_error_message(exc, data_dir_or_none(args))
        if storage:  # read-only or full data directory: say so plainly; nothing was half-written
            warn(f"veille : {storage}")
            return EXIT_FAILED
        more = "" if args.verbose else " (relancez avec --verbose pour le détail)"
        what = os_error_text(exc) if isinstance(exc, OSError) else f"{type(exc).__name__} : {exc}"
        warn(f"veille : erreur inattendue : {what}{more}")
        return EXIT_UNEXPECTED


def data_dir_or_none(args: argparse.Namespace):
    try:
        return load(args).data_dir
    except Exception:  # the configuration itself may be what failed
        return None
