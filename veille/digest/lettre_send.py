"""Preparing and sending the lettre de veille: the draft, its queue, test sends, the real one.

The guarantees are those of the digest (`veille.digest.run`):
- sending starts by freezing the issue: its items, and for every confirmed subscriber the
  exact message (bytes and Message-ID) archived in one transaction *before* any SMTP;
- a recipient is marked sent only once the server accepted their message; a failure is an
  attempt row with its reason, retried after `RETRY_AFTER`, at most `MAX_ATTEMPTS` times;
- an attempt still `sending` at the next run means the process died during SMTP: it is
  marked interrupted and the archived bytes go again, same Message-ID (mail clients drop a
  duplicate), so nobody gets the issue twice under two identities;
- the queue of the next issue starts where this one was frozen.
Internal documents are refused twice: composing leaves them out, and every sending run checks
the frozen items against the catalog's current visibility before any SMTP.
A file lock keeps the scheduler and the web from sending at the same time.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from veille.core.config import Config, load_config, replace_data_dir
from veille.core.errors import VeilleError
from veille.core.records import VISIBILITY_PUBLIC
from veille.digest.alerts import all_alerts
from veille.digest.deliver import DeliveryError, deliver_bytes
from veille.digest.lettre import Lettre, Selection, build_lettre, render_html, render_text, select_items
from veille.digest.lettre_queue import MAX_QUEUE, Matcher, Queue, build_queue, profile_matches
from veille.digest.mail import envelope_sender, message_id, new_message
from veille.digest.run import run_lock
from veille.digest.unsubscribe import SECRET_NAME, make_token, unsubscribe_url
from veille.storage.catalog import Catalog
from veille.storage.lettres import (ATTEMPT_FAILED, ATTEMPT_SENT, PENDING, SCHEDULED, LettreFrozen,
                                    LettreItem, LettreRecord)
from veille.storage.subscribers import TOPIC_LETTRE

if TYPE_CHECKING:   # the scheduler is only met when `veille run` passes it in
    from veille.jobs.scheduler import VeilleScheduler

log = logging.getLogger("veille.lettre")

JOB_ID = "veille-lettre"
JOB_EVERY = timedelta(minutes=5)      # how often `veille run` looks for a lettre to send
RETRY_AFTER = timedelta(minutes=15)
MAX_ATTEMPTS = 5


class LettreError(VeilleError):
    code = "lettre"


@dataclass(frozen=True)
class LettreDelivery:
    recipient: str
    status: str          # sent | resent | failed | gave_up | left | waiting
    error: str = ""


@dataclass(frozen=True)
class LettreReport:
    numero: int
    deliveries: tuple[LettreDelivery, ...]
    done: bool           # every recipient dealt with: the issue is sent

    def count(self, *statuses: str) -> int:
        return sum(1 for d in self.deliveries if d.status in statuses)

    def summary(self) -> str:
        text = (f"lettre n° {self.numero} : {self.count('sent', 'resent')} envoi(s) réussi(s), "
                f"{self.count('failed', 'gave_up')} échec(s)")
        if self.count("left"):
            text += f", {self.count('left')} désabonné(s) entre-temps"
        if not self.done:
            text += " ; les échecs seront réessayés"
        return text


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the lettre clock must be time-zone aware")
    return moment.astimezone(timezone.utc).replace(microsecond=0)


# ---------------------------------------------------------------- the draft


def queue_start(config: Config, catalog: Catalog, now: datetime) -> datetime:
    """Where the next issue's queue starts: when the last one was frozen, else `first_days` back."""
    last = catalog.lettres.last_frozen()
    if last is not None and last.frozen is not None:
        return last.frozen
    return _utc(now) - timedelta(days=config.lettre.first_days)


def current_draft(config: Config, catalog: Catalog, now: datetime) -> LettreRecord:
    return catalog.lettres.ensure_draft(queue_start(config, catalog, now), _utc(now))


def draft_queue(config: Config, catalog: Catalog, matcher: Matcher | None, *, now: datetime,
                filters: Mapping[str, Sequence[str]]) -> tuple[LettreRecord, Queue]:
    draft = current_draft(config, catalog, now)
    now = _utc(now)
    docs = [d for d in catalog.documents.recent(draft.since, limit=MAX_QUEUE, text=False)
            if draft.since < d.first_seen <= now]
    alerts = all_alerts(config, catalog) if config.lettre.profile.alerts else []
    hits, problems = profile_matches(alerts, matcher, draft.since, now)
    queue = build_queue(docs, catalog.triage.of(draft.numero), profile=config.lettre.profile, alerts=alerts,
                        alert_hits=hits, filters=filters, problems=problems)
    return draft, queue


def _titles(config: Config) -> dict[str, str]:
    return {s.name: s.title for s in config.sources}


