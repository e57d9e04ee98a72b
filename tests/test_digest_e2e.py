"""The weekly alerts e-mail as its recipient receives it (through aiosmtpd), opened in
Debian's chromium and checked by axe-core, contrast included, as the lettre's is."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.axe_check import axe_violations, describe
from tests.test_web_e2e import browser  # noqa: F401  (the browser fixture)
from veille.core.config import load_config
from veille.core.records import KIND_NEWS, Document
from veille.digest.run import run_digest
from veille.storage.catalog import Catalog

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MONDAY = datetime(2026, 3, 9, 11, 0, tzinfo=timezone.utc)


def test_the_alerts_e_mail_passes_axe(browser, tmp_path, write_config, smtp_server, digest_matcher):  # noqa: F811
    host, port, recorder = smtp_server
    config = load_config(write_config(f"""
        data_dir: data
        alerts:
          - {{name: Rénovation urbaine, query: rénovation, recipients: [doc@example.org]}}
          - {{name: Logement, query: logement, recipients: [doc@example.org]}}
        digest:
          from: Veille <veille@example.org>
          smtp: {{host: {host}, port: {port}}}
        web: {{base_url: "https://veille.example.org"}}
        """))
    catalog = Catalog.open(config.layout)
    for i, title in enumerate(["Rénovation urbaine et logement social", "Rénovation d'un quartier",
                               "Logement des jeunes actifs"]):
        catalog.documents.put(Document(id=f"d{i}", title=title, source="vie-publique", kind=KIND_NEWS,
                                       first_seen=MONDAY - timedelta(days=i + 1), url=f"https://example.org/{i}",
                                       summary="Un résumé de quelques mots pour l'extrait."))
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    catalog.close()
    assert report.count("sent") == 1
    html = recorder.messages()[-1].get_body(("html",)).get_content()
    received = tmp_path / "alertes.html"
    received.write_text(html, encoding="utf-8")
    browser.get(received.as_uri())
    violations = axe_violations(browser)
    assert violations == [], describe(received.as_uri(), violations)
