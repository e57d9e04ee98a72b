"""The Flask front end: `create_app(config)` wires the blueprints to one `AppState`.

    app = create_app(config)     # app.state: configuration, catalog, search space ...
    ...                          # serve it
    app.close()                  # when the server stops
"""

from __future__ import annotations

from typing import Any

from veille.core.config import Config, load_config
from veille.core.dates import calendar_date, french_date, french_datetime
from web import (alerts, api, auth, documents, errors, exports, health, lettre, lettres, library, limits,
                 notice, present, search, sources, subscriptions, upload)
from web.state import AppState, VeilleApp

MAX_REQUEST_BYTES = 4 * 1024 * 1024     # a form's body; the upload page allows its files (web.upload)


def create_app(config: Config | None = None, test_config: dict[str, Any] | None = None) -> VeilleApp:
    """Build the app for `config` (default: the configuration file of the CLI)."""
    config = config or load_config()
    app = VeilleApp(__name__)
    app.state = AppState(config)
    app.config.update(JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    app.json.ensure_ascii = False
    if test_config:
        app.config.update(test_config)

    tz = config.tz
    app.add_template_filter(lambda value: french_date(value, tz), "french_date")
    app.add_template_filter(lambda value: french_datetime(value, tz), "french_datetime")
    # a date a source stated (publication) is never moved into the centre's time zone
    app.add_template_filter(lambda value: calendar_date(value) if value else None, "calendar_date")
    app.add_template_filter(lambda doc: doc.day(tz), "day_of")

    limits.init_app(app, config)
    auth.init_app(app, config)
    present.install(app)
    errors.install(app)

    app.register_blueprint(search.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(notice.bp)
    app.register_blueprint(library.bp)
    app.register_blueprint(upload.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(alerts.public)
    app.register_blueprint(lettre.bp)
    app.register_blueprint(lettres.bp)
    app.register_blueprint(subscriptions.bp)
    app.register_blueprint(health.bp)

    @app.teardown_appcontext
    def _release_request(exc):
        app.state.release_request()

    return app
