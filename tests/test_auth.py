"""Staff access: accounts, login, sessions, CSRF, rate limiting and security headers."""

from __future__ import annotations

import re
import stat
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Blueprint, jsonify

from veille.storage.catalog import Catalog
from veille.core.config import load_config
from veille.core.secret_key import load_secret_key
from veille.core.errors import VeilleError
from web import create_app
from veille.storage.users import hash_password
from web.auth import CONTENT_SECURITY_POLICY, csrf_exempt, staff_only, staff_required
from web.throttle import LoginThrottle

PASSWORD = "correct horse battery staple"
EMAIL = "doc@centre.example"


@pytest.fixture
def config(write_config, monkeypatch):
    monkeypatch.delenv("VEILLE_SECRET_KEY", raising=False)
    return load_config(write_config("data_dir: data\nweb: {base_url: 'http://veille.example'}\n"))


def _staff_blueprint() -> Blueprint:
    """Stand-in staff pages of the shape the other blueprints use (a page, a form, JSON)."""
    bp = Blueprint("staffdemo", __name__)

    @bp.get("/equipe/page")
    @staff_required
    def page():
        return "page de l'équipe"

    @bp.post("/equipe/action")
    @staff_required
    def action():
        return "action faite"

    @bp.post("/public/hook")
    @csrf_exempt
    def hook():
        return "reçu"

    whole = Blueprint("staffwhole", __name__)
    whole.before_request(staff_only)

    @whole.get("/equipe/tout")
    def everything():
        return jsonify({"ok": True})

    return bp, whole


