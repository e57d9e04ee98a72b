"""Serve the web app with waitress, a production WSGI server (pure Python, no build step)."""

from __future__ import annotations

import logging

from veille.config import Config

log = logging.getLogger("veille.serve")


def serve(config: Config, host: str = "127.0.0.1", port: int = 5000, threads: int = 8,
          scheduler=None) -> None:
    """Serve until interrupted; `scheduler` (under `veille run`) is reported by /healthz."""
    import waitress

    from web import create_app

    app = create_app(config)
    if scheduler is not None:
        app.extensions["veille.scheduler"] = scheduler
    print(f"Veille : recherche sur http://{host}:{port}/  (Ctrl-C pour arrêter)", flush=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="veille")
