"""The digest run: one e-mail per recipient covering what is new since their last digest.

Delivery state lives in the catalog, so a run can be interrupted anywhere:
- a digest is archived with status `sending` (and its exact MIME bytes) *before* SMTP;
- success marks it `sent` and moves the recipient's period end, in one transaction;
- a failure marks it `failed` and leaves the period alone: the next run composes a new digest
  from the same start, so nothing is lost;
- a digest still `sending` at the next run means the process died during SMTP: it is resent
  as is (its archived bytes, same Message-ID: mail clients drop a duplicate Message-ID), never
  recomposed, so no recipient gets two different digests for one period; when that resend
  fails too, no other digest is composed for the recipient in the same run;
- each digest row is one attempt to one recipient: a new digest to a recipient whose earlier
  one failed carries that one's documents (it starts where the failed one started), so the
  failed one is marked superseded when the new one is archived.
A file lock keeps two runs (scheduler and CLI) from composing for the same recipient at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Sequence

from veille.storage.catalog import Catalog
from veille.storage.digests import DigestItem, DigestRecord
from veille.core.config import Config, load_config, replace_data_dir
from veille.core.schedules import schedule_trigger
from veille.digest.alerts import AlertRecord, all_alerts, subscriptions
from veille.digest.compose import (Digest, DigestPeriod, Match, build_digest, document_link, immediate_digest,
                                   next_period, render_html, render_text, snippet_parts)
from veille.digest.deliver import DeliveryError, deliver_bytes
from veille.digest.mail import build_message, envelope_sender, message_id
from veille.digest.unsubscribe import SECRET_NAME, make_token, unsubscribe_url
from veille.core.errors import VeilleError
from veille.core.records import FREQUENCY_WEEKLY, VISIBILITY_PUBLIC

if TYPE_CHECKING:   # the scheduler is only met when `veille run` passes it in
    from veille.jobs.scheduler import VeilleScheduler

log = logging.getLogger("veille.digest")

# (alert, since, until) -> the documents it matches that were first seen in (since, until]
Matcher = Callable[[AlertRecord, datetime, datetime], Sequence[Match]]

JOB_ID = "veille-digest"
# Each digest also looks this far before its period for documents crawled before the last
# digest but indexed after it; those already sent to the recipient are left out.
LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Composed:
    """A recipient's digest, rendered, with the alert/document pairs it archives."""

    digest: Digest
    html: str
    text: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class Outcome:
    recipient: str
    status: str                  # sent | resent | failed | empty
    documents: int = 0
    digest_id: str | None = None
    error: str = ""


@dataclass(frozen=True)
class DigestRunReport:
    outcomes: tuple[Outcome, ...]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return not self.count("failed")

    def summary(self) -> str:
        return (f"{self.count('sent') + self.count('resent')} courriel(s) d'alertes envoyé(s), "
                f"{self.count('failed')} en échec, {self.count('empty')} sans nouveauté")


# ---------------------------------------------------------------- composing


