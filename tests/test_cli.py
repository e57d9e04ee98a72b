"""The `veille` command line as a whole: every command reaches its function, and whatever goes
wrong reaches the console once, as one line with an exit code (tracebacks with --verbose)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from veille.cli import build_parser, command_function


def commands(parser):
    """(command line, namespace) for every command and action of the parser."""
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        nested = [a for a in command._actions if a.dest.endswith("_command")]
        actions = list(nested[0].choices) if nested else [None]
        for action in actions:
            yield name, action


def test_every_command_reaches_a_function_of_its_subject_module():
    parser = build_parser()
    required = {"user": ["a@b.fr"], "search": ["x"], "restore": ["f"], "digest": ["--send"]}
    nested_required = {("user", "remove"): ["a@b.fr"], ("user", "add"): ["a@b.fr"],
                       ("sources", "import"): ["f.opml"]}
    seen = set()
    for name, action in commands(parser):
        argv = [name] + ([action] if action else [])
        argv += nested_required.get((name, action), [] if action else required.get(name, []))
        args = parser.parse_args(argv)
        function = command_function(args)
        assert callable(function) and function.__module__.startswith("veille.cli."), argv
        seen.add(function.__module__)
    assert seen == {"veille.cli.index", "veille.cli.watch", "veille.cli.accounts", "veille.cli.mail",
                    "veille.cli.service", "veille.cli.ops"}


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "veille", *args], env=env, capture_output=True,
                          text=True, timeout=60, **kwargs)


def test_the_parser_loads_no_subject(tmp_path):
    # `veille --help` and a command of one subject do not wait for the others' libraries
    probe = ("import sys, veille.cli; print(sorted(m for m in ('flask', 'tantivy', 'whoosh', "
             "'feedparser', 'veille.cli.index', 'veille.cli.service') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_an_unexpected_error_is_one_french_line_and_exit_2(write_config, tmp_path):
    path = write_config("data_dir: data\nsources: []\n")
    target = tmp_path / "absent" / "flux.opml"
    result = run("--config", str(path), "sources", "export", "--out", str(target))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"veille : erreur inattendue : fichier ou dossier introuvable : '{target}' "
        "(relancez avec --verbose pour le détail)"]
    verbose = run("--config", str(path), "--verbose", "sources", "export", "--out", str(target))
    assert verbose.returncode == 2 and "Traceback" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1].endswith(f"fichier ou dossier introuvable : '{target}'")


def wait_for_stdin_read(pid: int, timeout: float = 30.0) -> None:
    """Until the process sleeps reading a pipe (Linux says so in /proc/PID/wchan)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/wchan") as handle:
                if "pipe" in handle.read():
                    return
        except OSError:
            break
        time.sleep(0.05)
    time.sleep(3)   # no /proc to ask: leave it time to start


def test_an_interrupted_command_says_so_and_exits_130(write_config):
    path = write_config("data_dir: data\nsources: []\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "veille", "--config", str(path), "user", "add",
                                "equipe@example.org", "--password-stdin"], env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_stdin_read(process.pid)   # the password is read from its standard input
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert err.strip().splitlines() == ["veille : interrompu"]


def test_a_veille_error_is_its_line_and_exit_1(write_config):
    path = write_config("data_dir: data\nsources: []\n")
    result = run("--config", str(path), "crawl", "--source", "absente")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["veille : aucune source ne s'appelle « absente » (sources : aucune)"]


@pytest.mark.parametrize("args", [["--help"], ["user", "--help"], ["--version"]])
def test_help_and_version(args):
    result = run(*args)
    assert result.returncode == 0 and result.stdout
