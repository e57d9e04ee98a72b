"""The Flask front end: `create_app(config)` wires the blueprints to one DocumentSpace."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from veille.core.config import Config, load_config
from veille.core.dates import french_date, french_datetime
from web import present


def create_app(config: Config | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app for `config` (default: the configuration file of the CLI)."""
    config = config or load_config()
    app = Flask(__name__)
    app.config.update(VEILLE=config, JSON_AS_ASCII=False)
    app.json.ensure_ascii = False
    if test_config:
        app.config.update(test_config)
    app.extensions["veille.space_lock"] = threading.Lock()

    tz = config.tz
    app.add_template_filter(lambda value: french_date(value, tz), "french_date")
    app.add_template_filter(lambda value: french_datetime(value, tz), "french_datetime")

    from web import alerts, api, auth, documents, health, library, limits, search, sources

    limits.init_app(app, config)
    auth.init_app(app, config)
    present.install(app)

    app.register_blueprint(search.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(library.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(alerts.public)
    app.register_blueprint(health.bp)

    @app.errorhandler(404)
    def not_found(error):
        return _error_response(404, "Page introuvable", "Cette adresse ne correspond à aucune page.")

    @app.errorhandler(HTTPException)
    def http_error(error):
        # 400, 405, 413...: the API answers JSON, pages answer the French error page.
        code = error.code or 500
        return _error_response(code, HTTP_TITLES.get(code, "Erreur"),
                               HTTP_MESSAGES.get(code, "La requête n'a pas pu aboutir."))

    @app.errorhandler(500)
    def server_error(error):
        return _error_response(500, "Erreur interne",
                               "Le service a rencontré une erreur ; elle a été consignée.")

    @app.teardown_appcontext
    def _teardown(exc):
        return None

    return app


HTTP_TITLES = {400: "Requête invalide", 403: "Accès réservé", 405: "Méthode non acceptée",
               429: "Trop de requêtes"}
HTTP_MESSAGES = {
    400: "La requête est incomplète ou mal formée.",
    403: "Cette page est réservée à l'équipe du centre.",
    405: "Cette méthode n'est pas acceptée à cette adresse.",
}


def _error_response(status: int, title: str, message: str):
    if request.path.startswith("/api/"):
        return jsonify({"ok": False, "error": message}), status
    return render_template("error.html", title=title, message=message), status


def veille_config() -> Config:
    return current_app.config["VEILLE"]


def _shared(name: str, factory):
    """One instance per app of `factory()`, created on first use by whichever thread asks."""
    key = f"veille.{name}"
    value = current_app.extensions.get(key)
    if value is None:
        with current_app.extensions["veille.space_lock"]:
            value = current_app.extensions.get(key)
            if value is None:
                value = current_app.extensions[key] = factory()
    return value


def get_space():
    """The app's DocumentSpace, opened once and shared by every request thread."""
    from indexer.search.space import DocumentSpace

    return _shared("space", lambda: DocumentSpace(veille_config()))


def get_catalog():
    """The app's catalog (alerts, digest archive, run log, library); SQLite connections per thread."""
    from veille.storage.catalog import Catalog

    return _shared("catalog", lambda: Catalog.open(veille_config().layout))
