"""What every command reads and prints with: its configuration, JSON, dates in tables."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, tzinfo

from veille.core.config import Config, load_config
from veille.core.dates import french_short_datetime


def load(args: argparse.Namespace) -> Config:
    """The configuration named by --config (default: $VEILLE_CONFIG or ./sources.yaml)."""
    return load_config(args.config)


def print_json(value) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def warn(message: str) -> None:
    """A line for the person at the console, on stderr, beside the command's own output."""
    print(message, file=sys.stderr, flush=True)


def seconds(value: float) -> str:
    """`1,5 s`: a duration with the French decimal comma."""
    return f"{value:.1f} s".replace(".", ",")


def table_time(value: datetime | None, tz: tzinfo) -> str:
    return french_short_datetime(value, tz) if value else "-"
