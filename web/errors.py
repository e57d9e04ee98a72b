"""One error path for the web: whatever a view raises becomes the French error page, or
`{"ok": false, "error": ...}` for the JSON API, with the right status.

- an HTTP error (404, 405, 413 ...; `WebError` for one with its own French message);
- a `VeilleError`: 503 with its one French line (logged as a warning, no traceback);
- a storage failure (full or read-only disk): 503 saying so, in French;
- anything else: logged with its traceback, answered with a French 500 that says no more.

Views raise; they never build an error response themselves.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from veille.core.errors import VeilleError, storage_error_message
from web.state import app_state

log = logging.getLogger("veille.web")

TITLES = {
    400: "Requête invalide",
    401: "Connexion requise",
    403: "Accès réservé",
    404: "Page introuvable",
    405: "Méthode non acceptée",
    413: "Envoi trop volumineux",
    429: "Trop de requêtes",
    500: "Erreur interne",
    503: "Service indisponible",
}
MESSAGES = {
    400: "La requête est incomplète ou mal formée.",
    401: "Connexion requise.",
    403: "Cette page est réservée à l'équipe du centre.",
    404: "Cette adresse ne correspond à aucune page.",
    405: "Cette méthode n'est pas acceptée à cette adresse.",
    413: "Ce qui a été envoyé dépasse la taille acceptée : envoyez moins de fichiers à la fois, "
         "ou de plus petits.",
    429: "Trop de requêtes : réessayez dans quelques minutes.",
    500: "Le service a rencontré une erreur ; elle a été consignée.",
}
DEFAULT_MESSAGE = "La requête n'a pas pu aboutir."


class WebError(HTTPException):
    """An HTTP error with its own French message (and page title, and headers such as
    `Retry-After`): `raise WebError(400, ...)`."""

    def __init__(self, code: int, message: str, title: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(description=message)
        self.code = code
        self.title = title
        self.headers = dict(headers or {})


def wants_json() -> bool:
    """The API answers JSON; so does a request that sent JSON or accepts nothing else."""
    return (request.path.startswith("/api/") or request.is_json
            or request.accept_mimetypes.best == "application/json")


def error_response(status: int, message: str, title: str | None = None, headers: dict[str, str] | None = None):
    if wants_json():
        return jsonify({"ok": False, "error": message}), status, headers or {}
    return _error_page(title or TITLES.get(status, "Erreur"), message), status, headers or {}


def _error_page(title: str, message: str) -> str:
    try:
        return render_template("error.html", title=title, message=message)
    except Exception:
        # the page's frame asks who is logged in, which needs the catalog: when that is what
        # failed, the page is shown as to a visitor, and as bare HTML if even that fails
        g.staff = None
        try:
            return render_template("error.html", title=title, message=message)
        except Exception:
            log.exception("la page d'erreur n'a pas pu être affichée")
            return (f'<!doctype html><html lang="fr"><meta charset="utf-8"><title>{escape(title)}</title>'
                    f"<h1>{escape(title)}</h1><p>{escape(message)}</p></html>")


def handle_error(error: Exception):
    """The app's one error handler (registered for every exception)."""
    if isinstance(error, HTTPException):
        if error.response is not None:   # abort(response): the view chose the whole answer
            return error.response
        status = error.code or 500
        if isinstance(error, WebError):
            return error_response(status, error.description, error.title, error.headers)
        return error_response(status, MESSAGES.get(status, DEFAULT_MESSAGE))
    if isinstance(error, VeilleError):
        log.warning("%s %s : %s", request.method, request.path, error)
        return error_response(503, f"Le service ne peut pas répondre pour le moment : {_sentence(error)}")
    storage = storage_error_message(error, app_state().config.data_dir)
    if storage:
        log.error("%s %s : %s", request.method, request.path, storage)
        return error_response(503, f"Le service ne peut pas enregistrer pour le moment : {_sentence(storage)} "
                                   "Rien n'a été perdu ; l'équipe du centre est prévenue.")
    log.error("%s %s : erreur inattendue", request.method, request.path, exc_info=error)
    return error_response(500, MESSAGES[500])


def _sentence(text) -> str:
    text = str(text).strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def install(app: Flask) -> None:
    app.register_error_handler(Exception, handle_error)
