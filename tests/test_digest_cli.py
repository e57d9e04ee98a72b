"""`veille digest --preview` and `--send` as a user runs them, against aiosmtpd on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from veille.storage.catalog import Catalog
from veille.core.records import KIND_NEWS, Document
from veille.core.config import load_config


def test_preview_then_send_then_nothing_twice(write_config, smtp_server, digest_matcher, run_cli, tmp_path):
    host, port, recorder = smtp_server
    path = write_config(f"""
        data_dir: data
        alerts:
          - {{name: Rénovation urbaine, query: rénovation, recipients: [doc@example.org]}}
        digest: {{from: veille@example.org, smtp: {{host: {host}, port: {port}}}}}
        """)
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    catalog.documents.put(Document(id="d1", title="Rénovation à Sainte-Marie", source="s", kind=KIND_NEWS,
                         first_seen=datetime.now(timezone.utc) - timedelta(days=1)))
    digest_matcher(config, catalog)            # indexes the catalog

    out = tmp_path / "apercu.html"
    done = run_cli("--config", str(path), "digest", "--preview", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "doc@example.org : 1 document(s) ->" in done.stdout
    assert "Rénovation à Sainte-Marie" in out.read_text(encoding="utf-8")
    assert recorder.envelopes == [] and catalog.digests.latest() == []      # a preview sends and records nothing

    done = run_cli("--config", str(path), "digest", "--send")
    assert done.returncode == 0, done.stderr
    assert "1 courriel(s) d'alertes envoyé(s), 0 en échec" in done.stdout
    assert len(recorder.envelopes) == 1
    done = run_cli("--config", str(path), "digest", "--send")
    assert "0 courriel(s) d'alertes envoyé(s)" in done.stdout and len(recorder.envelopes) == 1


def test_send_failure_is_one_line_and_exit_1(write_config, digest_matcher, run_cli):
    from tests.conftest import free_port

    path = write_config(f"""
        data_dir: data
        alerts:
          - {{name: Eau, query: eau, recipients: [doc@example.org]}}
        digest: {{send_empty: true, smtp: {{host: 127.0.0.1, port: {free_port()}}}}}
        """)
    done = run_cli("--config", str(path), "digest", "--send")
    assert done.returncode == 1
    assert "veille : courriel d'alertes à doc@example.org non envoyé : envoi impossible par 127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_path_like_address_stays_a_file_name_beside_the_preview(write_config, digest_matcher, run_cli, tmp_path):
    path = write_config("""
        data_dir: data
        alerts:
          - {name: Rénovation, query: rénovation, recipients: [doc@example.org, "a/b@exemple.fr", "x@y.z>"]}
        """)
    refused = run_cli("--config", str(path), "check")
    assert refused.returncode == 1 and "adresse e-mail invalide : « x@y.z> »" in refused.stderr
    path.write_text(path.read_text(encoding="utf-8").replace(', "x@y.z>"', ""), encoding="utf-8")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    catalog.documents.put(Document(id="d1", title="Rénovation à Sainte-Marie", source="s", kind=KIND_NEWS,
                         first_seen=datetime.now(timezone.utc) - timedelta(days=1)))
    digest_matcher(config, catalog)
    (tmp_path / "apercus").mkdir()
    done = run_cli("--config", str(path), "digest", "--preview", "--out", str(tmp_path / "apercus" / "lettre.html"))
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / "apercus").iterdir())
    assert written == ["lettre-a_b@exemple.fr.html", "lettre-doc@example.org.html"]
