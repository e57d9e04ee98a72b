"""The command line speaks French: every command's `--help`, and what every error path prints.

Each text is searched for English words from a short list (error, failed, not found,
invalid, usage...) once option names, paths and quoted values are set aside: those are the
user's own words or the program's identifiers, not messages.
"""

from __future__ import annotations

import io
import re
import socket
import textwrap

import pytest

from tests.conftest import free_port
from veille.cli import build_parser, main

ENGLISH = ("error", "errors", "failed", "fail", "not found", "invalid", "usage", "unknown", "cannot",
           "can't", "could not", "missing", "required", "unexpected", "expected", "unrecognized",
           "already", "no such", "the", "show", "default", "password", "directory", "must",
           "choose", "allowed", "not a", "is not", "exists", "permission denied", "refused")
ENGLISH_RE = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in ENGLISH) + r")\b", re.IGNORECASE)
# Not messages: --options, paths, 'quoted' or « quoted » values, e-mail addresses.
NOT_WORDS_RE = re.compile(r"--?[\w-]+|\S*/\S*|'[^'\n]*'|«[^»\n]*»|\S+@\S+")


@pytest.fixture(autouse=True)
def logging_as_it_was():
    """`main` runs in this process here: the levels it sets on loggers (the crawler's, the
    libraries') must not reach the tests that run after these."""
    import logging

    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    levels = {logger: logger.level for logger in loggers}
    handlers = list(logging.getLogger().handlers)
    yield
    for logger in [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]:
        logger.setLevel(levels.get(logger, logging.NOTSET))
    logging.getLogger().setLevel(levels[logging.getLogger()])
    logging.getLogger().handlers[:] = handlers


def english_words(text: str) -> list[str]:
    return ENGLISH_RE.findall(NOT_WORDS_RE.sub(" ", text))


def command_lines(parser) -> list[list[str]]:
    """Every command and sub-action of the parser, as argv prefixes."""
    lines = [[]]
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        lines.append([name])
        for action in command._actions:
            if action.dest.endswith("_command"):
                lines += [[name, nested] for nested in action.choices]
    return lines


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        code = main(list(argv))
    except SystemExit as exc:   # argparse: --help, and its own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out + err


def test_the_english_detector_works():
    assert english_words("veille: error: the following arguments are required: EMAIL") == [
        "error", "the", "required"]
    assert english_words("veille : erreur : il manque : ADRESSE --password-stdin '/tmp/the/x'") == []


