"""Digest runs delivered to a real SMTP server (aiosmtpd on 127.0.0.1), with an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from veille.storage.catalog import Catalog
from veille.core.records import KIND_NEWS, Document
from veille.core.config import load_config
from veille.digest.run import compose_digests, run_digest
from veille.digest.unsubscribe import SECRET_NAME, make_token, read_token

MONDAY = datetime(2025, 3, 17, 11, 0, tzinfo=timezone.utc)     # 07:00 in Martinique


@pytest.fixture
def setup(tmp_path, write_config, smtp_server):
    host, port, recorder = smtp_server

    def make(send_empty=False, extra_alerts=""):
        path = write_config(f"""
            data_dir: data
            alerts:
              - {{name: Rénovation urbaine, query: rénovation, recipients: [doc@example.org, elu@example.org]}}
              - {{name: Eau, query: eau, recipients: [doc@example.org]}}
            {extra_alerts}
            digest:
              schedule: "0 7 * * mon"
              from: Veille <veille@example.org>
              send_empty: {str(send_empty).lower()}
              smtp: {{host: {host}, port: {port}}}
            web: {{base_url: "https://veille.example.org"}}
            """)
        config = load_config(path)
        catalog = Catalog.open(config.layout)
        return config, catalog, recorder

    return make


def add(catalog, doc_id, title, first_seen, **kw):
    catalog.documents.put(Document(id=doc_id, title=title, source="vie-publique", kind=KIND_NEWS,
                         first_seen=first_seen, url=f"https://example.org/{doc_id}", **kw))


def by_recipient(recorder):
    return {m["To"]: m for m in recorder.messages()}


def test_one_mail_per_recipient_grouped_and_deduplicated(setup, digest_matcher):
    config, catalog, recorder = setup()
    add(catalog, "r1", "Rénovation d'un quartier", MONDAY - timedelta(days=2))
    add(catalog, "both", "Rénovation et eau potable", MONDAY - timedelta(days=1))
    add(catalog, "e1", "Réseau d'eau", MONDAY - timedelta(days=3))
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    assert report.ok and report.count("sent") == 2
    mails = by_recipient(recorder)
    assert set(mails) == {"doc@example.org", "elu@example.org"}
    doc_mail = mails["doc@example.org"]
    text = doc_mail.get_body(("plain",)).get_content()
    html = doc_mail.get_body(("html",)).get_content()
    assert text.count("Rénovation et eau potable") == 1 and html.count("Rénovation et eau potable") == 1
    # the summary says what each section lists: "both" sits under the first alert only
    assert "- Rénovation urbaine : 2 documents" in text and "- Eau : 1 document" in text
    sections = text.split("== ")[1:]
    for section in sections:
        title = section.split(" ==", 1)[0]
        listed = section.count("\n* ")
        assert f"- {title} : {listed} document" in text
    assert "https://veille.example.org/documents/both" in html
    assert text.index("Rénovation et eau potable") < text.index("Rénovation d'un quartier")  # newest first
    elu = mails["elu@example.org"].get_body(("plain",)).get_content()
    assert "Réseau d'eau" not in elu and "Rénovation et eau potable" in elu
    assert {r.recipient for r in catalog.digests.latest(status="sent")} == {"doc@example.org", "elu@example.org"}


def test_accented_subject_and_body_arrive_decoded(setup, digest_matcher):
    config, catalog, recorder = setup()
    add(catalog, "r1", "Rénovation : l'État s'engage à Fort-de-France", MONDAY - timedelta(days=2))
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    raw = recorder.envelopes[0].original_content
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?" not in head      # nothing in these headers needs encoded words
    message = recorder.messages()[0]
    assert message["Subject"] == "Veille : 1 nouveau document (du 10 mars 2025 au 17 mars 2025)"
    assert message.get_body(("plain",)).get_content_charset() == "utf-8"
    assert "l'État s'engage à Fort-de-France" in message.get_body(("plain",)).get_content()
    assert message.is_multipart() and message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe"].startswith("<https://veille.example.org/desabonnement/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].endswith("@example.org>")


def test_first_seen_windows_across_two_weeks(setup, digest_matcher):
    config, catalog, recorder = setup()
    add(catalog, "w0", "Rénovation ancienne", MONDAY - timedelta(days=9))     # before the first period
    add(catalog, "w1", "Rénovation semaine 1", MONDAY - timedelta(days=3))
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    first = by_recipient(recorder)["elu@example.org"].get_body(("plain",)).get_content()
    assert "semaine 1" in first and "ancienne" not in first
    add(catalog, "w2", "Rénovation semaine 2", MONDAY + timedelta(days=2))
    recorder.envelopes.clear()
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(days=7))
    second = by_recipient(recorder)["elu@example.org"]
    body = second.get_body(("plain",)).get_content()
    assert "semaine 2" in body and "semaine 1" not in body
    assert "(du 17 mars 2025 au 24 mars 2025)" in second["Subject"]
    assert catalog.digests.period_end("elu@example.org") == MONDAY + timedelta(days=7)


def test_nothing_new_sends_nothing_or_one_line(setup, digest_matcher):
    config, catalog, recorder = setup()
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    assert report.count("empty") == 2 and recorder.envelopes == []
    assert catalog.digests.period_end("doc@example.org") is None

    config, catalog, recorder = setup(send_empty=True)
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    assert report.count("sent") == 2
    message = by_recipient(recorder)["doc@example.org"]
    assert message["Subject"] == "Veille : rien de nouveau (du 10 mars 2025 au 17 mars 2025)"
    assert "Rien de nouveau pour vos alertes du 10 mars 2025 au 17 mars 2025." in message.get_body(("plain",)).get_content()


def test_refused_delivery_is_retried_and_nothing_is_lost_or_sent_twice(setup, digest_matcher):
    config, catalog, recorder = setup()
    add(catalog, "a", "Rénovation A", MONDAY - timedelta(days=2))
    recorder.refuse_next = 5                     # more than this run's two messages
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    assert report.count("failed") == 2 and not report.ok
    assert "451" in report.outcomes[0].error
    assert recorder.envelopes == []
    assert catalog.digests.period_end("doc@example.org") is None
    assert len(catalog.digests.latest(status="failed")) == 2

    recorder.refuse_next = 0
    add(catalog, "b", "Rénovation B", MONDAY + timedelta(days=3))
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(days=7))
    assert report.count("sent") == 2
    body = by_recipient(recorder)["doc@example.org"].get_body(("plain",)).get_content()
    assert "Rénovation A" in body and "Rénovation B" in body       # the failed week is not lost
    assert "(du 10 mars 2025 au 24 mars 2025)" in by_recipient(recorder)["doc@example.org"]["Subject"]
    assert catalog.digests.latest(status="failed") == [] and len(catalog.digests.latest(status="superseded")) == 2

    recorder.envelopes.clear()
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(days=7, minutes=5))
    assert recorder.envelopes == [] and report.count("empty") == 2     # a rerun sends nothing again


def test_server_down_then_up(setup, tmp_path, digest_matcher):
    config, catalog, recorder = setup()
    from dataclasses import replace

    from tests.conftest import free_port

    down = replace(config, digest=replace(config.digest, smtp=replace(config.digest.smtp, port=free_port())))
    add(catalog, "a", "Rénovation A", MONDAY - timedelta(days=2))
    report = run_digest(down, catalog, digest_matcher(config, catalog), now=MONDAY)
    assert report.count("failed") == 2 and "envoi impossible par" in report.outcomes[0].error
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(hours=1))
    assert report.count("sent") == 2 and len(recorder.envelopes) == 2


def test_digest_interrupted_during_smtp_is_resent_identically_not_recomposed(setup, digest_matcher):
    config, catalog, recorder = setup()
    add(catalog, "a", "Rénovation A", MONDAY - timedelta(days=2))
    # a crash between archiving ('sending') and SMTP: simulate by archiving without sending
    from veille.digest import run as run_module

    composed, _ = compose_digests(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    item = next(c for c in composed if c.digest.recipient == "elu@example.org")
    recorder.refuse_next = 1                          # the interrupted attempt never arrived
    outcome = run_module.send_composed(config, catalog, item, MONDAY, {})
    assert outcome.status == "failed"
    # make it look interrupted: status still 'sending'
    catalog.db.connection().execute("UPDATE digests SET status = 'sending' WHERE id = ?", (outcome.digest_id,))

    add(catalog, "b", "Rénovation B", MONDAY + timedelta(hours=1))
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(hours=2))
    statuses = {(o.recipient, o.status) for o in report.outcomes}
    assert ("elu@example.org", "resent") in statuses
    elu = [m for m in recorder.messages() if m["To"] == "elu@example.org"]
    assert elu[0]["Message-ID"] == catalog.digests.get(outcome.digest_id).message_id
    assert "Rénovation A" in elu[0].get_body(("plain",)).get_content()
    # the new document comes in a second, separate digest that starts where the resent one ended
    assert len(elu) == 2 and "Rénovation A" not in elu[1].get_body(("plain",)).get_content()
    assert "Rénovation B" in elu[1].get_body(("plain",)).get_content()


def test_unsubscribe_token_and_effect(setup, digest_matcher):
    config, catalog, recorder = setup()
    secret = catalog.secrets.get(SECRET_NAME)
    token = make_token(secret, "elu@example.org")
    assert read_token(secret, token).recipient == "elu@example.org"
    assert read_token(secret, token[:-2] + ("AA" if not token.endswith("AA") else "BB")) is None
    assert read_token("another-secret", token) is None
    forged = make_token("guessed", "doc@example.org")
    assert read_token(secret, forged) is None

    add(catalog, "a", "Rénovation et eau", MONDAY - timedelta(days=2))
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    message = by_recipient(recorder)["elu@example.org"]
    link = message["List-Unsubscribe"].strip("<>")
    got = read_token(secret, link.rsplit("/", 1)[1])
    assert got.recipient == "elu@example.org" and got.alert == "*"
    catalog.unsubscriptions.add(got.recipient, got.alert)
    # doc@ leaves only the "Eau" alert, through the per-alert link
    html = by_recipient(recorder)["doc@example.org"].get_body(("html",)).get_content()
    per_alert = [read_token(secret, part.split('"')[0]) for part in html.split("/desabonnement/")[1:]]
    eau = next(u for u in per_alert if u and u.alert == "yaml-eau")
    catalog.unsubscriptions.add(eau.recipient, eau.alert)

    recorder.envelopes.clear()
    add(catalog, "b", "Rénovation et eau, suite", MONDAY + timedelta(days=2))
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(days=7))
    mails = by_recipient(recorder)
    assert set(mails) == {"doc@example.org"}
    assert "- Eau" not in mails["doc@example.org"].get_body(("plain",)).get_content()


def test_failing_alert_search_holds_back_only_its_recipients(setup, digest_matcher):
    config, catalog, recorder = setup()
    add(catalog, "a", "Rénovation et eau", MONDAY - timedelta(days=2))
    good = digest_matcher(config, catalog)

    def matcher(alert, since, until):
        if alert.name == "Eau":
            raise ValueError("syntax error in query")
        return good(alert, since, until)

    report = run_digest(config, catalog, matcher, now=MONDAY)
    outcome = {o.recipient: o for o in report.outcomes}
    assert outcome["doc@example.org"].status == "failed" and "syntax error" in outcome["doc@example.org"].error
    assert outcome["elu@example.org"].status == "sent"
    assert catalog.digests.period_end("doc@example.org") is None


def test_smtp_password_comes_from_the_environment(setup, write_config):
    from veille.core.config import SmtpConfig
    from veille.digest.deliver import DeliveryError, smtp_password

    assert smtp_password(SmtpConfig(password_env="VEILLE_SMTP"), {"VEILLE_SMTP": "s3cr3t"}) == "s3cr3t"
    with pytest.raises(DeliveryError, match="VEILLE_SMTP n'est pas définie"):
        smtp_password(SmtpConfig(password_env="VEILLE_SMTP"), {})
    assert smtp_password(SmtpConfig(), {}) is None


def test_schedule_next_run_in_martinique_and_kept_across_restarts(setup):
    from zoneinfo import ZoneInfo

    from veille.digest.run import JOB_ID, register_digest_job, scheduled_digest
    from veille.jobs.jobstore import CatalogJobStore
    from veille.jobs.scheduler import VeilleScheduler   # the scheduler of `veille run`

    config, catalog, _ = setup()
    martinique = ZoneInfo("America/Martinique")

    def start():
        scheduler = VeilleScheduler(CatalogJobStore(catalog.schedule), timezone=martinique)
        scheduler.start(paused=True)
        return scheduler

    scheduler = start()
    assert register_digest_job(scheduler, config) == "added"
    job = scheduler.get_job(JOB_ID)
    assert job.func is scheduled_digest
    wednesday = datetime(2025, 3, 12, 15, 30, tzinfo=martinique)
    nxt = job.trigger.get_next_fire_time(None, wednesday)
    assert nxt == datetime(2025, 3, 17, 7, 0, tzinfo=martinique)
    assert nxt.astimezone(timezone.utc) == datetime(2025, 3, 17, 11, 0, tzinfo=timezone.utc)
    # a Monday after 07:00 waits for the next Monday
    assert job.trigger.get_next_fire_time(None, datetime(2025, 3, 17, 7, 1, tzinfo=martinique)) == \
        datetime(2025, 3, 24, 7, 0, tzinfo=martinique)

    # the process was down when the digest fell due: a restart keeps that due time (the
    # digest goes out once on resume) and never adds a second job
    due = datetime.now(martinique).replace(microsecond=0) - timedelta(hours=1)
    scheduler.modify_job(JOB_ID, next_run_time=due)
    scheduler.shutdown(wait=False)
    scheduler = start()
    try:
        assert register_digest_job(scheduler, config) == "kept"
        assert [j.id for j in scheduler.get_jobs()] == [JOB_ID]
        assert scheduler.get_job(JOB_ID).next_run_time == due
    finally:
        scheduler.shutdown(wait=False)


def test_filters_legal_texts_and_highlights_through_the_index(setup, digest_matcher):
    from types import MappingProxyType

    from veille.core.records import KIND_LEGAL

    config, catalog, recorder = setup(extra_alerts="""
              - name: Textes sur la ville
                query: ville
                recipients: [juriste@example.org]
                filters: {kind: [juridique]}
              - name: Habitat
                query: quartier
                recipients: [juriste@example.org]
                filters: {theme: [Habitat]}
            """)
    catalog.documents.put(Document(id="decret", title="Décret relatif à la politique de la ville", source="legifrance",
                         kind=KIND_LEGAL, first_seen=MONDAY - timedelta(days=1),
                         published=datetime(2025, 3, 14, 12, tzinfo=timezone.utc), doc_type="Décret",
                         content="Le présent décret précise la géographie de la politique de la ville.",
                         extra=MappingProxyType({"nor": "TREL2500001D"})))
    add(catalog, "news", "La ville de Fort-de-France en fête", MONDAY - timedelta(days=2))
    add(catalog, "hab", "Un quartier rénové", MONDAY - timedelta(days=3), themes=("Habitat",),
        content="Le quartier Trénelle voit ses logements rénovés.")
    add(catalog, "other", "Un quartier sans thème", MONDAY - timedelta(days=3))
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    message = by_recipient(recorder)["juriste@example.org"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Décret relatif à la politique de la ville" in text and "NOR : TREL2500001D — publié le 14 mars 2025" in text
    assert "Fort-de-France en fête" not in text            # not a legal text
    assert "Un quartier rénové" in text and "sans thème" not in text
    assert text.index("== Textes officiels ==") < text.index("== Habitat ==")
    assert ">quartier</strong>" in html.lower()          # the search highlight, kept as <strong>


def test_late_indexed_document_is_sent_once_in_the_next_digest(setup, digest_matcher):
    config, catalog, recorder = setup()
    add(catalog, "early", "Rénovation sans retard", MONDAY - timedelta(hours=5))
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    # crawled before the first digest (first seen 07:00 minus 2 h) but indexed only after it
    add(catalog, "late", "Rénovation en retard", MONDAY - timedelta(hours=2))
    recorder.envelopes.clear()
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(days=7))
    body = by_recipient(recorder)["elu@example.org"].get_body(("plain",)).get_content()
    assert "Rénovation en retard" in body
    assert "sans retard" not in body                 # already sent: the lookback never repeats
    recorder.envelopes.clear()
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(days=7, hours=1))
    assert recorder.envelopes == []


def test_scheduled_job_sends_with_the_real_engine(setup):
    from veille.digest.run import scheduled_digest

    config, catalog, recorder = setup()
    now = datetime.now(timezone.utc)
    add(catalog, "fresh", "Rénovation de la semaine", now - timedelta(days=1))   # not indexed yet
    scheduled_digest(str(config.path), str(config.data_dir))
    assert {m["To"] for m in recorder.messages()} == {"doc@example.org", "elu@example.org"}
    assert "Rénovation de la semaine" in recorder.messages()[0].get_body(("plain",)).get_content()


def test_list_unsubscribe_reaches_the_server_plain_as_rfc_2369_writes_it(setup, digest_matcher):
    config, catalog, recorder = setup()
    add(catalog, "a", "Rénovation A", MONDAY - timedelta(days=2))
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    raw = recorder.envelopes[0].original_content
    lines = raw.split(b"\r\n")
    (header,) = [line for line in lines if line.lower().startswith(b"list-unsubscribe:")]
    assert header.startswith(b"List-Unsubscribe: <https://veille.example.org/desabonnement/")
    assert header.endswith(b">") and b"=?" not in header
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines


def test_one_archive_row_per_recipient_and_attempt(setup, digest_matcher):
    config, catalog, recorder = setup()
    add(catalog, "a", "Rénovation A", MONDAY - timedelta(days=2))
    from veille.digest import run as run_module

    # a run dies during SMTP: both digests stay 'sending'
    composed, _ = compose_digests(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    for item in composed:
        recorder.refuse_next = 1
        outcome = run_module.send_composed(config, catalog, item, MONDAY, {})
        catalog.db.connection().execute("UPDATE digests SET status = 'sending' WHERE id = ?", (outcome.digest_id,))
    # the next run finds the server refusing everything: one failed attempt per recipient
    recorder.refuse_next = 10
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(hours=1))
    assert report.count("failed") == 2
    failed = catalog.digests.latest(status="failed")
    assert sorted(d.recipient for d in failed) == ["doc@example.org", "elu@example.org"]
    assert catalog.digests.count() == 2
    # another failing run: a new attempt each, the earlier one superseded, still one 'failed' each
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(hours=2))
    assert report.count("failed") == 2 and catalog.digests.count() == 4
    assert sorted(d.recipient for d in catalog.digests.latest(status="failed")) == ["doc@example.org",
                                                                                   "elu@example.org"]
    recorder.refuse_next = 0
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY + timedelta(hours=3))
    assert report.count("sent") == 2 and len(recorder.envelopes) == 2
    assert all("Rénovation A" in m.get_body(("plain",)).get_content() for m in recorder.messages())


def test_an_accented_address_on_a_server_without_smtputf8_is_named_in_one_french_line(
        setup, digest_matcher):
    from dataclasses import replace

    from aiosmtpd.controller import Controller

    from tests.conftest import SmtpRecorder, free_port

    config, catalog, _ = setup(extra_alerts=(
        "  - {name: Logement, query: rénovation, recipients: [élodie@exemple.fr]}"))
    recorder = SmtpRecorder()
    plain = Controller(recorder, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=False)
    plain.start()
    try:
        config = replace(config, digest=replace(config.digest, smtp=replace(config.digest.smtp, port=plain.port)))
        add(catalog, "a", "Rénovation A", MONDAY - timedelta(days=2))
        report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    finally:
        plain.stop()
    failed = [o for o in report.outcomes if o.status == "failed"]
    assert [o.recipient for o in failed] == ["élodie@exemple.fr"]
    assert "n'accepte pas les adresses accentuées (pas de SMTPUTF8)" in failed[0].error
    assert "élodie@exemple.fr" in failed[0].error and "\n" not in failed[0].error
    assert report.count("sent") == 2          # the others are served all the same
