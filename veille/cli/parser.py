"""The argparse tree of `veille`: every command, its options and its help.

Each command names its handler as "module:function" in `veille.cli`'s subject modules
(index, watch, accounts, mail, service, ops); `main` imports that one module when the command runs.
Together they pull in the web app, both search engines, the crawlers and the scheduler
(about 0.6 s), which `veille user list` or `veille --help` need not wait for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from veille import __version__
from veille.core.config import CONFIG_ENV, DEFAULT_CONFIG


def worker_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("between 1 and 64")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="veille", description="Veille documentaire et juridique: watch, index, search.")
    parser.add_argument("--config", metavar="PATH",
                        help=f"configuration file (default: ${CONFIG_ENV} or ./{DEFAULT_CONFIG})")
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging and tracebacks")
    parser.add_argument("--version", action="version", version=f"veille {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("check", help="validate the configuration (exit 1 listing the errors)")
    p.set_defaults(handler="ops:run_check")

    p = sub.add_parser("crawl", help="relever les sources maintenant (une ligne par source ; "
                                     "code de sortie 1 si l'une a échoué)")
    p.add_argument("--source", metavar="NAME", help="seulement cette source")
    p.set_defaults(handler="watch:run_crawl")

    p = sub.add_parser("sources", help="list the sources and their state; import/export OPML")
    p.add_argument("--json", action="store_true", help="print JSON: {sources: [...]}")
    p.set_defaults(handler="watch:run_sources")
    srcs = p.add_subparsers(dest="sources_command", metavar="ACTION")
    q = srcs.add_parser("list", help="the sources' state (the default)")
    q.add_argument("--json", action="store_true", help="print JSON: {sources: [...]}")
    q = srcs.add_parser("import", help="add the feeds of an OPML file to the configuration (comments kept)")
    q.add_argument("file", metavar="FILE.opml")
    q.add_argument("--schedule", default="12h", help="schedule of the added feeds (default 12h)")
    q = srcs.add_parser("export", help="write the feed sources as OPML (stdout, or --out FILE)")
    q.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")

    p = sub.add_parser("run", help="the production process: scheduled crawls (and digest) plus the web UI")
    p.add_argument("--host", default="127.0.0.1", help="address the web UI listens on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.add_argument("--workers", type=worker_count, default=1, metavar="N",
                   help="serve the web UI from N processes (gunicorn), the scheduler staying in "
                        "this one; default 1 (waitress, in this process)")
    p.set_defaults(handler="service:run_service")

    p = sub.add_parser("index", help="sync the library and index new or changed documents")
    p.add_argument("--rebuild", action="store_true",
                   help="rebuild the whole index from the catalog (searches keep working meanwhile)")
    p.add_argument("--optimize", action="store_true",
                   help="then merge the index's segments (also done on the `search.optimize` schedule)")
    p.set_defaults(handler="index:run_index")

    p = sub.add_parser("search", help="search the documentation space")
    p.add_argument("query", metavar="QUERY", help='a query: words, "exact phrase", OR, -exclude, title:...')
    p.add_argument("--json", action="store_true", help="print JSON: {total, results: [...]}")
    p.add_argument("--limit", type=int, default=10, metavar="N", help="number of results (default 10)")
    p.set_defaults(handler="index:run_search")

    p = sub.add_parser("stats", help="count documents by source and kind")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler="index:run_stats")

    p = sub.add_parser("serve", help="serve the web UI (search page) with a production WSGI server")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.add_argument("--workers", type=worker_count, default=1, metavar="N",
                   help="serve from N processes (gunicorn) to use N cores; default 1 (waitress)")
    p.add_argument("--scheduler-pid", type=int, help=argparse.SUPPRESS)   # set by `veille run`
    p.set_defaults(handler="service:run_serve")

    p = sub.add_parser("demo", help="run the whole pipeline offline on the bundled demo data, then serve it")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.add_argument("--data-dir", type=Path, help="where to build the demo index (default index/demo)")
    p.add_argument("--no-serve", action="store_true", help="build the demo data, do not serve it")
    p.set_defaults(handler="service:run_demo_then_serve")

    p = sub.add_parser("digest", help="preview or send the alert digests by e-mail")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true",
                      help="print (or write with --out) each recipient's digest; sends and records nothing")
    mode.add_argument("--send", action="store_true",
                      help="send every recipient the digest of what is new since their last one")
    p.add_argument("--out", metavar="FILE", help="with --preview: write the HTML to FILE "
                   "(FILE-<recipient>.html when there are several recipients)")
    p.add_argument("--recipient", metavar="ADDRESS", help="with --preview: only this recipient")
    p.add_argument("--text", action="store_true", help="with --preview: the plain-text part instead of HTML")
    p.set_defaults(handler="mail:run_digest")

    p = sub.add_parser("backup", help="write the data directory to one consistent archive (.tar.gz)")
    p.add_argument("file", metavar="FILE", nargs="?",
                   help="archive to write (default: ./veille-backup-YYYYMMDD-HHMMSS.tar.gz)")
    p.set_defaults(handler="ops:run_backup")

    p = sub.add_parser("restore", help="replace the data directory with the content of a backup")
    p.add_argument("file", metavar="FILE", help="archive written by `veille backup`")
    p.add_argument("--force", action="store_true",
                   help="replace a non-empty data directory (it is kept aside, not deleted)")
    p.set_defaults(handler="ops:run_restore")

    p = sub.add_parser("user", help="staff accounts for the web UI (add, list, remove)")
    users = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    q = users.add_parser("add", help="create a staff account (asks for the password twice)")
    q.add_argument("email", metavar="EMAIL")
    q.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input (scripts)")
    q.add_argument("--reset", action="store_true", help="change the password of an existing account")
    q.set_defaults(handler="accounts:run_user")
    q = users.add_parser("list", help="list staff accounts and their last login")
    q.set_defaults(handler="accounts:run_user")
    q = users.add_parser("remove", help="delete a staff account (its sessions end)")
    q.add_argument("email", metavar="EMAIL")
    q.set_defaults(handler="accounts:run_user")

    return parser
