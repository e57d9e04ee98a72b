"""deploy/veille.service: a valid systemd unit running `veille run` as a hardened service."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "deploy" / "veille.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_unit_runs_veille_run_restarting_on_failure_as_a_dedicated_user():
    service = unit()["Service"]
    command = service["ExecStart"].split()
    assert command[0].endswith("/veille") and "run" in command
    assert service["Restart"] == "on-failure"
    assert service["User"] == "veille" and service["StateDirectory"] == "veille"
    assert service["WorkingDirectory"] == "/var/lib/veille"
    for option, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                          "PrivateTmp": "yes", "PrivateDevices": "yes", "UMask": "0077",
                          "CapabilityBoundingSet": ""}.items():
        assert service[option] == value, option
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_unit_command_line_is_accepted_by_the_cli():
    """The options the unit passes exist (argparse exits 2 on an unknown one)."""
    from veille.cli import build_parser

    args = unit()["Service"]["ExecStart"].split()[1:]
    if "run" not in build_parser()._subparsers._group_actions[0].choices:
        pytest.skip("`veille run` has not landed yet")
    parsed = build_parser().parse_args(args)
    assert parsed.command == "run"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_unit(tmp_path):
    # point ExecStart at an executable that exists here; everything else as shipped
    text = UNIT.read_text(encoding="utf-8").replace("/opt/veille/bin/veille", sys.executable)
    copy = tmp_path / "veille.service"
    copy.write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    problems = [line for line in result.stderr.splitlines()
                if "veille.service" in line and "Documentation" not in line]
    assert not problems, result.stderr
