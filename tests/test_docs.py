"""Every configuration key and every CLI command is documented in the README."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from veille.core import config as cfg
from veille.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def documented_names() -> set[str]:
    """Every name written in backticks in the README, split on dots and commas."""
    names = set()
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    for code in re.findall(r"`([^`]+)`", prose):
        for part in re.split(r"[\s.,\[\]]+", code):
            if part:
                names.add(part)
    return names


def config_keys() -> set[str]:
    keys = set(cfg.TOP_KEYS)
    keys |= {f.name for f in fields(cfg.HttpConfig)}
    keys |= {f.name for f in fields(cfg.Source) if f.name != "options"}
    keys |= {opt for options in cfg.SOURCE_KIND_OPTIONS.values() for opt in options}
    keys |= {f.name for f in fields(cfg.Alert)}
    keys |= {("from" if f.name == "sender" else f.name) for f in fields(cfg.DigestConfig)}
    keys |= {f.name for f in fields(cfg.SmtpConfig)}
    keys |= {f.name for f in fields(cfg.WebConfig)} | {f.name for f in fields(cfg.SearchConfig)}
    keys |= {f.name for f in fields(cfg.LibraryFolder)}
    keys |= {f.name for f in fields(cfg.ExtractionConfig)}
    return keys


def test_every_config_key_is_documented():
    missing = sorted(config_keys() - documented_names())
    assert not missing, f"keys missing from README.md: {missing}"


def test_every_cli_command_is_documented():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    missing = [name for name in commands if f"`veille {name}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_readme_starts_with_the_two_setup_commands():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert blocks[0] == "pip install -e . && veille demo"
    assert blocks[1].endswith("pip install -e '.[test]' && python -m pytest")
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "pip install -q -e '.[test]'" in ci and ci.rstrip().endswith("python -m pytest")
