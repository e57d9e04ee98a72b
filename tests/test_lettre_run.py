"""The lettre de veille, triaged, composed and delivered to a real SMTP server (aiosmtpd),
with subscribers who confirmed through the link they were mailed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from veille.core.config import load_config
from veille.core.records import KIND_LEGAL, KIND_NEWS, Document
from veille.digest import lettre_send
from veille.digest.lettre_queue import STATE_PARAM
from veille.digest.subscribe import confirm_subscription, parse_import, request_subscription
from veille.digest.unsubscribe import SECRET_NAME, read_token
from veille.storage.catalog import Catalog
from veille.storage.subscribers import TOPIC_LETTRE

NOW = datetime(2025, 3, 17, 11, 0, tzinfo=timezone.utc)     # 07:00 in Martinique


@pytest.fixture
def env(tmp_path, write_config, smtp_server):
    host, port, recorder = smtp_server
    config = load_config(write_config(f"""
        data_dir: data
        sources:
          - {{name: vie-publique, title: "Vie publique", kind: feed, url: "https://www.vie-publique.fr/rss.xml"}}
          - {{name: jorf, title: "Journal officiel", kind: feed, url: "https://www.legifrance.gouv.fr/rss.xml"}}
        digest:
          from: Veille <veille@example.org>
          smtp: {{host: {host}, port: {port}}}
        lettre:
          title: Lettre de veille
          profile: {{alerts: false, themes: [politique de la ville], sources: [jorf]}}
        web: {{base_url: "https://veille.example.org"}}
        """))
    catalog = Catalog.open(config.layout)
    docs = [
        Document(id="contrat", title="Contrats de ville 2024-2030 : la circulaire", source="vie-publique",
                 kind=KIND_NEWS, first_seen=NOW - timedelta(days=2), url="https://www.vie-publique.fr/contrat",
                 themes=("politique de la ville",)),
        Document(id="decret", title="Décret n° 2025-12 relatif aux quartiers prioritaires", source="jorf",
                 kind=KIND_LEGAL, first_seen=NOW - timedelta(days=1), url="https://www.legifrance.gouv.fr/d",
                 published=datetime(2025, 3, 14, tzinfo=timezone.utc), extra={"nor": "TREL2501234D"}),
        Document(id="copil", title="Compte rendu interne du COPIL", source="vie-publique", kind=KIND_NEWS,
                 first_seen=NOW - timedelta(days=1.5), themes=("politique de la ville",), visibility="interne"),
        Document(id="hors", title="Météo marine", source="vie-publique", kind=KIND_NEWS,
                 first_seen=NOW - timedelta(days=1), themes=("météo",)),
        Document(id="ancien", title="Ancien rapport", source="jorf", kind=KIND_NEWS,
                 first_seen=NOW - timedelta(days=60)),
    ]
    for doc in docs:
        catalog.documents.put(doc)
    return config, catalog, recorder


def subscribe(config, catalog, recorder, address, confirm=True, now=NOW):
    sent = request_subscription(config, catalog, address, topic=TOPIC_LETTRE, now=now, environ={})
    assert sent is not None
    mail = recorder.messages()[-1]
    assert mail["To"] == address and "Confirmez" in mail["Subject"]
    link = re.search(r"https://veille\.example\.org/abonnement/confirmer/\S+",
                     mail.get_body(("plain",)).get_content()).group(0)
    assert link == sent.link
    if confirm:
        assert confirm_subscription(config, catalog, link.rsplit("/", 1)[1], now=now) is not None
    return link


def triage(catalog, numero, doc_id, **changes):
    catalog.triage.save(numero, doc_id, changes, by="doc@centre.org", now=NOW)


def test_queue_follows_the_profile_newest_first_with_facets(env):
    config, catalog, _ = env
    draft, queue = lettre_send.draft_queue(config, catalog, None, now=NOW, filters={})
    assert draft.numero == 1 and draft.since == NOW - timedelta(days=30)
    assert [e.doc.id for e in queue.entries] == ["decret", "copil", "contrat"]   # newest first, in profile
    assert dict(queue.facets["source"]) == {"vie-publique": 2, "jorf": 1}
    assert queue.entries[0].rubrique == "Textes officiels"
    assert queue.entries[2].rubrique == "Politique de la ville"
    triage(catalog, 1, "decret", decision="keep")
    _, queue = lettre_send.draft_queue(config, catalog, None, now=NOW, filters={STATE_PARAM: ["a-trier"]})
    assert [e.doc.id for e in queue.entries] == ["copil", "contrat"] and queue.counts["keep"] == 1
    _, queue = lettre_send.draft_queue(config, catalog, None, now=NOW, filters={"kind": [KIND_LEGAL]})
    assert [e.doc.id for e in queue.entries] == ["decret"]


def test_two_documentalists_saving_different_fields_keep_both(env):
    config, catalog, _ = env
    triage(catalog, 1, "contrat", decision="keep")
    catalog.triage.save(1, "contrat", {"comment": "À lire avant le comité."}, by="autre@centre.org", now=NOW)
    state = catalog.triage.of(1)["contrat"]
    assert (state.decision, state.comment, state.updated_by) == ("keep", "À lire avant le comité.", "autre@centre.org")


def test_whole_flow_test_address_two_subscribers_not_the_unconfirmed(env):
    config, catalog, recorder = env
    draft = lettre_send.current_draft(config, catalog, NOW)
    for doc_id in ("contrat", "decret", "copil"):
        triage(catalog, draft.numero, doc_id, decision="keep")
    triage(catalog, draft.numero, "contrat", comment="La nouvelle génération des contrats, signée en 2025.")
    catalog.lettres.update(draft.numero, now=NOW, editorial="Bonne lecture.", rubriques=["Politique de la ville"])
    subscribe(config, catalog, recorder, "ana@example.org")
    subscribe(config, catalog, recorder, "ben@example.org")
    subscribe(config, catalog, recorder, "pas-confirme@example.org", confirm=False)
    recorder.envelopes.clear()

    test = lettre_send.send_test(config, catalog, "doc@centre.org", now=NOW, environ={})
    assert test.status == "sent"
    (trial,) = recorder.messages()
    assert trial["Subject"] == "[Essai] Lettre de veille n° 1 — 17 mars 2025"
    recorder.envelopes.clear()

    report = lettre_send.send_now(config, catalog, now=NOW, environ={})
    assert report.done and report.count("sent") == 2
    mails = {m["To"]: m for m in recorder.messages()}
    assert set(mails) == {"ana@example.org", "ben@example.org"}       # never the unconfirmed one
    text = mails["ana@example.org"].get_body(("plain",)).get_content()
    html = mails["ana@example.org"].get_body(("html",)).get_content()
    assert mails["ana@example.org"]["Subject"] == "Lettre de veille n° 1 — 17 mars 2025"
    assert "COPIL" not in text and "COPIL" not in html                # internal: never in a lettre
    # rubriques in the chosen order, then the others (legal texts first among them)
    assert text.index("== Politique de la ville ==") < text.index("== Textes officiels ==")
    assert "NOR : TREL2501234D" in text and "publié le 14 mars 2025" in text
    assert "La nouvelle génération des contrats, signée en 2025." in html
    assert "Bonne lecture." in text and "https://veille.example.org/lettres-de-veille/1" in text

    raw = next(e.original_content for e in recorder.envelopes if "ana@" in e.rcpt_tos[0])
    (header,) = [line for line in raw.split(b"\r\n") if line.lower().startswith(b"list-unsubscribe:")]
    assert re.fullmatch(rb"List-Unsubscribe: <https://veille\.example\.org/desabonnement/[\w.-]+>", header)
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    token = read_token(catalog.secrets.get(SECRET_NAME), header.decode().split("/")[-1].rstrip(">"))
    assert (token.recipient, token.alert) == ("ana@example.org", TOPIC_LETTRE)

    record = catalog.lettres.get(1)
    assert record.status == "sent" and [i.doc_id for i in catalog.lettres.items(1)] == ["contrat", "decret"]
    attempts = catalog.lettres.attempts(1)
    assert [(a.recipient, a.test, a.status) for a in attempts] == [
        ("doc@centre.org", True, "sent"), ("ana@example.org", False, "sent"), ("ben@example.org", False, "sent")]
    # the next queue starts where this issue was frozen
    draft2, queue = lettre_send.draft_queue(config, catalog, None, now=NOW + timedelta(days=1), filters={})
    assert draft2.numero == 2 and draft2.since == NOW and queue.total == 0
    with pytest.raises(lettre_send.LettreError, match="aucun document gardé"):
        lettre_send.send_now(config, catalog, now=NOW + timedelta(days=1), environ={})


def test_a_document_made_internal_after_freezing_stops_the_sending(env):
    config, catalog, recorder = env
    triage(catalog, 1, "contrat", decision="keep")
    subscribe(config, catalog, recorder, "ana@example.org")
    recorder.envelopes.clear()
    lettre_send.freeze(config, catalog, now=NOW)
    doc = catalog.documents.get("contrat")
    from dataclasses import replace

    catalog.documents.put(replace(doc, visibility="interne"))
    with pytest.raises(lettre_send.LettreError, match="pas \\(ou plus\\) un document public"):
        lettre_send.deliver_frozen(config, catalog, 1, now=NOW, environ={})
    assert recorder.envelopes == [] and catalog.lettres.get(1).status == "sending"


def test_refusals_are_retried_with_one_row_per_attempt_and_the_reason_in_french(env):
    config, catalog, recorder = env
    triage(catalog, 1, "contrat", decision="keep")
    subscribe(config, catalog, recorder, "ana@example.org")
    subscribe(config, catalog, recorder, "ben@example.org")
    recorder.envelopes.clear()
    recorder.refuse_next = 2
    report = lettre_send.send_now(config, catalog, now=NOW, environ={})
    assert report.count("failed") == 2 and not report.done and recorder.envelopes == []
    assert "a répondu 451" in report.deliveries[0].error
    # too early for a retry: nothing is attempted
    (early,) = lettre_send.send_due(config, catalog, now=NOW + timedelta(minutes=5), environ={})
    assert early.count("waiting") == 2 and len(catalog.lettres.attempts(1)) == 2
    (later,) = lettre_send.send_due(config, catalog, now=NOW + timedelta(minutes=20), environ={})
    assert later.done and later.count("sent") == 2
    attempts = catalog.lettres.attempts(1)
    assert [(a.recipient, a.status) for a in attempts] == [
        ("ana@example.org", "failed"), ("ben@example.org", "failed"),
        ("ana@example.org", "sent"), ("ben@example.org", "sent")]
    assert sorted(m["To"] for m in recorder.messages()) == ["ana@example.org", "ben@example.org"]
    assert lettre_send.send_due(config, catalog, now=NOW + timedelta(hours=1), environ={}) == []


def test_crash_during_smtp_resends_the_same_message_and_nobody_twice(env):
    config, catalog, recorder = env
    triage(catalog, 1, "contrat", decision="keep")
    for name in ("ana", "ben", "cleo"):
        subscribe(config, catalog, recorder, f"{name}@example.org")
    recorder.envelopes.clear()
    lettre_send.freeze(config, catalog, now=NOW)
    # the process delivered to ana, then died while talking to the server about ben
    ana = catalog.lettres.start_attempt(1, "ana@example.org", now=NOW)
    archived = {r.recipient: r for r in catalog.lettres.recipients(1)}
    lettre_send._deliver(config, archived["ana@example.org"].raw, "ana@example.org", {})
    catalog.lettres.attempt_sent(ana, now=NOW)
    catalog.lettres.start_attempt(1, "ben@example.org", now=NOW)

    report = lettre_send.send_due(config, catalog, now=NOW + timedelta(minutes=5), environ={})[0]
    assert {(d.recipient, d.status) for d in report.deliveries} == {("ben@example.org", "resent"),
                                                                    ("cleo@example.org", "sent")}
    received = [m["To"] for m in recorder.messages()]
    assert sorted(received) == ["ana@example.org", "ben@example.org", "cleo@example.org"]   # once each
    ben = next(m for m in recorder.messages() if m["To"] == "ben@example.org")
    assert ben["Message-ID"] == archived["ben@example.org"].message_id
    assert recorder.envelopes[1].original_content.replace(b"\r\n", b"\n") == \
        archived["ben@example.org"].raw.replace(b"\r\n", b"\n")
    statuses = [(a.recipient, a.status) for a in catalog.lettres.attempts(1)]
    assert statuses.count(("ben@example.org", "interrupted")) == 1 and catalog.lettres.get(1).status == "sent"


def test_scheduled_lettre_goes_at_its_time_and_not_before(env):
    config, catalog, recorder = env
    triage(catalog, 1, "contrat", decision="keep")
    subscribe(config, catalog, recorder, "ana@example.org")
    recorder.envelopes.clear()
    lettre_send.current_draft(config, catalog, NOW)
    catalog.lettres.schedule(1, NOW + timedelta(hours=2), now=NOW)
    assert lettre_send.send_due(config, catalog, now=NOW + timedelta(hours=1), environ={}) == []
    (report,) = lettre_send.send_due(config, catalog, now=NOW + timedelta(hours=2, minutes=1), environ={})
    assert report.done and [m["To"] for m in recorder.messages()] == ["ana@example.org"]


def test_double_opt_in_expiry_replaced_links_and_consent_record(env):
    config, catalog, recorder = env
    first = subscribe(config, catalog, recorder, "ana@example.org", confirm=False)
    second = subscribe(config, catalog, recorder, "ana@example.org", confirm=False)
    token = lambda link: link.rsplit("/", 1)[1]  # noqa: E731
    assert confirm_subscription(config, catalog, token(first), now=NOW) is None     # replaced by the second
    assert confirm_subscription(config, catalog, token(second), now=NOW + timedelta(days=8)) is None  # expired
    assert catalog.subscribers.get("ana@example.org", TOPIC_LETTRE).status == "expired"
    assert catalog.subscribers.confirmed(TOPIC_LETTRE) == []
    link = subscribe(config, catalog, recorder, "ana@example.org", confirm=True)
    assert confirm_subscription(config, catalog, token(link), now=NOW) is None        # used once
    assert request_subscription(config, catalog, "ana@example.org", topic=TOPIC_LETTRE, now=NOW,
                                environ={}) is None                                    # already confirmed
    events = [(c.event, c.email, c.topic) for c in catalog.subscribers.consents("ana@example.org")]
    assert events == [("request", "ana@example.org", "lettre")] * 2 + [("expire", "ana@example.org", "lettre"),
                                                                       ("request", "ana@example.org", "lettre"),
                                                                       ("confirm", "ana@example.org", "lettre")]
    # an unconfirmed request left alone expires by itself
    subscribe(config, catalog, recorder, "zoe@example.org", confirm=False)
    lettre_send.send_due(config, catalog, now=NOW + timedelta(days=8), environ={})
    assert catalog.subscribers.get("zoe@example.org", TOPIC_LETTRE).status == "expired"


def test_csv_import_reads_the_address_column_and_names_bad_lines():
    data = "Nom;Courriel\nAna;ana@example.org\nBen;pas une adresse\n;\nAna bis;ANA@example.org\n".encode()
    assert parse_import(data) == (["ana@example.org"], ["ligne 3 : « pas une adresse » n'est pas une adresse e-mail"])
    assert parse_import(b"x" * (1024 * 1024 + 1))[0] == []


def test_the_lettre_job_runs_in_veille_run_and_sends_what_is_due(env):
    from veille.jobs.jobstore import CatalogJobStore
    from veille.jobs.scheduler import VeilleScheduler   # the scheduler of `veille run`

    config, catalog, recorder = env

    def start():
        scheduler = VeilleScheduler(CatalogJobStore(catalog.schedule), timezone=config.tz)
        scheduler.start(paused=True)
        return scheduler

    scheduler = start()
    try:
        assert lettre_send.register_lettre_job(scheduler, config) == "added"
        job = scheduler.get_job(lettre_send.JOB_ID)
        assert job.func is lettre_send.scheduled_lettre
        assert lettre_send.register_lettre_job(scheduler, config) == "kept"
        planned = job.next_run_time
    finally:
        scheduler.shutdown(wait=False)
    # a restart finds the job's next run in the catalog and keeps it
    scheduler = start()
    try:
        assert lettre_send.register_lettre_job(scheduler, config) == "kept"
        assert scheduler.get_job(lettre_send.JOB_ID).next_run_time == planned
    finally:
        scheduler.shutdown(wait=False)
    # what the job does when it fires: a lettre scheduled in the past goes out
    triage(catalog, lettre_send.current_draft(config, catalog, NOW).numero, "contrat", decision="keep")
    subscribe(config, catalog, recorder, "ana@example.org")
    recorder.envelopes.clear()
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    catalog.lettres.schedule(1, past, now=past)
    lettre_send.scheduled_lettre(str(config.path), str(config.data_dir))
    assert [m["To"] for m in recorder.messages()] == ["ana@example.org"]
    assert catalog.lettres.get(1).status == "sent"


def test_a_process_killed_during_smtp_leaves_nobody_served_twice(env):
    """A real crash: `send_now` in a child process, killed (SIGKILL) while the server has not
    answered for the second subscriber; the next run finishes the job."""
    import os
    import signal
    import subprocess
    import sys

    config, catalog, recorder = env
    triage(catalog, lettre_send.current_draft(config, catalog, NOW).numero, "contrat", decision="keep")
    for name in ("ana", "ben", "cleo"):
        subscribe(config, catalog, recorder, f"{name}@example.org")
    recorder.envelopes.clear()
    recorder.hang_at = recorder._received + 2
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys; from datetime import datetime, timezone\n"
        "from veille.core.config import load_config\n"
        "from veille.storage.catalog import Catalog\n"
        "from veille.digest.lettre_send import send_now\n"
        "config = load_config(sys.argv[1])\n"
        "send_now(config, Catalog.open(config.layout), now=datetime.now(timezone.utc), environ={})\n"),
        str(config.path)], env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert recorder.hanging.wait(60), "the child never reached the second subscriber"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert [m["To"] for m in recorder.messages()] == ["ana@example.org"]
    assert catalog.lettres.get(1).status == "sending"

    (report,) = lettre_send.send_due(config, catalog, now=datetime.now(timezone.utc), environ={})
    assert report.done and {(d.recipient, d.status) for d in report.deliveries} == {
        ("ben@example.org", "resent"), ("cleo@example.org", "sent")}
    received = sorted(m["To"] for m in recorder.messages())
    assert received == ["ana@example.org", "ben@example.org", "cleo@example.org"]     # each once
    archived = {r.recipient: r.message_id for r in catalog.lettres.recipients(1)}
    assert {m["To"]: m["Message-ID"] for m in recorder.messages()} == archived
    assert [a.status for a in catalog.lettres.attempts(1) if a.recipient == "ben@example.org"] == [
        "interrupted", "sent"]


def test_documents_an_alert_finds_enter_the_queue_through_the_search_engine(env, digest_matcher):
    from dataclasses import replace

    from veille.core.config import Alert, LettreProfile

    config, catalog, _ = env
    config = replace(config, alerts=(Alert(name="Météo", query="météo marine"),),
                     lettre=replace(config.lettre, profile=LettreProfile(alerts=True)))
    _, queue = lettre_send.draft_queue(config, catalog, digest_matcher(config, catalog), now=NOW, filters={})
    (entry,) = queue.entries                  # the profile is now the alert alone
    assert entry.doc.id == "hors" and entry.alerts == ("Météo",)