def draft_selection(config: Config, catalog: Catalog, draft: LettreRecord) -> Selection:
    """The draft's kept documents as the items it would be sent with (internal ones left out)."""
    triage = catalog.triage.of(draft.numero)
    docs = catalog.documents.get_many(doc_id for doc_id, state in triage.items() if state.decision == "keep")
    return select_items(docs, triage, chosen_order=draft.rubriques, base_url=config.web.base_url,
                        source_titles=_titles(config))


def lettre_of(config: Config, record: LettreRecord, items: Sequence[LettreItem], *, date: datetime,
              recipient: str = "", unsubscribe: str = "", test: bool = False) -> Lettre:
    return build_lettre(items, title=config.lettre.title, numero=record.numero, date=date,
                        editorial=record.editorial, base_url=config.web.base_url, tz=config.tz,
                        recipient=recipient, unsubscribe_url=unsubscribe, test=test)


def unsubscribe_link(config: Config, catalog: Catalog, recipient: str) -> str:
    return unsubscribe_url(config.web.base_url, make_token(catalog.secrets.get(SECRET_NAME), recipient,
                                                           TOPIC_LETTRE))


def message_bytes(config: Config, lettre: Lettre, msg_id: str, now: datetime) -> bytes:
    message = new_message(subject=lettre.subject, sender=config.digest.sender, recipient=lettre.recipient,
                          msg_id=msg_id, date=now, text=render_text(lettre), html=render_html(lettre),
                          unsubscribe_url=lettre.unsubscribe_url)
    return message.as_bytes()


def check_public(catalog: Catalog, items: Sequence[LettreItem]) -> None:
    """Refuse (LettreError) a lettre holding a document that is not public now."""
    visible = catalog.documents.visibilities(item.doc_id for item in items)
    for item in items:
        if visible.get(item.doc_id) != VISIBILITY_PUBLIC:
            raise LettreError(f"la lettre contient « {item.title} », qui n'est pas (ou plus) un document public : "
                              "elle ne peut pas être envoyée aux abonnés",
                              hint="retirez ce document de la lettre, ou rendez-le public")


# ---------------------------------------------------------------- sending


def _deliver(config: Config, raw: bytes, recipient: str, environ: Mapping[str, str]) -> str:
    """'' when the server accepted the message, else the reason, in French."""
    try:
        deliver_bytes(raw, sender=envelope_sender(config.digest.sender), recipients=[recipient],
                      smtp=config.digest.smtp, environ=environ)
    except DeliveryError as exc:
        return str(exc)
    return ""


def send_test(config: Config, catalog: Catalog, address: str, *, now: datetime,
              environ: Mapping[str, str] = os.environ) -> LettreDelivery:
    """Send the draft as it stands to `address`, marked as a test; recorded as a test attempt."""
    now = _utc(now)
    draft = current_draft(config, catalog, now)
    selection = draft_selection(config, catalog, draft)
    check_public(catalog, selection.items)
    lettre = lettre_of(config, draft, selection.items, date=now, recipient=address,
                       unsubscribe="", test=True)
    raw = message_bytes(config, lettre, message_id(uuid.uuid4().hex, config.digest.sender, "lettre-essai"), now)
    attempt = catalog.lettres.start_attempt(draft.numero, address, now=now, test=True)
    error = _deliver(config, raw, address, environ)
    if error:
        catalog.lettres.attempt_failed(attempt, error, now=now)
        return LettreDelivery(address, "failed", error)
    catalog.lettres.attempt_sent(attempt, now=now)
    return LettreDelivery(address, "sent")


def freeze(config: Config, catalog: Catalog, *, now: datetime) -> int:
    """Freeze the draft with one archived message per confirmed subscriber; returns its number."""
    now = _utc(now)
    draft = current_draft(config, catalog, now)
    selection = draft_selection(config, catalog, draft)
    if not selection.items:
        raise LettreError("la lettre ne contient aucun document gardé : rien à envoyer")
    check_public(catalog, selection.items)
    messages = []
    for recipient in catalog.subscribers.confirmed(TOPIC_LETTRE):
        lettre = lettre_of(config, draft, selection.items, date=now, recipient=recipient,
                           unsubscribe=unsubscribe_link(config, catalog, recipient))
        msg_id = message_id(f"{draft.numero}-{uuid.uuid4().hex}", config.digest.sender, "lettre")
        messages.append((recipient, msg_id, message_bytes(config, lettre, msg_id, now)))
    try:
        catalog.lettres.freeze(draft.numero, selection.items, messages, now=now)
    except LettreFrozen:
        raise LettreError(f"la lettre n° {draft.numero} est déjà partie") from None
    log.info("lettre n° %d figée : %d document(s), %d destinataire(s)", draft.numero,
             len(selection.items), len(messages))
    return draft.numero


