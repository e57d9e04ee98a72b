"""How often an anonymous client may search, and which client address to believe.

- `RequestRate` counts each address's searches (result pages, the JSON API, Atom feeds) in
  a sliding minute; past `web.search_per_minute`, the client gets a 429 with a French
  message and `Retry-After`. Staff are not limited, nor loopback clients: the machine
  itself, or a reverse proxy not declared in `web.trusted_proxies`, whose limit would be
  every visitor's at once. Kept in memory, per process; with several web processes each
  allows its share (`veille.ops.serve.worker_app`).
- Behind a reverse proxy every request comes from the proxy: `web.trusted_proxies` says
  how many proxies' `X-Forwarded-For` / `X-Forwarded-Proto` to believe (werkzeug's
  ProxyFix); none by default, since a header anyone can send must not choose the address
  that rate limits count.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from typing import Callable

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix

from veille.core.config import Config

LIMITED_ENDPOINTS = frozenset({"search.results", "search.feed", "api.search"})
WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 50_000


class RequestRate:
    """At most `limit` requests per key in `window` seconds; `clock` is injectable for tests."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> int:
        """0 and the request counted when `key` may go on; else the seconds to wait."""
        if self.limit <= 0:
            return 0
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            if len(self._hits) > MAX_ADDRESSES:  # a flood of addresses: forget the idle ones
                for idle in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[idle]
        return 0


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _limit_searches():
    if request.endpoint not in LIMITED_ENDPOINTS or _is_loopback(request.remote_addr):
        return None
    from web.auth import is_staff

    if is_staff():
        return None
    rate: RequestRate = current_app.extensions["veille.search_rate"]
    wait = rate.wait(request.remote_addr or "-")
    if not wait:
        return None
    message = (f"Trop de recherches depuis votre adresse en une minute : réessayez dans {wait} "
               f"seconde{'s' if wait > 1 else ''}.")
    if request.path.startswith("/api/"):
        response = jsonify({"ok": False, "error": message})
    else:
        response = current_app.make_response(render_template("error.html", title="Trop de recherches",
                                                              message=message))
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


def init_app(app: Flask, config: Config) -> None:
    """Trust the configured proxies' headers, and rate-limit anonymous searches."""
    hops = config.web.trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.extensions.setdefault("veille.search_rate", RequestRate(config.web.search_per_minute))
    app.before_request(_limit_searches)