@pytest.mark.parametrize("argv", command_lines(build_parser()), ids=lambda a: " ".join(a) or "veille")
def test_every_help_is_french(capsys, argv):
    code, text = run(capsys, *argv, "--help")
    assert code == 0
    assert text.startswith("utilisation : veille")
    assert english_words(text) == [], text


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "sources.yaml"
    (tmp_path / "library").mkdir()
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        http: {{retries: 0, timeout: 2, allow_private_networks: true}}
        library:
          - {{name: fonds, path: library}}
        sources:
          - {{name: arretee, kind: feed, url: "http://127.0.0.1:9/rss.xml", enabled: false}}
        alerts:
          - {{name: Logement, query: logement, recipients: [doc@example.org]}}
        digest:
          smtp: {{host: 127.0.0.1, port: {free_port()}}}
        """), encoding="utf-8")
    return path


ARGUMENT_ERRORS = [
    [], ["frobnicate"], ["--frobnicate", "check"], ["--ver"], ["user"], ["user", "add"], ["user", "rename"],
    ["serve", "--port", "x"], ["serve", "--port", "99999"], ["run", "--workers", "0"],
    ["run", "--workers", "beaucoup"], ["search"], ["search", "x", "--limit", "abc"],
    ["search", "x", "--limit", "0"], ["digest"], ["digest", "--send", "--preview"], ["sources", "import"],
    ["check", "surplus"], ["demo", "--data-dir"],
]


@pytest.mark.parametrize("argv", ARGUMENT_ERRORS, ids=lambda a: " ".join(a) or "rien")
def test_every_argument_error_is_french(capsys, argv):
    code, text = run(capsys, *argv)
    assert code == 2
    assert "utilisation : veille" in text and "erreur :" in text
    assert english_words(text) == [], text


def test_every_error_path_of_the_commands_is_french(capsys, monkeypatch, config, tmp_path):
    missing = str(tmp_path / "absent.yaml")
    broken = tmp_path / "casse.yaml"
    broken.write_text("sources: [\n  - {name: x, kind: flux, url: pas-une-adresse, shedule: 1d}\n",
                      encoding="utf-8")
    wrong = tmp_path / "faux.yaml"
    wrong.write_text("sources:\n  - {name: x, kind: flux, url: pas-une-adresse, shedule: 1d}\n",
                     encoding="utf-8")
    not_opml = tmp_path / "flux.opml"
    not_opml.write_text("<html>pas un OPML</html>", encoding="utf-8")
    damaged = tmp_path / "sauvegarde.tar.gz"
    damaged.write_bytes(b"pas une archive")
    c = str(config)
    cases = [
        # the configuration
        (["--config", missing, "check"], 1),
        (["--config", str(broken), "check"], 1),
        (["--config", str(wrong), "check"], 1),
        (["--config", missing, "sources"], 1),
        # sources and crawls
        (["--config", c, "crawl", "--source", "absente"], 1),
        (["--config", c, "crawl"], 0),                                    # no enabled source
        (["--config", c, "sources", "import", str(tmp_path / "absent.opml")], 1),
        (["--config", c, "sources", "import", str(not_opml)], 1),
        (["--config", c, "sources", "export", "--out", str(tmp_path / "non" / "flux.opml")], 2),
        # accounts
        (["--config", c, "user", "list"], 0),                              # none yet
        (["--config", c, "user", "add", "pas-une-adresse", "--password-stdin"], 1),
        (["--config", c, "user", "add", "doc@example.org", "--password-stdin"], 1),   # too short
        (["--config", c, "user", "remove", "doc@example.org"], 1),
        (["--config", c, "user", "add", "doc@example.org", "--reset", "--password-stdin"], 1),
        # the library, the index, searches
        (["--config", c, "index"], 0),
        (["--config", c, "search", "logement"], 0),
        (["--config", c, "stats"], 0),
        # digests: nothing to preview, then an SMTP server that is not there
        (["--config", c, "digest", "--preview", "--recipient", "personne@example.org"], 0),
        # backups
        (["--config", c, "backup", str(config.parent / "data" / "dedans.tar.gz")], 1),
        (["--config", c, "restore", str(tmp_path / "absente.tar.gz")], 1),
        (["--config", c, "restore", str(damaged)], 1),
    ]
    for argv, expected in cases:
        stdin = "court\n" if "--password-stdin" in argv else None
        code, text = run(capsys, *argv, stdin=stdin, monkeypatch=monkeypatch)
        assert code == expected, (argv, text)
        assert text.strip(), argv
        assert english_words(text) == [], (argv, text)


def test_a_failed_digest_send_is_french(capsys, config, digest_matcher):
    from datetime import datetime, timedelta, timezone

    from veille.core.config import load_config
    from veille.core.records import Document
    from veille.storage.catalog import Catalog

    loaded = load_config(config)
    catalog = Catalog.open(loaded.layout)
    catalog.documents.put(Document(id="d1", title="Logement social à Schœlcher", source="arretee",
                                   kind="actualité", first_seen=datetime.now(timezone.utc) - timedelta(hours=1),
                                   content="Le logement social progresse."))
    digest_matcher(loaded, catalog)   # indexes it
    code, text = run(capsys, "--config", str(config), "digest", "--send")
    assert code == 1
    assert "connexion refusée" in text
    assert english_words(text) == [], text


@pytest.mark.parametrize("command", [["serve"], ["run"], ["demo"]])
def test_a_busy_port_is_said_before_any_work(capsys, config, command):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        argv = ["--config", str(config), *command, "--port", str(port)]
        if command[0] == "demo":
            argv = [*command, "--port", str(port), "--data-dir", str(config.parent / "demo")]
        code, text = run(capsys, *argv)
    assert code == 1
    assert text.strip().splitlines() == [
        f"veille : le port {port} est déjà utilisé sur 127.0.0.1 (choisissez-en un autre avec --port, "
        "ou arrêtez le programme qui l'occupe)"]
    assert not (config.parent / "data" / "catalog.sqlite3").exists()   # nothing was started
    assert not (config.parent / "demo").exists()
