"""The README documents every configuration key, as the schema declares it, and every CLI command."""

from __future__ import annotations

import re
from pathlib import Path

from veille.cli import build_parser
from veille.core.config_schema import documented_settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def readme_config_table() -> dict[str, tuple[str, str]]:
    """The README's configuration table: key cell -> (meaning, default)."""
    section = README.split("## Configuration: `sources.yaml`", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == 3 and cells[0].startswith("`"):
            assert cells[0] not in rows, f"{cells[0]} is listed twice in README.md"
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def schema_rows() -> dict[str, tuple[str, str]]:
    """The table as the schema declares it: `sources[].next` (page) -> (help, default)."""
    return {f"`{path}`" + (f" ({kind})" if kind else ""): (setting.help, setting.documented_default)
            for path, kind, setting in documented_settings()}


def row(key: str, meaning: str, default: str) -> str:
    return f"| {key} | {meaning} | {default} |"


def test_readme_config_table_lists_exactly_the_declared_keys():
    table, declared = readme_config_table(), schema_rows()
    missing = [row(key, *declared[key]) for key in declared if key not in table]
    assert not missing, "keys missing from README.md's table:\n" + "\n".join(missing)
    unknown = sorted(table.keys() - declared.keys())
    assert not unknown, f"README.md documents keys the schema does not have: {unknown}"


def test_readme_config_table_gives_each_declared_default_and_help():
    table, declared = readme_config_table(), schema_rows()
    wrong = [f"{row(key, *table[key])}\nshould be\n{row(key, *declared[key])}"
             for key in declared if key in table and table[key] != declared[key]]
    assert not wrong, "README.md's table differs from veille/core/config_schema.py:\n" + "\n".join(wrong)


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
