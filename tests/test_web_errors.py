"""One error path for the web: every failure answers the French error page, or JSON
`{"ok": false, "error": ...}` under /api/, with the right status. The app's state is closed
by `app.close()`."""

from __future__ import annotations

import logging
import sqlite3
import threading

import pytest
from bs4 import BeautifulSoup

from veille.storage.migrations import CURRENT_VERSION
from web import create_app


def page(response) -> tuple[str, str]:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return soup.h1.get_text(), soup.main.get_text(" ", strip=True) if soup.main else soup.get_text(" ", strip=True)


@pytest.fixture
def app(web_config):
    app = create_app(web_config, {"TESTING": True})

    @app.get("/essai/inattendue")
    def unexpected():
        raise RuntimeError("une erreur de programmation")

    @app.get("/api/essai/inattendue")
    def unexpected_api():
        raise RuntimeError("une erreur de programmation")

    @app.get("/essai/disque")
    def read_only_write():
        # a real SQLite refusal: writing through a read-only connection
        db = sqlite3.connect(f"file:{web_config.layout.catalog}?mode=ro", uri=True)
        try:
            db.execute("INSERT INTO secrets (name, value) VALUES ('x', 'y')")
        finally:
            db.close()

    yield app
    app.close()


def test_http_errors_are_french_pages_and_json_under_the_api(app):
    client = app.test_client()
    missing = client.get("/pas/de/page")
    assert missing.status_code == 404 and page(missing)[0] == "Page introuvable"
    wrong_method = client.open("/", method="TRACE")    # a safe method: no CSRF check first
    assert wrong_method.status_code == 405 and page(wrong_method)[0] == "Méthode non acceptée"
    refused = client.post("/login", data={"email": "a@b.fr"})   # no CSRF token
    assert refused.status_code == 400 and page(refused)[0] == "Formulaire refusé"
    assert "Le formulaire a expiré" in page(refused)[1]
    assert client.get("/api/rien").json == {"ok": False, "error": "Cette adresse ne correspond à aucune page."}
    bad = client.get("/api/search?page=0")
    assert bad.status_code == 400 and bad.json["ok"] is False and "page" in bad.json["error"]


def test_an_unexpected_error_is_logged_with_its_traceback_and_answered_500(app, caplog):
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="veille.web"):
        response = client.get("/essai/inattendue")
        api = client.get("/api/essai/inattendue")
    assert response.status_code == 500
    title, text = page(response)
    assert title == "Erreur interne" and "elle a été consignée" in text
    assert "programmation" not in response.get_data(as_text=True)        # nothing of the cause
    assert api.status_code == 500 and api.json == {
        "ok": False, "error": "Le service a rencontré une erreur ; elle a été consignée."}
    logged = [r for r in caplog.records if r.name == "veille.web"]
    assert len(logged) == 2 and all(r.exc_info and r.exc_info[0] is RuntimeError for r in logged)


def test_a_storage_failure_says_so_in_french(app, caplog):
    with caplog.at_level(logging.ERROR, logger="veille.web"):
        response = app.test_client().get("/essai/disque")
    assert response.status_code == 503
    title, text = page(response)
    assert title == "Service indisponible"
    assert "lecture seule" in text and "Rien n'a été perdu" in text
    [record] = [r for r in caplog.records if r.name == "veille.web"]
    assert record.exc_info is None and "lecture seule" in record.getMessage()


def test_a_veille_error_is_its_french_line_with_503(web_config, caplog):
    db = sqlite3.connect(web_config.layout.catalog)
    db.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")   # written by a newer Veille
    db.commit()
    db.close()
    app = create_app(web_config, {"TESTING": True})
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="veille.web"):
        response = client.get("/")
        api = client.get("/api/search?q=ville")
    app.close()
    assert response.status_code == 503
    title, text = page(response)
    assert title == "Service indisponible" and "version plus récente de Veille" in text
    assert api.status_code == 503 and api.json["ok"] is False
    assert "version plus récente de Veille" in api.json["error"]
    assert all(r.exc_info is None for r in caplog.records if r.name == "veille.web")


def test_close_releases_every_threads_connection_and_the_app_reopens(app):
    client = app.test_client()
    assert client.get("/api/search?q=ville").status_code == 200
    opened = []

    def request_in_a_thread():
        with app.test_request_context("/"):
            opened.append(app.state.catalog.db.connection())

    thread = threading.Thread(target=request_in_a_thread)
    thread.start()
    thread.join()
    app.close()
    with pytest.raises(sqlite3.ProgrammingError):
        opened[0].execute("SELECT 1")      # another thread's connection, closed by close()
    assert client.get("/api/search?q=ville").status_code == 200   # opened again on use


def test_a_request_never_leaves_a_transaction_open(app):
    @app.get("/essai/transaction")
    def half_done():
        db = app.state.catalog.db.connection()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO secrets (name, value) VALUES ('moitie', 'x')")
        return "abandonnée en cours"

    client = app.test_client()
    assert client.get("/essai/transaction").status_code == 200
    other = sqlite3.connect(app.state.config.layout.catalog, timeout=1)
    other.execute("BEGIN IMMEDIATE")   # the write lock is free: the request's work was rolled back
    assert other.execute("SELECT COUNT(*) FROM secrets WHERE name = 'moitie'").fetchone()[0] == 0
    other.rollback()
    other.close()
