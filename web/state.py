"""What one web app holds, made by `create_app` and closed by `app.close()`.

The catalog and the search space are opened on first use (the app starts even when the
data directory is momentarily unreadable; /healthz then says so) and shared by every
request thread. The catalog's SQLite connections are per thread and each server thread
keeps its own from one request to the next: reopening one per request would cost more
than the catalog reads of a search page (a cold page cache, and a WAL checkpoint when the
last connection closes). A request that ends leaves no transaction open
(`release_request`); `close()` closes every thread's connection when the server stops.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, current_app, g

from indexer.search.space import DocumentSpace
from veille.core.config import Config
from veille.core.config_reload import LiveConfig
from veille.storage.catalog import Catalog
from web.throttle import SUBSCRIPTIONS_PER_HOUR, LoginThrottle, RequestRate

CATALOG_CHECK_SECONDS = 300.0      # SQLite's quick check reads the whole catalog: not every call


class AppState:
    """The configuration, catalog, search space, login throttle, search rate and scheduler
    of one app.

    `config` follows the configuration file: a source added from the sources page (by this
    worker or another) or a change by hand shows on the next request."""

    def __init__(self, config: Config, login_throttle: LoginThrottle | None = None,
                 search_rate: RequestRate | None = None):
        self._live = LiveConfig(config)
        self.login_throttle = login_throttle or LoginThrottle()
        self.search_rate = search_rate or RequestRate(config.web.search_per_minute)
        # each subscription request sends a confirmation e-mail to the address typed: a
        # client may not make the service mail strangers in bulk
        self.subscribe_rate = RequestRate(SUBSCRIPTIONS_PER_HOUR, window=3600.0)
        # what /healthz reports: the scheduler of `veille run` (or its process, seen from a
        # web worker), None under `veille serve`
        self.scheduler = None
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._space: DocumentSpace | None = None
        self._check_lock = threading.Lock()
        self._checked_at: float | None = None     # the catalog's last quick check, and its finding
        self._damage: str | None = None

    @property
    def config(self) -> Config:
        return self._live.current()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    self._catalog = Catalog.open(self.config.layout)
        return self._catalog

    @property
    def space(self) -> DocumentSpace:
        if self._space is None:
            catalog = self.catalog
            with self._lock:
                if self._space is None:
                    self._space = DocumentSpace(self.config, catalog=catalog)
        return self._space

    def catalog_damage(self) -> str | None:
        """What the catalog's quick check found wrong, or None (/healthz). The check is redone
        after CATALOG_CHECK_SECONDS, or at once while it finds damage."""
        catalog = self.catalog
        with self._check_lock:
            now = time.monotonic()
            if self._checked_at is None or now - self._checked_at > CATALOG_CHECK_SECONDS or self._damage:
                self._damage, self._checked_at = catalog.damage(), now
            return self._damage

    def release_request(self) -> None:
        """At the end of a request: roll back a transaction it left open on this thread."""
        if self._catalog is not None:
            self._catalog.end_request()

    def close(self) -> None:
        """Close the index and the catalog; the app may be used again (it reopens them)."""
        with self._lock:
            space, self._space = self._space, None
            catalog, self._catalog = self._catalog, None
        if space is not None:
            space.close()
        if catalog is not None:
            catalog.close_all()


class VeilleApp(Flask):
    """The Flask app of `create_app`, with its state and a `close()`."""

    state: AppState

    def close(self) -> None:
        self.state.close()


def app_state() -> AppState:
    return current_app.state


def veille_config() -> Config:
    """The configuration, the same for the whole request (a page asks for it many times;
    the file's stamp is checked once)."""
    config = g.get("veille_config")
    if config is None:
        config = g.veille_config = current_app.state.config
    return config


def get_space() -> DocumentSpace:
    """The app's DocumentSpace, opened once and shared by every request thread."""
    return current_app.state.space


def get_catalog() -> Catalog:
    """The app's catalog (alerts, digest archive, run log, library, accounts)."""
    return current_app.state.catalog
