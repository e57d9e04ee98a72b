"""Staff access, and the protections every response gets.

- Staff accounts live in the catalog (`veille user add EMAIL`), passwords hashed with scrypt
  (`veille.storage.users`). The session cookie is signed with the key from `load_secret_key`,
  HttpOnly, SameSite=Lax, and Secure when the public address is https.
- `staff_required` guards a view; `bp.before_request(staff_only)` guards a whole blueprint.
- Sessions are held server-side (`veille.storage.users`): the cookie carries a random id,
  and logging out deletes it, so a copy of the cookie taken before stops working too.
- Logins are rate limited per account (5 failures) and per client address (20: an office
  behind one address, or a proxy not declared in `web.trusted_proxies`, must not lock the
  whole team out after five typos) (`web.throttle.LoginThrottle`).
- CSRF: every unsafe request (POST, PUT, PATCH, DELETE) must carry the session's random
  token, in the `csrf_token` form field or the `X-CSRF-Token` header; templates get it from
  `csrf_token()`. This is the synchronizer-token pattern of Flask-WTF's CSRFProtect in forty
  lines, without pulling in WTForms for forms we do not otherwise need; a cross-site
  `Origin` is refused too. `csrf_exempt` marks the rare view that must accept foreign posts
  (one-click unsubscribe from a mail client, RFC 8058).
- Security headers (CSP without inline code, nosniff, frame-ancestors 'none', ...) on every
  response, unless a view set its own.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session, url_for

from veille.core.config import Config
from veille.core.emails import email_problem
from veille.core.secret_key import load_secret_key
from veille.storage.users import StaffUser, normalize_email
from web.errors import WebError, wants_json
from web.state import app_state, get_catalog, veille_config

log = logging.getLogger("veille.web.auth")

bp = Blueprint("auth", __name__)

SESSION_LIFETIME = timedelta(hours=8)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


# ---------------------------------------------------------------- sessions


def _password_stamp(user: StaffUser) -> str:
    """Stored in the session: a password change (or account removal) ends open sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- CSRF


def csrf_token() -> str:
    """The session's CSRF token (created on first use); put it in every form."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def csrf_exempt(view: Callable) -> Callable:
    view.csrf_exempt = True
    return view


def _csrf_problem() -> str | None:
    """Why the current unsafe request must be refused, or None."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and not _same_origin(origin):
        return f"origine d'un autre site : {origin}"
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected:
        return "pas de jeton CSRF dans la session"
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        return "jeton CSRF absent ou faux"
    return None


def _same_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    base = urlsplit(veille_config().web.base_url)
    return parts.netloc == request.host or (parts.scheme, parts.netloc) == (base.scheme, base.netloc)


def _check_csrf():
    if request.method in SAFE_METHODS:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "csrf_exempt", False):
        return None
    problem = _csrf_problem()
    if problem is None:
        return None
    log.warning("%s %s refusé (client %s) : %s", request.method, request.path, request.remote_addr, problem)
    raise WebError(400, "Le formulaire a expiré ou ne vient pas de ce site ; rechargez la page et recommencez.",
                   title="Formulaire refusé")


# ---------------------------------------------------------------- current staff member


def current_staff() -> StaffUser | None:
    """The logged-in staff member of this request, or None."""
    if "staff" not in g:
        g.staff = None
        email = session.get("staff")
        if email:
            users = get_catalog().users
            user = users.get(email)
            token = session.get("sid", "")
            if (user is not None and hmac.compare_digest(session.get("stamp", ""), _password_stamp(user))
                    and token and users.session_email(token, SESSION_LIFETIME) == email):
                g.staff = user
            else:  # logged out, removed account or changed password: the session ends here
                for key in ("staff", "stamp", "sid"):
                    session.pop(key, None)
    return g.staff


def is_staff() -> bool:
    """Whether this request's reader may see internal documents."""
    return current_staff() is not None


def _login_redirect():
    if wants_json():
        raise WebError(401, "Connexion requise.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def staff_only():
    """A `before_request` hook: `bp.before_request(staff_only)` guards a whole blueprint."""
    if current_staff() is None:
        return _login_redirect()
    return None


def staff_required(view: Callable) -> Callable:
    """Decorator for a view only staff may see; others are sent to the login page."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if current_staff() is None:
            return _login_redirect()
        return view(*args, **kwargs)

    return guarded


def _safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("search.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("search.home")
    return target


# ---------------------------------------------------------------- pages


@bp.route("/login", methods=["GET", "POST"])
def login():
    throttle = app_state().login_throttle
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(target)
        return render_template("login.html", next=target, email="")
    email = normalize_email(request.form.get("email", ""))[:254]
    password = request.form.get("password", "")[:1024]
    valid = email_problem(email) is None
    # what was typed is logged only when it is an address: a password typed in the wrong
    # field must not land in the journal
    shown = email if valid else "(adresse invalide)"
    keys = (f"ip:{request.remote_addr}", f"user:{email}")
    wait = throttle.retry_after(*keys)
    if wait:
        log.warning("connexion de %s depuis %s bloquée (trop d'échecs)", shown, request.remote_addr)
        minutes = max(1, -(-wait // 60))
        message = f"Trop de tentatives de connexion. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."
        response = current_app.make_response(
            (render_template("login.html", next=target, email=email, error=message), 429))
        response.headers["Retry-After"] = str(wait)
        return response
    user = get_catalog().users.authenticate(email, password) if valid and password else None
    if user is None:
        throttle.failed(*keys)
        log.warning("échec de connexion de %s depuis %s", shown, request.remote_addr)
        return render_template("login.html", next=target, email=email if valid else "",
                               error="Adresse ou mot de passe incorrect."), 401
    throttle.succeeded(*keys)
    session.clear()  # a fresh session (and CSRF token): no fixation across the login
    session.permanent = True
    session["staff"] = user.email
    session["stamp"] = _password_stamp(user)
    session["sid"] = get_catalog().users.open_session(user.email, SESSION_LIFETIME)
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    get_catalog().users.record_login(user.email)
    log.info("connexion de %s depuis %s", user.email, request.remote_addr)
    return redirect(target)


@bp.post("/logout")
def logout():
    email = session.get("staff")
    token = session.get("sid")
    if token:
        get_catalog().users.end_session(token)   # every copy of this cookie ends with it
    session.clear()
    if email:
        log.info("déconnexion de %s", email)
    return redirect(url_for("search.home"))


# ---------------------------------------------------------------- wiring


def init_app(app: Flask, config: Config) -> None:
    """Secret key, cookie settings, CSRF check, security headers and the auth pages."""
    secure = config.web.base_url.startswith("https://")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(config.layout.secret_key)
    app.config.update(
        SESSION_COOKIE_NAME="veille_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.jinja_env.globals.update(csrf_token=csrf_token, current_staff=current_staff)
    app.before_request(_check_csrf)

    @app.after_request
    def _security_headers(response):
        own_policy = response.headers.get("Content-Security-Policy", "")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if "frame-ancestors 'self'" in own_policy:  # a view framed by our own pages
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        if secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if g.get("staff") is not None or request.endpoint == "auth.login":
            # staff pages hold what the public must not see: never from a shared cache
            response.headers["Cache-Control"] = "private, no-store"
        return response

    app.register_blueprint(bp)
