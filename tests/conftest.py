"""Shared fixtures: configuration files on tmp_path, the shared corpus, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_corpus_dir() -> Path | None:
    """`../shared/corpus` beside the checkout (or $VEILLE_SHARED_CORPUS); None when absent."""
    env = os.environ.get("VEILLE_SHARED_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "corpus")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture
def shared_corpus() -> Path:
    corpus = shared_corpus_dir()
    if corpus is None:
        pytest.skip("../shared/corpus is not beside this checkout")
    return corpus


@pytest.fixture
def write_config(tmp_path):
    """Write a sources.yaml (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "sources.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_cli():
    """Run `python -m veille ARGS` from this checkout; returns CompletedProcess (text)."""

    def run(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120,
            input: str | None = None):
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        return subprocess.run([sys.executable, "-m", "veille", *args], cwd=cwd or ROOT, input=input,
                              env=full_env, capture_output=True, text=True, timeout=timeout)

    return run


class SmtpRecorder:
    """aiosmtpd handler keeping every message it accepts; can refuse the next N messages."""

    def __init__(self):
        self.envelopes = []
        self.refuse_next = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return "451 4.3.0 Temporary failure, try again later"
        self.envelopes.append(envelope)
        return "250 2.0.0 OK"

    def messages(self):
        """The accepted messages, parsed (headers decoded) with the modern email policy."""
        import email
        from email import policy

        return [email.message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd); yields (host, port, recorder)."""
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.hostname, controller.port, recorder
    finally:
        controller.stop()


# ------------------------------------------------------------------ web: staff sessions

STAFF_EMAIL = "equipe@example.org"
STAFF_PASSWORD = "mot de passe de test assez long"


@pytest.fixture
def login_staff():
    """`login_staff(app)` -> a test client logged in through the real login form as a staff
    member (the account is created if needed); it sends the session's CSRF token with every
    request, as the pages' forms do."""
    import re

    def login(app, email: str = STAFF_EMAIL):
        from indexer.catalog import Catalog
        from web.auth import CSRF_FIELD, hash_password

        catalog = Catalog.in_data_dir(app.config["VEILLE"].data_dir)
        if catalog.staff_user(email) is None:
            catalog.add_staff_user(email, hash_password(STAFF_PASSWORD))
        client = app.test_client()
        form = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        response = client.post("/login", data={"csrf_token": token, "email": email,
                                               "password": STAFF_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        with client.session_transaction() as session:
            client.environ_base["HTTP_X_CSRF_TOKEN"] = session[CSRF_FIELD]
        return client

    return login
