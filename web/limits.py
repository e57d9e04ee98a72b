"""How often an anonymous client may search, and which client address to believe.

- Each address's searches (result pages, the JSON API, Atom feeds) are counted in a sliding
  minute (`web.throttle.RequestRate`, the app state's `search_rate`); past
  `web.search_per_minute`, the client gets a 429 with a French message and `Retry-After`.
  Staff are not limited, nor loopback clients: the machine itself, or a reverse proxy not
  declared in `web.trusted_proxies`, whose limit would be every visitor's at once. Kept in
  memory, per process; with several web processes each allows its share
  (`veille.ops.serve.worker_app`).
- Each address may ask for `SUBSCRIPTIONS_PER_HOUR` subscriptions an hour (each sends a
  confirmation e-mail to the address typed), then gets a 429 too.
- Behind a reverse proxy every request comes from the proxy: `web.trusted_proxies` says
  how many proxies' `X-Forwarded-For` / `X-Forwarded-Proto` to believe (werkzeug's
  ProxyFix); none by default, since a header anyone can send must not choose the address
  that rate limits count.
"""

from __future__ import annotations

import ipaddress

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from veille.core.config import Config
from web.auth import is_staff
from web.errors import WebError
from web.state import app_state

LIMITED_ENDPOINTS = frozenset({"search.results", "search.feed", "api.search"})
SUBSCRIBING_ENDPOINTS = frozenset({"subscriptions.subscribe", "subscriptions.subscribe_search"})


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _limit_searches() -> None:
    if request.endpoint not in LIMITED_ENDPOINTS or _is_loopback(request.remote_addr) or is_staff():
        return
    wait = app_state().search_rate.wait(request.remote_addr or "-")
    if wait:
        raise WebError(429, f"Trop de recherches depuis votre adresse en une minute : réessayez dans {wait} "
                            f"seconde{'s' if wait > 1 else ''}.",
                       title="Trop de recherches", headers={"Retry-After": str(wait)})


def _limit_subscriptions() -> None:
    if (request.method != "POST" or request.endpoint not in SUBSCRIBING_ENDPOINTS
            or _is_loopback(request.remote_addr) or is_staff()):
        return
    wait = app_state().subscribe_rate.wait(request.remote_addr or "-")
    if wait:
        minutes = -(-wait // 60)
        raise WebError(429, "Trop de demandes d'abonnement depuis votre adresse : réessayez dans "
                            f"{minutes} minute{'s' if minutes > 1 else ''}.",
                       title="Trop de demandes", headers={"Retry-After": str(wait)})


def init_app(app: Flask, config: Config) -> None:
    """Trust the configured proxies' headers, and rate-limit anonymous searches and
    subscription requests."""
    hops = config.web.trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.before_request(_limit_searches)
    app.before_request(_limit_subscriptions)