def deliver_frozen(config: Config, catalog: Catalog, numero: int, *, now: datetime,
                   environ: Mapping[str, str] = os.environ) -> LettreReport:
    """Send a frozen issue to each recipient still pending; see the module docstring."""
    now = _utc(now)
    check_public(catalog, catalog.lettres.items(numero))
    interrupted = set(catalog.lettres.interrupt_open_attempts(numero, now=now))
    history: dict[str, list] = {}
    for attempt in catalog.lettres.attempts(numero):
        if not attempt.test:
            history.setdefault(attempt.recipient, []).append(attempt)
    deliveries = []
    for recipient in catalog.lettres.recipients(numero, status=PENDING):
        address = recipient.recipient
        if not catalog.subscribers.is_confirmed(address, TOPIC_LETTRE):
            catalog.lettres.recipient_left(numero, address)
            deliveries.append(LettreDelivery(address, "left"))
            continue
        failures = [a for a in history.get(address, []) if a.status == ATTEMPT_FAILED]
        if failures and failures[-1].finished and failures[-1].finished > now - RETRY_AFTER:
            deliveries.append(LettreDelivery(address, "waiting", failures[-1].error or ""))
            continue
        attempt = catalog.lettres.start_attempt(numero, address, now=now)
        error = _deliver(config, recipient.raw, address, environ)
        if not error:
            catalog.lettres.attempt_sent(attempt, now=now)
            deliveries.append(LettreDelivery(address, "resent" if address in interrupted else "sent"))
            continue
        catalog.lettres.attempt_failed(attempt, error, now=now)
        if len(failures) + 1 >= MAX_ATTEMPTS:
            catalog.lettres.recipient_gave_up(numero, address)
            deliveries.append(LettreDelivery(address, "gave_up", error))
            log.error("lettre n° %d : abandon pour %s après %d essais : %s", numero, address, MAX_ATTEMPTS, error)
        else:
            deliveries.append(LettreDelivery(address, "failed", error))
            log.warning("lettre n° %d non remise à %s (nouvel essai plus tard) : %s", numero, address, error)
    done = catalog.lettres.finish(numero, now=now)
    report = LettreReport(numero, tuple(deliveries), done)
    log.info("%s", report.summary())
    return report


def _lock(config: Config):
    return run_lock(config.layout.lettre_lock, busy="un envoi de la lettre est déjà en cours")


def send_now(config: Config, catalog: Catalog, *, now: datetime,
             environ: Mapping[str, str] = os.environ) -> LettreReport:
    """Freeze the draft and send it to every confirmed subscriber."""
    with _lock(config):
        numero = freeze(config, catalog, now=now)
        return deliver_frozen(config, catalog, numero, now=now, environ=environ)


def send_due(config: Config, catalog: Catalog, *, now: datetime,
             environ: Mapping[str, str] = os.environ) -> list[LettreReport]:
    """What the scheduler does: send a scheduled issue whose time came, go on with one whose
    sending was interrupted or has failures to retry, and let unconfirmed requests expire."""
    reports = []
    with _lock(config):
        catalog.subscribers.expire(_utc(now))
        for record in catalog.lettres.due(_utc(now)):
            try:
                if record.status == SCHEDULED:
                    freeze(config, catalog, now=now)
                reports.append(deliver_frozen(config, catalog, record.numero, now=now, environ=environ))
            except LettreError as exc:
                if record.status == SCHEDULED:   # back to a draft: staff see why on the lettre page
                    catalog.lettres.schedule(record.numero, None, now=_utc(now))
                log.error("lettre n° %d non envoyée : %s", record.numero, exc)
    return reports


# ---------------------------------------------------------------- schedule


def register_lettre_job(scheduler: VeilleScheduler, config: Config) -> str:
    """Put the lettre's job on `veille run`'s scheduler; returns kept/rescheduled/added.

    Through `VeilleScheduler.ensure_job` the job keeps across restarts the next run time
    recorded in the catalog. Every JOB_EVERY it sends what is due (see `send_due`),
    reloading the configuration each time from the path it is given.
    """
    from apscheduler.triggers.interval import IntervalTrigger

    return scheduler.ensure_job(JOB_ID, scheduled_lettre,
                                IntervalTrigger(seconds=int(JOB_EVERY.total_seconds()), timezone=config.tz),
                                args=(str(config.path), str(config.data_dir)), name="lettre de veille")


def scheduled_lettre(config_path: str, data_dir: str) -> None:
    """The scheduled job: never raises (the scheduler would only log a traceback)."""
    try:
        config = replace_data_dir(load_config(config_path), Path(data_dir))
        catalog = Catalog.open(config.layout)
        try:
            send_due(config, catalog, now=datetime.now(timezone.utc))
        finally:
            catalog.close()
    except Exception as exc:
        log.error("envoi programmé de la lettre impossible : %s", exc)


ATTEMPT_LABELS = {"sending": "envoi en cours", ATTEMPT_SENT: "remise au serveur", ATTEMPT_FAILED: "échec",
                  "interrupted": "interrompu (renvoyé à l'identique)"}
