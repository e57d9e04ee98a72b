"""Serve the web app: waitress in this process, or gunicorn's prefork server for several.

One process serves at most about one core of searches: Python runs one thread at a time,
and a search page is mostly Python (templates, facet links, snippets). `workers > 1` forks
that many processes with gunicorn, each with its own app and DocumentSpace (own engine,
page cache and SQLite connections), all accepting on one socket.
"""

from __future__ import annotations

import errno
import logging
import os
import socket

from veille.core.config import Config
from veille.core.errors import VeilleError
from veille.core.secret_key import load_secret_key
from web import create_app
from web.state import VeilleApp
from web.throttle import LOGIN_FAILURES_ALLOWED, LOGIN_FAILURES_PER_ADDRESS, LoginThrottle, RequestRate

log = logging.getLogger("veille.ops.serve")

WORKER_THREADS = 4      # per worker process: requests waiting on I/O while another runs
KEEPALIVE_SECONDS = 5   # idle keep-alive connections (browsers reuse them for the next page)


def check_port(host: str, port: int) -> None:
    """Raise a clear VeilleError if the web server could not listen on `host:port`: checked
    before any work (a crawl, an index) rather than after it."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise VeilleError(f"adresse d'écoute inconnue : {host}",
                          hint="donnez une adresse IP de cette machine avec --host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as the servers do
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise VeilleError(f"le port {port} est déjà utilisé sur {host}",
                                  hint="choisissez-en un autre avec --port, ou arrêtez le programme "
                                       "qui l'occupe") from None
            if exc.errno == errno.EACCES:
                raise VeilleError(f"le port {port} est réservé à l'administrateur",
                                  hint="choisissez un port au-dessus de 1024 avec --port") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise VeilleError(f"{host} n'est pas une adresse de cette machine",
                                  hint="donnez une de ses adresses avec --host (127.0.0.1 par défaut)") from None
            raise


class SchedulerProcess:
    """The scheduler of `veille run --workers N` as a web worker sees it: it runs in the
    process `pid` (which started the web server), and /healthz reports it running while
    that process lives."""

    def __init__(self, pid: int):
        self.pid = pid

    @property
    def running(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:   # alive, under another user
            return True
        return True


def serve(config: Config, host: str = "127.0.0.1", port: int = 5000, threads: int = 8,
          scheduler=None, workers: int = 1, scheduler_pid: int | None = None) -> None:
    """Serve until interrupted; `scheduler` (under `veille run`) is reported by /healthz, or
    with several workers the process `scheduler_pid` running it."""
    if workers > 1:
        if scheduler is not None:
            # forked workers would each inherit a copy of it: crawls and digests run once
            raise ValueError("the scheduler runs in one process: serve it with one worker")
        serve_workers(config, host, port, workers, scheduler_pid)
        return
    import waitress

    app = create_app(config)
    app.state.scheduler = scheduler
    print(f"Veille : recherche sur http://{host}:{port}/  (Ctrl-C pour arrêter)", flush=True)
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="veille")
    finally:
        app.close()


def worker_app(config: Config, workers: int, scheduler_pid: int | None = None) -> VeilleApp:
    """The app of one of `workers` processes, built after the fork.

    Each process counts failed logins and searches alone, and connections go to whichever
    process takes them: each allows its share of the limits, so the site as a whole still
    allows about LOGIN_FAILURES_ALLOWED per account, LOGIN_FAILURES_PER_ADDRESS per address
    and `web.search_per_minute` per address (at most `workers` - 1 more).
    """
    app = create_app(config)
    app.state.login_throttle = LoginThrottle(limit=-(-LOGIN_FAILURES_ALLOWED // workers),
                                             address_limit=-(-LOGIN_FAILURES_PER_ADDRESS // workers))
    app.state.search_rate = RequestRate(-(-config.web.search_per_minute // workers))
    if scheduler_pid is not None:
        app.state.scheduler = SchedulerProcess(scheduler_pid)
    return app


def close_worker_app(server, worker) -> None:
    """gunicorn's worker_exit hook: the worker's app closes its index and catalog."""
    app = getattr(worker, "wsgi", None)
    if isinstance(app, VeilleApp):
        app.close()


def serve_workers(config: Config, host: str, port: int, workers: int,
                  scheduler_pid: int | None = None) -> None:
    """Serve from `workers` processes until SIGTERM or Ctrl-C (gunicorn, threaded workers).

    The app is built in each worker after the fork, never in the master: every worker
    opens its own DocumentSpace. The session key is read (created on first start) here,
    before the fork, so every worker signs cookies with the same key.
    """
    from gunicorn.app.base import BaseApplication

    load_secret_key(config.layout.secret_key)

    class Workers(BaseApplication):
        def load_config(self):
            settings = {
                "bind": [f"{host}:{port}"], "workers": workers, "worker_class": "gthread",
                "threads": WORKER_THREADS, "keepalive": KEEPALIVE_SECONDS, "proc_name": "veille",
                "accesslog": None, "errorlog": "-", "loglevel": "warning",
                "control_socket_disable": True,   # no runtime control socket in $HOME
                "worker_exit": close_worker_app,
            }
            for name, value in settings.items():
                if name in self.cfg.settings:
                    self.cfg.set(name, value)

        def load(self):
            return worker_app(config, workers, scheduler_pid)

    print(f"Veille : recherche sur http://{host}:{port}/  ({workers} processus ; "
          "Ctrl-C pour arrêter)", flush=True)
    Workers().run()
