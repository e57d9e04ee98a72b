"""Immediate alerts, delivered to a real SMTP server (aiosmtpd on 127.0.0.1): one e-mail per
recipient and source right after a crawl, at most one an hour, kept out of the weekly
digest, with the digest's exactly-once guarantees."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import FIXTURES
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from veille.core.records import KIND_NEWS, Document
from veille.digest.immediate import send_immediate
from veille.digest.run import run_digest
from veille.storage.catalog import Catalog
from veille.storage.digests import DigestRecord

T0 = datetime(2025, 5, 12, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def setup(tmp_path, smtp_server):
    host, port, recorder = smtp_server
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        sources:
          - {{name: prefecture, title: "Préfecture — appels à projets", kind: feed, url: "https://p.example/rss"}}
          - {{name: anct, title: "Agence nationale", kind: feed, url: "https://a.example/rss"}}
        alerts:
          - {{name: Appels à projets, query: "appel à projets", recipients: [doc@example.org, elu@example.org],
              frequency: immediate}}
          - {{name: Quartiers, query: quartier, recipients: [doc@example.org], frequency: immediate,
              filters: {{source: [prefecture]}}}}
          - {{name: Logement, query: logement, recipients: [doc@example.org]}}
        digest:
          from: Veille <veille@example.org>
          smtp: {{host: {host}, port: {port}}}
        web: {{base_url: "https://veille.example.org"}}
        """), encoding="utf-8")
    config = load_config(path)
    catalog = Catalog.open(config.layout)
    yield config, catalog, recorder
    catalog.close()


def add(catalog, doc_id, title, first_seen, source="prefecture", **fields):
    catalog.documents.put(Document(id=doc_id, title=title, source=source, kind=KIND_NEWS, first_seen=first_seen,
                                   url=f"https://example.org/{doc_id}", content=title, **fields))


def mails_to(recorder, address):
    return [m for m in recorder.messages() if m["To"] == address]


def test_one_mail_per_recipient_and_source_with_every_immediate_alert(setup, digest_matcher):
    config, catalog, recorder = setup
    add(catalog, "aap", "Appel à projets pour le quartier de Volga-Plage", T0 - timedelta(minutes=5))
    add(catalog, "q", "Diagnostic du quartier Floréal", T0 - timedelta(minutes=4))
    add(catalog, "log", "Logement social : appel à projets de l'agence", T0 - timedelta(minutes=3), source="anct")
    report = send_immediate(config, catalog, digest_matcher(config, catalog), sources=["prefecture", "anct"], now=T0)
    assert report.ok and report.count("sent") == 4   # two recipients, two sources
    doc = mails_to(recorder, "doc@example.org")
    assert sorted(m["Subject"] for m in doc) == [
        "Veille — alerte : 1 nouveau document de « Agence nationale »",
        "Veille — alerte : 2 nouveaux documents de « Préfecture — appels à projets »"]
    prefecture = next(m for m in doc if "Préfecture" in m["Subject"])
    text = prefecture.get_body(("plain",)).get_content()
    assert "Alerte immédiate : 2 nouveaux documents" in text
    assert "Appel à projets pour le quartier de Volga-Plage" in text and "Diagnostic du quartier Floréal" in text
    assert "Logement social" not in text                        # another source, another e-mail
    elu = mails_to(recorder, "elu@example.org")
    assert len(elu) == 2 and "Diagnostic du quartier" not in "".join(m.get_body(("plain",)).get_content() for m in elu)
    records = catalog.digests.latest(limit=10)
    assert {(r.kind, r.source, r.status) for r in records} == {("immediate", "prefecture", "sent"),
                                                              ("immediate", "anct", "sent")}
    assert catalog.digests.period_end("doc@example.org", "prefecture") == T0
    assert catalog.digests.period_end("doc@example.org") is None          # the weekly period is its own


def test_at_most_one_an_hour_and_nothing_twice(setup, digest_matcher):
    config, catalog, recorder = setup
    add(catalog, "a1", "Appel à projets numéro un", T0 - timedelta(minutes=5))
    matcher = digest_matcher(config, catalog)
    assert send_immediate(config, catalog, matcher, sources=["prefecture"], now=T0).count("sent") == 2
    add(catalog, "a2", "Appel à projets numéro deux", T0 + timedelta(minutes=10))
    matcher = digest_matcher(config, catalog)
    held = send_immediate(config, catalog, matcher, sources=["prefecture"], now=T0 + timedelta(minutes=20))
    assert held.outcomes == () and len(recorder.envelopes) == 2          # within the hour: it waits
    later = send_immediate(config, catalog, matcher, sources=["prefecture"], now=T0 + timedelta(minutes=61))
    assert later.count("sent") == 2
    text = mails_to(recorder, "elu@example.org")[-1].get_body(("plain",)).get_content()
    assert "numéro deux" in text and "numéro un" not in text
    again = send_immediate(config, catalog, matcher, sources=["prefecture"], now=T0 + timedelta(hours=3))
    assert again.outcomes == ()                                           # nothing new: no e-mail


def test_immediate_alerts_stay_out_of_the_weekly_digest(setup, digest_matcher):
    config, catalog, recorder = setup
    add(catalog, "a1", "Appel à projets logement", T0 - timedelta(days=1))
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=T0)
    assert [o.recipient for o in report.outcomes if o.status == "sent"] == ["doc@example.org"]
    body = recorder.messages()[0].get_body(("plain",)).get_content()
    assert "Logement" in body and "Appels à projets :" not in body
    assert "elu@example.org" not in [m["To"] for m in recorder.messages()]   # follows only immediate ones


