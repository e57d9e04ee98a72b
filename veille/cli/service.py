"""`veille serve`, `veille run`, `veille demo`: the web UI, alone or with the scheduler."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from veille.cli.console import load, warn
from veille.core.config import Config
from veille.core.errors import VeilleError
from veille.digest.immediate import register_immediate_alerts
from veille.digest.lettre_send import register_lettre_job
from veille.digest.run import register_digest_job
from veille.jobs.scheduler import CRAWL_PREFIX, build_scheduler
from veille.ops.demo import demo_session
from veille.ops.serve import check_port, serve


def run_serve(args: argparse.Namespace) -> int:
    check_port(args.host, args.port)
    serve(load(args), host=args.host, port=args.port, workers=args.workers,
          scheduler_pid=args.scheduler_pid)
    return 0


def stop_like_ctrl_c(signum, frame):
    """SIGTERM (systemd, docker stop): shut down as Ctrl-C does."""
    raise KeyboardInterrupt


def run_service(args: argparse.Namespace) -> int:
    """`veille run`: the scheduler (crawls, indexing, digest, lettre) and the web UI, until stopped."""
    config = load(args)
    check_port(args.host, args.port)
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    return serve_with_scheduler(config, args)


def serve_with_scheduler(config: Config, args: argparse.Namespace) -> int:
    """The scheduler and the web UI of `config`, until Ctrl-C or SIGTERM."""
    scheduler = build_scheduler(config, extra_jobs=[register_digest_job, register_lettre_job,
                                                       register_immediate_alerts])
    scheduler.resume()
    jobs = scheduler.get_jobs()
    print(f"Veille : {sum(j.id.startswith(CRAWL_PREFIX) for j in jobs)} source(s) planifiée(s), "
          f"{len(jobs)} tâche(s) ; données dans {config.data_dir}", flush=True)
    try:
        if getattr(args, "workers", 1) > 1:
            serve_in_child(config, args)
        else:
            serve(config, host=args.host, port=args.port, scheduler=scheduler)
    finally:
        warn("Veille : arrêt (attente des relevés en cours)…")
        scheduler.close(wait=True)
    return 0


def serve_in_child(config: Config, args: argparse.Namespace) -> None:
    """`veille serve --workers N` in a new process, until it ends or this one is stopped.

    A fresh interpreter, not a fork of this process: forking would copy the scheduler (its
    threads and their locks) into every web worker, and crawls and digests must run once.
    The workers report this process's scheduler on /healthz.
    """
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
    raise VeilleError(f"le serveur web s'est arrêté de lui-même (code de sortie {code})",
                      hint="ses messages sont plus haut ; le planificateur a été arrêté aussi")


def run_demo_then_serve(args: argparse.Namespace) -> int:
    """`veille demo`: the demo's data made ready (or found again), then served as by `veille run`."""
    if not args.no_serve:
        check_port(args.host, args.port)   # before any work, not after the crawls
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    with demo_session(args.data_dir, reset=args.reset, base_url=f"http://{host}:{args.port}") as config:
        if args.no_serve:
            print(f"Données de la démonstration prêtes dans {config.data_dir}", flush=True)
            return 0
        return serve_with_scheduler(config, args)