@pytest.fixture
def app(config):
    app = create_app(config, {"TESTING": True})
    for bp in _staff_blueprint():
        app.register_blueprint(bp)
    Catalog.open(config.layout).users.add(EMAIL, hash_password(PASSWORD))
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def token_of(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, email=EMAIL, password=PASSWORD, next_url=None):
    data = {"csrf_token": token_of(client), "email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


# ---------------------------------------------------------------- secret key


def test_secret_key_file_is_created_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("VEILLE_SECRET_KEY", raising=False)
    path = tmp_path / "data" / "secret_key"
    key = load_secret_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 32 and load_secret_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary left


def test_secret_key_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("VEILLE_SECRET_KEY", "k" * 40)
    assert load_secret_key(tmp_path / "secret_key") == "k" * 40
    assert not (tmp_path / "secret_key").exists()
    monkeypatch.setenv("VEILLE_SECRET_KEY", "short")
    with pytest.raises(VeilleError, match="trop courte"):
        load_secret_key(tmp_path / "secret_key")


def test_secret_key_readable_by_others_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("VEILLE_SECRET_KEY", raising=False)
    load_secret_key(tmp_path / "secret_key")
    (tmp_path / "secret_key").chmod(0o644)
    with pytest.raises(VeilleError, match="chmod 600"):
        load_secret_key(tmp_path / "secret_key")


def test_app_signs_sessions_with_the_data_dir_key(config):
    app = create_app(config, {"TESTING": True})
    assert app.secret_key == (config.data_dir / "secret_key").read_text().strip()


# ---------------------------------------------------------------- accounts (CLI)


def test_user_add_list_reset_remove(write_config, run_cli, tmp_path):
    path = write_config("data_dir: data\n")
    env = {"VEILLE_SECRET_KEY": ""}
    add = run_cli("--config", str(path), "user", "add", "Doc@Centre.Example", "--password-stdin",
                  input=PASSWORD + "\n", env=env)
    assert add.returncode == 0, add.stderr
    user = Catalog.open(load_config(path).layout).users.get("doc@centre.example")
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash

    again = run_cli("--config", str(path), "user", "add", EMAIL, "--password-stdin", input=PASSWORD + "\n")
    assert again.returncode == 1 and "a déjà un compte" in again.stderr

    weak = run_cli("--config", str(path), "user", "add", "b@c.fr", "--password-stdin", input="court\n")
    assert weak.returncode == 1 and "au moins 12 caractères" in weak.stderr

    reset = run_cli("--config", str(path), "user", "add", EMAIL, "--reset", "--password-stdin",
                    input="another long passphrase\n")
    assert reset.returncode == 0, reset.stderr
    changed = Catalog.open(load_config(path).layout).users.get(EMAIL)
    assert changed.password_hash != user.password_hash

    listed = run_cli("--config", str(path), "user", "list")
    assert listed.returncode == 0 and listed.stdout.startswith(EMAIL + "\t")

    removed = run_cli("--config", str(path), "user", "remove", EMAIL)
    assert removed.returncode == 0 and Catalog.open(load_config(path).layout).users.all() == []
    gone = run_cli("--config", str(path), "user", "remove", EMAIL)
    assert gone.returncode == 1 and "aucun compte de l'équipe" in gone.stderr


def test_user_add_rejects_a_non_address(write_config, run_cli):
    path = write_config("data_dir: data\n")
    result = run_cli("--config", str(path), "user", "add", "nobody", "--password-stdin", input=PASSWORD + "\n")
    assert result.returncode == 1 and "adresse e-mail invalide : « nobody »" in result.stderr


# ---------------------------------------------------------------- login and sessions


def test_staff_pages_send_anonymous_visitors_to_login(client):
    response = client.get("/equipe/page?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/equipe/page?x%3D1") \
        or response.headers["Location"].startswith("/login?next=%2Fequipe%2Fpage")
    assert client.get("/equipe/tout").status_code == 302
    api = client.get("/equipe/tout", headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.json == {"ok": False, "error": "Connexion requise."}


def test_login_opens_staff_pages_and_logout_closes_them(client):
    response = login(client, next_url="/equipe/page")
    assert response.status_code == 302 and response.headers["Location"] == "/equipe/page"
    page = client.get("/equipe/page")
    assert page.status_code == 200 and "page de l'équipe" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"
    assert client.get("/equipe/tout").json == {"ok": True}

    assert client.post("/logout").status_code == 400  # logout needs the CSRF token too
    with client.session_transaction() as sess:
        token = sess["csrf_token"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/equipe/page").status_code == 302


def test_wrong_password_and_unknown_account_get_the_same_answer(client):
    wrong = login(client, password="not the password")
    unknown = login(client, email="nobody@centre.example")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Adresse ou mot de passe incorrect." in response.get_data(as_text=True)
    assert client.get("/equipe/page").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "", "équipe"])
def test_login_never_redirects_off_site(client, target):
    response = login(client, next_url=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_removed_account_or_changed_password_ends_sessions(app, client, config):
    login(client)
    assert client.get("/equipe/page").status_code == 200
    catalog = Catalog.open(config.layout)
    catalog.users.set_password(EMAIL, hash_password("a brand new passphrase"))
    assert client.get("/equipe/page").status_code == 302

    login(client, password="a brand new passphrase")
    assert client.get("/equipe/page").status_code == 200
    catalog.users.remove(EMAIL)
    assert client.get("/equipe/page").status_code == 302


def test_login_starts_a_new_session(client):
    client.get("/login")
    with client.session_transaction() as sess:
        before = sess["csrf_token"]
        sess["planted"] = "by an attacker"
    login(client)
    with client.session_transaction() as sess:
        assert sess["csrf_token"] != before
        assert "planted" not in sess and sess["staff"] == EMAIL


def _cookie_attributes(response) -> dict[str, str]:
    header = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("veille_session="))
    cookie = SimpleCookie()
    cookie.load(header)
    morsel = cookie["veille_session"]
    return {"httponly": morsel["httponly"], "samesite": morsel["samesite"], "secure": morsel["secure"],
            "raw": header}


def test_session_cookie_is_httponly_lax_and_not_secure_on_http(client):
    attributes = _cookie_attributes(login(client))
    assert attributes["httponly"] is True and attributes["samesite"] == "Lax"
    assert not attributes["secure"]


def test_session_cookie_is_secure_when_served_over_https(write_config, monkeypatch):
    monkeypatch.delenv("VEILLE_SECRET_KEY", raising=False)
    config = load_config(write_config("data_dir: data\nweb: {base_url: 'https://veille.example'}\n"))
    app = create_app(config, {"TESTING": True})
    Catalog.open(config.layout).users.add(EMAIL, hash_password(PASSWORD))
    client = app.test_client()
    response = login(client)
    assert _cookie_attributes(response)["secure"] is True
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


# ---------------------------------------------------------------- rate limiting


def test_login_is_throttled_after_repeated_failures(app, client):
    now = [1000.0]
    app.state.login_throttle = LoginThrottle(limit=5, window=900, clock=lambda: now[0])
    for _ in range(5):
        assert login(client, password="guess guess guess").status_code == 401
    blocked = login(client)  # even the right password waits
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)
    assert 0 < int(blocked.headers["Retry-After"]) <= 900
    assert client.get("/equipe/page").status_code == 302
    now[0] += 901
    assert login(client).status_code == 302
    assert client.get("/equipe/page").status_code == 200