def utc_second(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the digest clock must be time-zone aware")
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def compose_digests(config: Config, catalog: Catalog, matcher: Matcher, *, now: datetime,
                    recipient: str | None = None) -> tuple[list[Composed], list[Outcome]]:
    """Every recipient's digest for the period ending `now`, without sending or recording.

    Returns the digests and the recipients that could not be composed (an alert's search
    failed: their digest waits, since sending it without that alert would lose its news).
    """
    now = utc_second(now)
    # immediate alerts are sent after each crawl (veille.digest.immediate), not in the digest
    alerts = [a for a in all_alerts(config, catalog) if a.frequency == FREQUENCY_WEEKLY]
    subs = subscriptions(alerts, catalog.unsubscriptions.all())
    if recipient is not None:
        subs = {r: a for r, a in subs.items() if r == recipient.strip().lower()}
    periods = {r: next_period(now, config.digest.period_days, catalog.digests.period_end(r),
                              catalog.digests.first_unsent_start(r), LOOKBACK) for r in subs}
    return compose_for(config, catalog, matcher, subs, periods, now=now)


def compose_for(config: Config, catalog: Catalog, matcher: Matcher, subs: Mapping[str, list[AlertRecord]],
                periods: Mapping[str, DigestPeriod], *, now: datetime, source: str | None = None,
                skip_empty: bool = False) -> tuple[list[Composed], list[Outcome]]:
    """The e-mail of each recipient in `subs` for their `periods`: the weekly digest, or
    (with `source`) the immediate e-mail of what that source brought."""
    secret = catalog.secrets.get(SECRET_NAME)
    base_url = config.web.base_url
    titles = {s.name: s.title for s in config.sources}

    # each alert is searched once, over the longest period one of its recipients needs
    found: dict[str, list[Match]] = {}
    broken: dict[str, str] = {}
    for alert in {a.key: a for followed in subs.values() for a in followed}.values():
        since = min(periods[r].since for r, followed in subs.items() if alert in followed)
        try:
            found[alert.key] = list(matcher(alert, since, now))
        except Exception as exc:  # one broken alert must not stop the others' digests
            broken[alert.key] = f"alerte « {alert.name} » : {exc}"
            log.error("alertes : la recherche de l'alerte « %s » a échoué : %s", alert.name, exc)

    # internal documents go to the centre's team only: addresses with a staff account
    public = {key: [m for m in matches if m.document.visibility == VISIBILITY_PUBLIC]
              for key, matches in found.items()}
    composed, failed = [], []
    for address, followed in subs.items():
        problems = [broken[a.key] for a in followed if a.key in broken]
        if problems:
            failed.append(Outcome(address, "failed", error="; ".join(problems)))
            continue
        visible = found if catalog.users.get(address) is not None else public
        period = periods[address]
        already_sent = catalog.digests.sent_documents(address, period.since, source) if period.lookback else set()
        digest = build_digest(
            address, period, [(a, visible[a.key]) for a in followed], base_url=base_url, tz=config.tz,
            source_titles=titles,
            unsubscribe_url=unsubscribe_url(base_url, make_token(secret, address)),
            alert_unsubscribe_urls={a.key: unsubscribe_url(base_url, make_token(secret, address, a.key))
                                    for a in followed},
            already_sent=already_sent)
        if skip_empty and digest.empty:
            continue
        if source is not None:
            digest = immediate_digest(digest, titles.get(source, source))
        composed.append(Composed(digest=digest, html=render_html(digest), text=render_text(digest),
                                 items=_items(followed, visible, period, base_url, already_sent, config.tz)))
    return composed, failed


def _items(followed: Sequence[AlertRecord], found: Mapping[str, list[Match]], period: DigestPeriod,
           base_url: str, already_sent: set[str], tz) -> tuple[DigestItem, ...]:
    items = {}
    for alert in followed:
        for match in found[alert.key]:
            doc = match.document
            if doc.first_seen in period and doc.id not in already_sent:
                text, _ = snippet_parts(match.snippet, doc.summary or doc.content)
                items[(alert.key, doc.id)] = DigestItem(
                    alert=alert.key, doc_id=doc.id, title=doc.title, link=document_link(base_url, doc.id),
                    # the publication date as stated, else the day it came in, in the centre's zone
                    date=doc.published or doc.first_seen.astimezone(tz), summary=text)
    return tuple(items.values())


# ---------------------------------------------------------------- sending


@contextmanager
def run_lock(path: Path, busy: str = "un autre envoi des alertes est en cours") -> Iterator[None]:
    """Exclusive while a run lasts; released by the OS if the process dies. `busy` is the
    message of the VeilleError raised when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise VeilleError(busy) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_digest(config: Config, catalog: Catalog, matcher: Matcher, *, now: datetime,
               environ: Mapping[str, str] = os.environ) -> DigestRunReport:
    """Send every recipient their digest for the period ending `now`; see the module docstring."""
    now = utc_second(now)
    with run_lock(config.layout.digest_lock):
        outcomes = [resend_archived(config, catalog, record, now, environ)
                    for record in catalog.digests.latest(status="sending", limit=10_000)]
        # one attempt per recipient and run: a failed resend waits for the next run
        held = {o.recipient for o in outcomes if o.status == "failed"}
        composed, failed = compose_digests(config, catalog, matcher, now=now)
        outcomes += failed
        for item in composed:
            if item.digest.recipient in held:
                continue
            if item.digest.empty and not config.digest.send_empty:
                outcomes.append(Outcome(item.digest.recipient, "empty"))
                continue
            outcomes.append(send_composed(config, catalog, item, now, environ))
    report = DigestRunReport(tuple(outcomes))
    log.info("alertes : %s", report.summary())
    return report


def send_composed(config: Config, catalog: Catalog, item: Composed, now: datetime,
          environ: Mapping[str, str], source: str | None = None) -> Outcome:
    """Archive `item` (before SMTP), send it, and record what came of it; `source` for an
    immediate e-mail."""
    digest = item.digest
    digest_id = uuid.uuid4().hex
    msg_id = message_id(digest_id, config.digest.sender)
    message = build_message(digest, html=item.html, text=item.text, sender=config.digest.sender,
                            msg_id=msg_id, date=now)
    raw = message.as_bytes()
    catalog.digests.add(DigestRecord(
        id=digest_id, recipient=digest.recipient, period_start=digest.period.start,
        period_end=digest.period.end, created=now, status="sending", message_id=msg_id,
        subject=digest.subject, documents=digest.total, html=item.html, raw=raw,
        kind="weekly" if source is None else "immediate", source=source),
        item.items)
    try:
        deliver_bytes(raw, sender=envelope_sender(config.digest.sender), recipients=[digest.recipient],
                      smtp=config.digest.smtp, environ=environ)
    except DeliveryError as exc:
        catalog.digests.mark_failed(digest_id, str(exc))
        log.warning("courriel d'alertes à %s non remis (nouvel essai au prochain envoi) : %s", digest.recipient, exc)
        return Outcome(digest.recipient, "failed", digest.total, digest_id, str(exc))
    catalog.digests.mark_sent(digest_id, sent=now)
    log.info("courriel d'alertes à %s envoyé : %d document(s)", digest.recipient, digest.total)
    return Outcome(digest.recipient, "sent", digest.total, digest_id)


def resend_archived(config: Config, catalog: Catalog, record: DigestRecord, now: datetime,
            environ: Mapping[str, str]) -> Outcome:
    try:
        deliver_bytes(record.raw, sender=envelope_sender(config.digest.sender), recipients=[record.recipient],
                      smtp=config.digest.smtp, environ=environ)
    except DeliveryError as exc:
        catalog.digests.mark_failed(record.id, str(exc))
        log.warning("courriel d'alertes interrompu à %s non remis : %s", record.recipient, exc)
        return Outcome(record.recipient, "failed", record.documents, record.id, str(exc))
    catalog.digests.mark_sent(record.id, sent=now)
    log.info("courriel d'alertes interrompu à %s renvoyé", record.recipient)
    return Outcome(record.recipient, "resent", record.documents, record.id)


# ---------------------------------------------------------------- search and schedule


def space_matcher(space, catalog: Catalog, *, per_page: int = 100, limit: int = 1000) -> Matcher:
    """A Matcher over `indexer.search.space.DocumentSpace`, exact on first-seen times via the catalog."""
    from indexer.search.request import SearchRequest

    def match(alert: AlertRecord, since: datetime, until: datetime) -> list[Match]:
        # the engine filters by day; the catalog's timestamps then cut the exact period
        after = (since - timedelta(days=1)).date()
        out: list[Match] = []
        page = 1
        while True:
            # everything: who may read an internal document is decided per recipient
            results = space.search(SearchRequest(q=alert.query, filters=alert.search_filters,
                                                 first_seen_after=after, sort="date", page=page,
                                                 per_page=per_page, facets=False, include_internal=True))
            docs = catalog.documents.get_many(hit.id for hit in results.hits)
            for hit in results.hits:
                doc = docs.get(hit.id)
                if doc is not None and since < doc.first_seen <= until:
                    out.append(Match(doc, hit.snippet))
            if not results.hits or page >= results.pages or page * per_page >= limit:
                return out
            page += 1

    return match


def register_digest_job(scheduler: VeilleScheduler, config: Config) -> str:
    """Put the digest job on `veille run`'s scheduler; returns kept/rescheduled/added.

    Through `VeilleScheduler.ensure_job`, a job whose schedule did not change keeps the next
    run time recorded in the catalog, so a digest that fell due while the process was down
    is sent once on restart, and a restart never adds a second one. The job reloads the
    configuration when it fires (from the path it is given), picking up edited alerts.
    """
    return scheduler.ensure_job(JOB_ID, scheduled_digest, schedule_trigger(config.digest.schedule, config.tz),
                                args=(str(config.path), str(config.data_dir)), name="digest e-mail")


def scheduled_digest(config_path: str, data_dir: str) -> None:
    """The scheduled job: never raises (the scheduler would only log a traceback)."""
    try:
        config = replace_data_dir(load_config(config_path), Path(data_dir))
        report = send_digests(config, now=datetime.now(timezone.utc))
        if not report.ok:
            for outcome in report.outcomes:
                if outcome.status == "failed":
                    log.error("courriel d'alertes à %s en échec : %s", outcome.recipient, outcome.error)
    except Exception as exc:
        log.error("l'envoi des alertes a échoué : %s", exc)


def open_space(config: Config):
    from indexer.search.space import DocumentSpace

    return DocumentSpace(config)


def send_digests(config: Config, *, now: datetime) -> DigestRunReport:
    """The whole run with the real search engine and catalog of `config` (CLI, scheduler)."""
    catalog = Catalog.open(config.layout)
    space = open_space(config)
    try:
        try:
            # documents crawled but not yet indexed would otherwise wait for the next digest
            space.index_pending()
        except Exception as exc:  # the index writer may be busy: LOOKBACK catches up next time
            log.warning("alertes : les documents en attente n'ont pas pu être indexés avant : %s", exc)
        return run_digest(config, catalog, space_matcher(space, catalog), now=now)
    finally:
        space.close()
        catalog.close()