def test_a_refused_mail_is_sent_again_with_what_came_since(setup, digest_matcher):
    config, catalog, recorder = setup
    add(catalog, "a1", "Appel à projets premier", T0 - timedelta(minutes=5))
    recorder.refuse_next = 2
    matcher = digest_matcher(config, catalog)
    failed = send_immediate(config, catalog, matcher, sources=["prefecture"], now=T0)
    assert failed.count("failed") == 2 and recorder.envelopes == []
    assert catalog.digests.period_end("doc@example.org", "prefecture") is None
    add(catalog, "a2", "Appel à projets second", T0 + timedelta(minutes=5))
    matcher = digest_matcher(config, catalog)
    # the period did not move: the next round (within the hour) sends both
    retried = send_immediate(config, catalog, matcher, sources=["prefecture"], now=T0 + timedelta(minutes=10))
    assert retried.count("sent") == 2
    text = mails_to(recorder, "elu@example.org")[0].get_body(("plain",)).get_content()
    assert "Appel à projets premier" in text and "Appel à projets second" in text
    assert {r.status for r in catalog.digests.latest(limit=10)} == {"sent", "superseded"}


def test_an_interrupted_mail_is_resent_as_it_was(setup, digest_matcher):
    config, catalog, recorder = setup
    raw = (b"From: veille@example.org\r\nTo: doc@example.org\r\nSubject: Veille - alerte\r\n"
           b"Message-ID: <digest-interrompu@example.org>\r\n\r\nAppel\r\n")
    catalog.digests.add(DigestRecord(
        id="interrompu", recipient="doc@example.org", period_start=T0 - timedelta(hours=2),
        period_end=T0 - timedelta(hours=1), created=T0 - timedelta(hours=1), status="sending",
        message_id="<digest-interrompu@example.org>", subject="Veille - alerte", documents=1, html="",
        raw=raw, kind="immediate", source="prefecture"))
    report = send_immediate(config, catalog, digest_matcher(config, catalog), sources=["prefecture"], now=T0)
    assert [(o.recipient, o.status) for o in report.outcomes] == [("doc@example.org", "resent")]
    assert recorder.messages()[0]["Message-ID"] == "<digest-interrompu@example.org>"
    assert catalog.digests.period_end("doc@example.org", "prefecture") == T0 - timedelta(hours=1)


def test_internal_documents_go_to_staff_accounts_only(setup, digest_matcher):
    from veille.storage.users import hash_password

    config, catalog, recorder = setup
    catalog.users.add("doc@example.org", hash_password("mot de passe assez long"))
    add(catalog, "int", "Appel à projets réservé", T0 - timedelta(minutes=5), visibility="interne")
    report = send_immediate(config, catalog, digest_matcher(config, catalog), sources=["prefecture"], now=T0)
    assert [o.recipient for o in report.outcomes] == ["doc@example.org"]
    assert "Appel à projets réservé" in mails_to(recorder, "doc@example.org")[0].get_body(("plain",)).get_content()
    assert mails_to(recorder, "elu@example.org") == []


def test_veille_run_s_jobs_send_after_a_crawl(tmp_path, httpserver, smtp_server):
    """The scheduler's crawl job, then its indexing, then the immediate e-mail."""
    from veille.digest.immediate import JOB_ID, register_immediate_alerts
    from veille.jobs.scheduler import build_scheduler

    host, port, recorder = smtp_server
    httpserver.add("/rss.xml", (FIXTURES / "watch" / "actualites.rss").read_bytes(),
                   content_type="application/rss+xml")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        data_dir: data
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - {{name: agence, title: Agence, kind: feed, url: "{httpserver.url('/rss.xml')}"}}
        alerts:
          - {{name: Rénovation, query: "renouvellement urbain", recipients: [doc@example.org], frequency: immediate}}
        digest: {{smtp: {{host: {host}, port: {port}}}}}
        """), encoding="utf-8")
    scheduler = build_scheduler(load_config(path), extra_jobs=[register_immediate_alerts], watch_interval=None)
    try:
        assert scheduler.get_job(JOB_ID) is not None
        scheduler.jobs.crawl("agence")
        [mail] = recorder.messages()
        assert mail["Subject"].startswith("Veille — alerte :") and "« Agence »" in mail["Subject"]
        assert "Guide pratique du renouvellement urbain" in mail.get_body(("plain",)).get_content()
        scheduler.jobs.crawl("agence")            # nothing new: no second e-mail
        assert len(recorder.messages()) == 1
    finally:
        scheduler.close()


def test_staff_make_an_immediate_alert_in_the_form(web_client, login_staff):
    staff = login_staff(web_client.application)
    form = staff.get("/alertes/nouvelle").get_data(as_text=True)
    assert 'name="frequency" value="immediate"' in form
    saved = staff.post("/alertes/nouvelle", data={"name": "Appels", "query": "appel à projets",
                                                  "recipients": "doc@example.org", "frequency": "immediate",
                                                  "action": "enregistrer"})
    assert saved.status_code == 303
    alert = Catalog.open(web_client.application.state.config.layout).alerts.all()[0]
    assert alert.frequency == "immediate"
    assert "immédiatement" in staff.get("/alertes").get_data(as_text=True)
    refused = staff.post("/alertes/nouvelle", data={"name": "Autre", "query": "x", "frequency": "souvent",
                                                    "action": "enregistrer"})
    assert refused.status_code == 400