def test_throttle_counts_per_address_and_per_account():
    now = [0.0]
    throttle = LoginThrottle(limit=2, window=60, clock=lambda: now[0])
    throttle.failed("ip:1", "user:a")
    throttle.failed("ip:2", "user:a")
    assert throttle.retry_after("ip:3", "user:a") == 60  # the account is shielded from any address
    assert throttle.retry_after("ip:1", "user:b") == 0
    throttle.succeeded("ip:1", "user:a")
    assert throttle.retry_after("ip:2", "user:a") == 0


# ---------------------------------------------------------------- CSRF


def test_forms_without_the_token_are_refused(client):
    login(client)
    refused = client.post("/equipe/action")
    assert refused.status_code == 400
    assert "Le formulaire a expiré" in refused.get_data(as_text=True)
    assert client.post("/equipe/action", data={"csrf_token": "forged"}).status_code == 400
    with client.session_transaction() as sess:
        token = sess["csrf_token"]
    assert client.post("/equipe/action", data={"csrf_token": token}).status_code == 200
    assert client.post("/equipe/action", headers={"X-CSRF-Token": token}).status_code == 200


def test_cross_site_origin_is_refused_even_with_a_token(client):
    login(client)
    with client.session_transaction() as sess:
        token = sess["csrf_token"]
    headers = {"Origin": "https://evil.example"}
    assert client.post("/equipe/action", data={"csrf_token": token}, headers=headers).status_code == 400
    same = {"Origin": "http://veille.example"}
    assert client.post("/equipe/action", data={"csrf_token": token}, headers=same).status_code == 200


def test_login_form_itself_needs_the_token(client):
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/equipe/page").status_code == 302


def test_exempt_view_accepts_foreign_posts(client):
    assert client.post("/public/hook", headers={"Origin": "https://mail.example"}).status_code == 200


def test_api_posts_get_a_json_refusal(client):
    response = client.post("/api/anything", json={})
    assert response.status_code == 400 and response.json["ok"] is False


# ---------------------------------------------------------------- headers and templates


