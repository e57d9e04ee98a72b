"""The `veille` command line: one console script, one subcommand per task.

Each subcommand is a `cmd_<name>(args) -> int` function registered in `build_parser()`.
Errors reach the user as one clear line (file and line for configuration problems), never
a traceback unless `--verbose` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from veille import __version__
from veille.core.config import CONFIG_ENV, DEFAULT_CONFIG, Config, ConfigError, load_config
from veille.core.errors import VeilleError, storage_error_message

log = logging.getLogger("veille")


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def _print_json(value) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


# ------------------------------------------------------------------ commands


def cmd_check(args: argparse.Namespace) -> int:
    from indexer.search.indexes import check_index

    config = _config(args)
    print(f"{config.path.name}: OK — {len(config.sources)} sources, "
          f"{len(config.library)} library folders, {len(config.alerts)} alerts; "
          f"data in {config.data_dir}")
    problem = check_index(config.layout, config.search.engine)
    if problem:
        print(f"veille: {problem}", file=sys.stderr)
    return 0


def _sync_library(config: Config, catalog, progress) -> None:
    """Bring the library folders into the catalog (new, changed, removed files)."""
    from indexer.library.sync import sync_library

    report = sync_library(config, catalog, progress)  # logs each problem as a warning
    print(f"library: {report.summary()}", file=sys.stderr)


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.search.space import DocumentSpace
    from veille.core.progress import ProgressBar

    config = _config(args)
    space = DocumentSpace(config)
    try:
        if config.library:
            _sync_library(config, space.catalog, ProgressBar("Library"))
        if args.rebuild:
            report = space.rebuild(ProgressBar("Rebuilding"))
        else:
            space.check_files()   # a deleted segment: say what to run, index nothing more
            report = space.index_pending(ProgressBar("Indexing"))
        if args.optimize:
            started = time.monotonic()
            space.optimize()
            print(f"{report.engine} index optimised in {time.monotonic() - started:.1f} s")
    finally:
        space.close()
    action = "rebuilt" if report.rebuilt else "indexed"
    print(f"{report.engine} index {action}: {report.indexed} documents, "
          f"{report.deleted} removed, in {report.seconds:.1f} s")
    return 0


def _snippet_text(snippet: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"</?mark>", "*", snippet))


def cmd_search(args: argparse.Namespace) -> int:
    from indexer.search.request import SearchRequest
    from indexer.search.space import DocumentSpace

    space = DocumentSpace(_config(args))
    try:
        space.check_files()
        # the command line is the team's: internal documents are found too, and marked
        found = space.search(SearchRequest(q=args.query, per_page=max(1, args.limit), facets=False,
                                           include_internal=True))
    finally:
        space.close()
    if args.json:
        _print_json({"total": found.total, "results": [
            {"id": h.id, "title": h.title, "url": h.url, "source": h.source, "kind": h.kind,
             "published": h.published, "score": h.score, "snippet": h.snippet} for h in found.hits]})
        return 0
    if found.notice:
        print(found.notice)
    print(f"{found.total} document(s)")
    if found.suggestion:
        print(f"Did you mean: {found.suggestion}")
    for rank, hit in enumerate(found.hits, 1):
        meta = " · ".join(x for x in (hit.published, hit.source, hit.kind) if x)
        mark = " [interne]" if hit.visibility != "public" else ""
        print(f"\n{rank}. {hit.title}{mark}\n   {meta}")
        if hit.url:
            print(f"   {hit.url}")
        if hit.snippet:
            page = f"(p. {hit.page}) " if hit.page else ""
            print(f"   {page}{_snippet_text(hit.snippet)}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from indexer.search.space import DocumentSpace

    space = DocumentSpace(_config(args))
    try:
        stats = space.stats()
    finally:
        space.close()
    if args.json:
        _print_json(stats)
        return 0
    print(f"{stats['documents']} documents ({stats['pending']} waiting to be indexed)")
    for title, key in (("By source", "by_source"), ("By kind", "by_kind")):
        print(f"{title}:")
        for name, count in stats[key].items():
            print(f"  {name}: {count}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from veille.ops.serve import serve

    serve(_config(args), host=args.host, port=args.port, workers=args.workers,
          scheduler_pid=args.scheduler_pid)
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from veille.storage.catalog import Catalog
    from veille.digest.run import compose_digests, open_space, send_digests, space_matcher

    config = _config(args)
    now = datetime.now(timezone.utc)
    if args.send:
        report = send_digests(config, now=now)
        for outcome in report.outcomes:
            if outcome.status == "failed":
                print(f"veille: digest to {outcome.recipient} not sent: {outcome.error}", file=sys.stderr)
        print(report.summary())
        return 0 if report.ok else 1
    catalog = Catalog.open(config.layout)
    composed, failed = compose_digests(config, catalog, space_matcher(open_space(config), catalog),
                                       now=now, recipient=args.recipient)
    for outcome in failed:
        print(f"veille: no digest for {outcome.recipient}: {outcome.error}", file=sys.stderr)
    if not composed:
        print("no recipient follows an alert" if not failed else "no digest could be composed",
              file=sys.stderr)
        return 1 if failed else 0
    for item in composed:
        body = item.text if args.text else item.html
        if args.out:
            out = Path(args.out)
            if len(composed) > 1:  # one file per recipient beside the one asked for
                import re

                # an address may hold `/` or `..`: never a path of its own
                safe = re.sub(r"[^\w@.+-]", "_", item.digest.recipient).strip(".") or "destinataire"
                out = out.with_name(f"{out.stem}-{safe}{out.suffix}")
            out.write_text(body, encoding="utf-8")
            count = item.digest.total
            print(f"{item.digest.recipient}: {count} document{'' if count == 1 else 's'} -> {out}")
        else:
            print(body)
    return 1 if failed else 0


def _read_new_password(args: argparse.Namespace) -> str:
    """The new password: from stdin (first line) with --password-stdin, else typed twice."""
    from veille.storage.users import password_problem

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise VeilleError("the two passwords differ")
    problem = password_problem(password)
    if problem:
        raise VeilleError(problem)
    return password


def cmd_user(args: argparse.Namespace) -> int:
    from veille.storage.catalog import Catalog
    from veille.core.emails import email_problem
    from veille.storage.users import hash_password, normalize_email

    config = _config(args)
    catalog = Catalog.open(config.layout)
    if args.user_command == "list":
        users = catalog.users.all()
        for user in users:
            last = user.last_login.isoformat() if user.last_login else "never"
            print(f"{user.email}\tcreated {user.created.isoformat()}\tlast login {last}")
        if not users:
            print("no staff account yet: create one with `veille user add EMAIL`", file=sys.stderr)
        return 0
    email = normalize_email(args.email)
    if args.user_command == "remove":
        if not catalog.users.remove(email):
            raise VeilleError(f"no staff account for {email}")
        print(f"removed {email}; their open sessions end at their next request")
        return 0
    problem = email_problem(email)
    if problem:
        raise VeilleError(problem)
    exists = catalog.users.get(email) is not None
    if exists and not args.reset:
        raise VeilleError(f"{email} already has an account", hint="add --reset to change its password")
    if args.reset and not exists:
        raise VeilleError(f"no staff account for {email}")
    password_hash = hash_password(_read_new_password(args))
    if args.reset:
        catalog.users.set_password(email, password_hash)
        print(f"password changed for {email}; their other sessions are closed")
    else:
        catalog.users.add(email, password_hash)
        print(f"added {email}")
    return 0


def _chosen_sources(config: Config, name: str | None):
    if name is None:
        return [s for s in config.sources if s.enabled]
    try:
        return [config.source(name)]
    except KeyError:
        known = ", ".join(s.name for s in config.sources) or "none"
        raise VeilleError(f"unknown source '{name}'", hint=f"sources: {known}") from None


def cmd_crawl(args: argparse.Namespace) -> int:
    from veille.storage.catalog import Catalog
    from watch.crawler import crawl_sources
    from watch.fetcher import Fetcher

    config = _config(args)
    sources = _chosen_sources(config, args.source)
    if not sources:
        print("no enabled source to crawl", file=sys.stderr)
        return 0
    catalog = Catalog.open(config.layout)
    done = 0

    def show(report) -> None:
        nonlocal done
        done += 1
        print(f"[{done}/{len(sources)}] {report.line()}", flush=True)

    with Fetcher(config.http, catalog.validators) as fetcher:
        reports = crawl_sources(config, catalog, fetcher, sources, on_report=show)
    failed = [r for r in reports if not r.ok]
    print(f"{len(reports)} source(s): {sum(r.new for r in reports)} new, "
          f"{sum(r.updated for r in reports)} updated, {sum(r.unchanged for r in reports)} unchanged, "
          f"{len(failed)} failed")
    return 1 if failed else 0   # a script or timer must notice a failing source


def cmd_backup(args: argparse.Namespace) -> int:
    from veille.ops.backup import backup, default_archive_name

    report = backup(_config(args), Path(args.file or default_archive_name()))
    print(f"backup written to {report.path}: {report.files} files, {report.bytes / 1e6:.1f} MB "
          f"({report.databases} databases) in {report.seconds:.1f} s")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from veille.ops.backup import restore

    config = _config(args)
    report = restore(config, Path(args.file), force=args.force)
    print(f"restored {report.files} files into {report.data_dir}")
    if report.set_aside:
        print(f"the previous data directory is kept in {report.set_aside} (delete it when satisfied)")
    if not report.authenticated:
        print("veille: sauvegarde non authentifiée par la clé secrète de cette instance : ni son index "
              "ni son planificateur n'ont été ouverts ; l'index a été reconstruit depuis le catalogue "
              "(sur une nouvelle machine, donnez l'ancienne clé dans $VEILLE_SECRET_KEY)", file=sys.stderr)
    elif report.rebuilt:
        print("the restored index could not be used: it was rebuilt from the catalog", file=sys.stderr)
    print(f"{report.documents} documents in the catalog; {report.brought_up_to_date} brought up to date in the index")
    return 0


def _when(value, tz) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "-"


def cmd_sources(args: argparse.Namespace) -> int:
    config = _config(args)
    action = getattr(args, "sources_command", None) or "list"
    if action == "import":
        from watch.opml import add_feeds_to_config, read_opml

        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise VeilleError(f"cannot read {args.file}: {exc.strerror}") from None
        feeds = read_opml(data)
        report = add_feeds_to_config(config, feeds, schedule=args.schedule)
        for name in report.added:
            print(f"added {name}")
        for url in report.skipped:
            print(f"already watched: {url}")
        print(f"{len(report.added)} feed(s) added to {config.path.name}, {len(report.skipped)} already there")
        return 0
    if action == "export":
        from watch.opml import write_opml

        text = write_opml(config.sources)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
            print(f"{sum(s.kind == 'feed' for s in config.sources)} feed(s) written to {args.out}")
        else:
            sys.stdout.write(text)
        return 0
    from veille.storage.catalog import Catalog
    from veille.jobs.scheduler import stored_next_runs
    from watch.status import source_statuses

    statuses = source_statuses(config, Catalog.open(config.layout), stored_next_runs(config))
    if args.json:
        _print_json({"sources": [s.as_json() for s in statuses]})
        return 0
    tz = config.tz
    rows = [("SOURCE", "KIND", "SCHEDULE", "STATE", "DOCS", "LAST SUCCESS", "NEXT RUN", "FAILURES",
             "LAST ERROR")]
    for s in statuses:
        error = f"[{s.last_error_code}] {s.last_error}" if s.last_error and s.consecutive_failures else ""
        rows.append((s.name, s.kind, s.schedule, s.state_label, str(s.documents), _when(s.last_success, tz),
                     _when(s.next_run, tz), str(s.consecutive_failures), error[:100]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import signal

    from veille.ops.serve import serve
    from veille.jobs.scheduler import build_scheduler, shutdown

    config = _config(args)
    from veille.digest.run import register_digest_job

    scheduler = build_scheduler(config, extra_jobs=[register_digest_job])

    def stop(signum, frame):  # SIGTERM (systemd, docker stop): shut down like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    scheduler.resume()
    jobs = scheduler.get_jobs()
    print(f"Veille : {sum(j.id.startswith('crawl:') for j in jobs)} source(s) planifiée(s), "
          f"{len(jobs)} tâche(s) ; données dans {config.data_dir}", flush=True)
    try:
        if args.workers > 1:
            _serve_in_child(config, args)
        else:
            serve(config, host=args.host, port=args.port, scheduler=scheduler)
    finally:
        print("Veille : arrêt (attente des relevés en cours)…", file=sys.stderr, flush=True)
        shutdown(scheduler, wait=True)
    return 0


def _serve_in_child(config: Config, args: argparse.Namespace) -> None:
    """`veille serve --workers N` in a new process, until it ends or this one is stopped.

    A fresh interpreter, not a fork of this process: forking would copy the scheduler (its
    job store, its threads' locks) into every web worker, and crawls and digests must run
    once. The workers report this process's scheduler on /healthz.
    """
    import os
    import subprocess

    command = [sys.executable, "-m", "veille", "--config", str(config.path),
               *(["--verbose"] if args.verbose else []), "serve", "--host", args.host,
               "--port", str(args.port), "--workers", str(args.workers),
               "--scheduler-pid", str(os.getpid())]
    child = subprocess.Popen(command)
    try:
        code = child.wait()
    except KeyboardInterrupt:   # SIGTERM or Ctrl-C: stop the web server, then the scheduler
        return
    finally:
        if child.poll() is None:
            child.terminate()   # gunicorn: graceful stop of its workers
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    raise VeilleError(f"the web server stopped on its own (exit status {code})",
                      hint="its messages are above; the scheduler was stopped too")


def cmd_demo(args: argparse.Namespace) -> int:
    from veille.ops.demo import run_demo

    config = run_demo(data_dir=args.data_dir)
    if args.no_serve:
        print(f"Demo data ready in {config.data_dir}")
        return 0
    from veille.ops.serve import serve

    serve(config, host=args.host, port=args.port)
    return 0


# ------------------------------------------------------------------ parser


def _worker_count(text: str) -> int:
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
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("crawl", help="relever les sources maintenant (une ligne par source ; "
                                     "code de sortie 1 si l'une a échoué)")
    p.add_argument("--source", metavar="NAME", help="seulement cette source")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("sources", help="list the sources and their state; import/export OPML")
    p.add_argument("--json", action="store_true", help="print JSON: {sources: [...]}")
    p.set_defaults(func=cmd_sources)
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
    p.add_argument("--workers", type=_worker_count, default=1, metavar="N",
                   help="serve the web UI from N processes (gunicorn), the scheduler staying in "
                        "this one; default 1 (waitress, in this process)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("index", help="sync the library and index new or changed documents")
    p.add_argument("--rebuild", action="store_true",
                   help="rebuild the whole index from the catalog (searches keep working meanwhile)")
    p.add_argument("--optimize", action="store_true",
                   help="then merge the index's segments (also done on the `search.optimize` schedule)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="search the documentation space")
    p.add_argument("query", metavar="QUERY", help='a query: words, "exact phrase", OR, -exclude, title:...')
    p.add_argument("--json", action="store_true", help="print JSON: {total, results: [...]}")
    p.add_argument("--limit", type=int, default=10, metavar="N", help="number of results (default 10)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("stats", help="count documents by source and kind")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("serve", help="serve the web UI (search page) with a production WSGI server")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.add_argument("--workers", type=_worker_count, default=1, metavar="N",
                   help="serve from N processes (gunicorn) to use N cores; default 1 (waitress)")
    p.add_argument("--scheduler-pid", type=int, help=argparse.SUPPRESS)   # set by `veille run`
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="run the whole pipeline offline on the bundled demo data, then serve it")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.add_argument("--data-dir", type=Path, help="where to build the demo index (default index/demo)")
    p.add_argument("--no-serve", action="store_true", help="build the demo data, do not serve it")
    p.set_defaults(func=cmd_demo)

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
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("backup", help="write the data directory to one consistent archive (.tar.gz)")
    p.add_argument("file", metavar="FILE", nargs="?",
                   help="archive to write (default: ./veille-backup-YYYYMMDD-HHMMSS.tar.gz)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the data directory with the content of a backup")
    p.add_argument("file", metavar="FILE", help="archive written by `veille backup`")
    p.add_argument("--force", action="store_true",
                   help="replace a non-empty data directory (it is kept aside, not deleted)")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("user", help="staff accounts for the web UI (add, list, remove)")
    users = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    q = users.add_parser("add", help="create a staff account (asks for the password twice)")
    q.add_argument("email", metavar="EMAIL")
    q.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input (scripts)")
    q.add_argument("--reset", action="store_true", help="change the password of an existing account")
    q.set_defaults(func=cmd_user)
    q = users.add_parser("list", help="list staff accounts and their last login")
    q.set_defaults(func=cmd_user)
    q = users.add_parser("remove", help="delete a staff account (its sessions end)")
    q.add_argument("email", metavar="EMAIL")
    q.set_defaults(func=cmd_user)

    return parser


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%S")
    from veille.core.logs import mask_secrets_in_logs

    mask_secrets_in_logs()


def _data_dir_or_none(args: argparse.Namespace):
    try:
        return _config(args).data_dir
    except Exception:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    if args.command != "run" and not args.verbose:
        # one line per stored document belongs in the service's journal, not on a console
        # where `crawl` and `demo` print their own summary per source
        logging.getLogger("watch.crawler").setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except VeilleError as exc:
        if args.verbose:
            log.exception("failed")
        print(f"veille: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("veille: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last resort: one line, the traceback only on request
        if args.verbose:
            log.exception("unexpected error")
        storage = storage_error_message(exc, _data_dir_or_none(args))
        if storage:  # read-only or full data directory: say so plainly; nothing was half-written
            print(f"veille: {storage}", file=sys.stderr)
            return 1
        print(f"veille: unexpected error: {type(exc).__name__}: {exc} (run with --verbose for details)",
              file=sys.stderr)
        return 2