@pytest.mark.parametrize("path", ["/", "/login", "/no/such/page", "/static/style.css"])
def test_every_response_carries_security_headers(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


WEB_TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script> (move it to web/static/*.js)"),
    (re.compile(r"<style\b", re.I), "<style> element (move it to web/static/style.css)"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute (use a class in web/static/style.css)"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on*= event handler (attach it from a static script)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_hold_no_inline_code_the_csp_would_block():
    """The CSP forbids inline scripts and styles: a template using them would break silently."""
    problems = []
    for template in sorted(WEB_TEMPLATES.rglob("*.html")):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            for pattern, what in INLINE:
                if pattern.search(line):
                    problems.append(f"{template.relative_to(WEB_TEMPLATES)}:{number}: {what}")
    assert not problems, "\n".join(problems)


def test_forms_in_templates_carry_the_csrf_token():
    problems = []
    for template in sorted(WEB_TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for form in re.finditer(r"<form\b[^>]*>.*?</form>", text, re.S | re.I):
            if re.search(r'method\s*=\s*"post"', form.group(0), re.I) and "csrf_token()" not in form.group(0):
                problems.append(f"{template.name}: a POST form without csrf_token()")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- hardening


def test_logout_ends_the_session_for_every_copy_of_its_cookie(app, client):
    assert login(client).status_code == 302
    copy = app.test_client()
    cookie = client.get_cookie("veille_session")
    copy.set_cookie("veille_session", cookie.value)
    assert copy.get("/equipe/page").status_code == 200          # a stolen copy works... until
    with client.session_transaction() as session:
        csrf = session["csrf_token"]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/equipe/page").status_code == 302
    assert copy.get("/equipe/page").status_code == 302          # ...the owner logs out
    other = app.test_client()                                  # another session of the account
    assert login(other).status_code == 302 and other.get("/equipe/page").status_code == 200


def test_a_session_is_bounded_by_its_lifetime_server_side(config):
    from datetime import datetime, timedelta, timezone

    users = Catalog.open(config.layout).users
    users.add("a@centre.example", "hash")
    start = datetime(2026, 1, 5, 8, tzinfo=timezone.utc)
    token = users.open_session("a@centre.example", timedelta(hours=8), when=start)
    assert users.session_email(token, timedelta(hours=8), when=start + timedelta(hours=7)) == "a@centre.example"
    assert users.session_email(token, timedelta(hours=8), when=start + timedelta(hours=9)) is None
    assert users.session_email("forged", timedelta(hours=8), when=start) is None
    users.set_password("a@centre.example", "other hash")      # a new password closes sessions
    assert users.session_email(token, timedelta(hours=8), when=start) is None


def test_behind_one_trusted_proxy_each_client_has_its_own_address(write_config, monkeypatch):
    monkeypatch.delenv("VEILLE_SECRET_KEY", raising=False)
    for hops, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        config = load_config(write_config(f"data_dir: data\nweb: {{trusted_proxies: {hops}}}\n"))
        app = create_app(config, {"TESTING": True})

        @app.get("/adresse")
        def address():
            from flask import request

            return request.remote_addr

        forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        assert app.test_client().get("/adresse", headers=forwarded).get_data(as_text=True) == expected


def test_five_typos_of_one_member_do_not_lock_the_team_out(app, client):
    Catalog.open(app.state.config.layout).users.add("autre@centre.example", hash_password(PASSWORD))
    for _ in range(5):   # every client comes from the proxy's address
        assert login(client, password="faute de frappe").status_code == 401
    assert login(client).status_code == 429                       # this account waits
    colleague = app.test_client()
    assert login(colleague, email="autre@centre.example").status_code == 302


def test_the_address_limit_still_stops_a_guesser_trying_many_accounts():
    throttle = LoginThrottle(limit=5, address_limit=20, clock=lambda: 0.0)
    for n in range(20):
        assert throttle.retry_after("ip:1", f"user:{n}") == 0
        throttle.failed("ip:1", f"user:{n}")
    assert throttle.retry_after("ip:1", "user:nouveau") > 0
    assert throttle.retry_after("ip:2", "user:nouveau") == 0


def test_a_password_typed_as_the_address_is_never_logged(client, caplog):
    with caplog.at_level("INFO", logger="veille.web.auth"):
        response = login(client, email="monMotDePasse!2026", password="x")
    assert response.status_code == 401
    assert "monMotDePasse" not in caplog.text and "monMotDePasse" not in response.get_data(as_text=True)
    assert "adresse invalide" in caplog.text


@pytest.mark.parametrize("address", ["x@y.z>", "doc@centre", "a b@c.fr", "doc@centre.example\r\nBcc: x@y.fr"])
def test_the_login_form_refuses_what_is_not_an_address(client, address):
    assert login(client, email=address).status_code == 401
