"""Immediate alerts: an e-mail as soon as a crawl finds documents an alert matches.

An alert whose `frequency` is `immediate` is left out of the weekly digest. After each crawl
that brought something (and its indexing), each recipient of such alerts gets one e-mail
grouping what that source brought for all their immediate alerts; at most one per
recipient and source per hour (MIN_GAP): what a crawl finds sooner waits for the next
crawl, or for the round every FLUSH_EVERY that sends whatever waited.

The delivery keeps the digest's guarantees (see veille.digest.run): each e-mail is archived
with its exact bytes before SMTP; the period of a recipient for a source moves only once the
server accepted it; a failure is retried with everything new since; an e-mail interrupted
mid-send is resent as is (same Message-ID); the digest lock keeps a digest run and an
immediate round from composing at once. Internal documents go to staff accounts only.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable, Mapping

from veille.core.config import Config
from veille.core.errors import VeilleError
from veille.core.records import FREQUENCY_IMMEDIATE
from veille.core.schedules import schedule_trigger
from veille.digest.alerts import AlertRecord, all_alerts, subscriptions
from veille.digest.compose import DigestPeriod
from veille.digest.run import (LOOKBACK, DigestRunReport, Matcher, compose_for, resend_archived, run_lock,
                               send_composed, space_matcher, utc_second)
from veille.storage.catalog import Catalog

if TYPE_CHECKING:   # met only when `veille run` passes them in
    from veille.jobs.scheduler import VeilleScheduler
    from veille.jobs.work import Jobs
    from watch.crawler import CrawlReport

log = logging.getLogger("veille.digest")

MIN_GAP = timedelta(hours=1)         # between two immediate e-mails to one recipient for one source
FIRST_LOOKBACK = timedelta(days=1)   # how far back a recipient's first one for a source looks
FLUSH_EVERY = "15m"
JOB_ID = "alerts:immediate"


def immediate_alerts(config: Config, catalog: Catalog) -> list[AlertRecord]:
    return [a for a in all_alerts(config, catalog) if a.frequency == FREQUENCY_IMMEDIATE]


def for_source(alert: AlertRecord, source: str) -> AlertRecord | None:
    """The alert narrowed to the documents of `source`, or None if its own source filter
    leaves that source out."""
    wanted = alert.filters.get("source")
    if wanted and source not in wanted:
        return None
    return replace(alert, filters={**alert.filters, "source": (source,)})


def compose_immediate(config: Config, catalog: Catalog, matcher: Matcher, *, source: str, now: datetime):
    """The immediate e-mails due for what `source` brought: (composed, failed outcomes).

    Recipients who had one for this source less than MIN_GAP ago, and those with nothing
    new, get none (nothing is recorded for them: a later round looks again)."""
    alerts = [a for a in (for_source(alert, source) for alert in immediate_alerts(config, catalog)) if a]
    subs = subscriptions(alerts, catalog.unsubscriptions.all())
    periods: dict[str, DigestPeriod] = {}
    for address in subs:
        last = catalog.digests.period_end(address, source)
        if last is not None and now - last < MIN_GAP:
            continue
        if last is not None:
            periods[address] = DigestPeriod(start=last, end=now, lookback=LOOKBACK)
        else:
            start = catalog.digests.first_unsent_start(address, source) or now - FIRST_LOOKBACK
            periods[address] = DigestPeriod(start=start, end=now)
    subs = {address: followed for address, followed in subs.items() if address in periods}
    return compose_for(config, catalog, matcher, subs, periods, now=now, source=source, skip_empty=True)


def send_immediate(config: Config, catalog: Catalog, matcher: Matcher, *, sources: Iterable[str],
                   now: datetime, environ: Mapping[str, str] = os.environ) -> DigestRunReport:
    """Send the immediate e-mails due for what `sources` brought; see the module docstring.
    Raises VeilleError when a digest run holds the lock (the next round sends them)."""
    now = utc_second(now)
    outcomes = []
    with run_lock(config.layout.digest_lock):
        outcomes += [resend_archived(config, catalog, record, now, environ)
                     for record in catalog.digests.latest(status="sending", limit=10_000)]
        for source in dict.fromkeys(sources):
            composed, failed = compose_immediate(config, catalog, matcher, source=source, now=now)
            outcomes += failed
            outcomes += [send_composed(config, catalog, item, now, environ, source=source) for item in composed]
    return DigestRunReport(tuple(outcomes))


# ---------------------------------------------------------------- in `veille run`


def register_immediate_alerts(scheduler: VeilleScheduler, config: Config) -> str:
    """Send immediate alerts after each crawl of `veille run`, and every FLUSH_EVERY what
    waited; returns what became of the round's job (kept/rescheduled/added)."""
    jobs = scheduler.jobs
    if after_crawl not in jobs.after_crawl:
        jobs.after_crawl.append(after_crawl)
    return scheduler.ensure_job(JOB_ID, scheduled_round, schedule_trigger(FLUSH_EVERY, config.tz), args=(jobs,),
                                name="alertes immédiates en attente")


def after_crawl(report: CrawlReport, jobs: Jobs) -> None:
    if report.changed:
        send_for(jobs, [report.source])


def scheduled_round(jobs: Jobs) -> None:
    send_for(jobs, [source.name for source in jobs.config.sources])


def send_for(jobs: Jobs, sources: list[str]) -> DigestRunReport | None:
    """Send what is due for `sources` with the scheduler's catalog and search space; never
    raises (a failure waits for the next round)."""
    config = jobs.config
    try:
        if not immediate_alerts(config, jobs.catalog):
            return None
        report = send_immediate(config, jobs.catalog, space_matcher(jobs.space(), jobs.catalog),
                                sources=sources, now=datetime.now(timezone.utc))
    except VeilleError as exc:   # a digest run holds the lock: the next round sends them
        log.info("alertes immédiates remises à la prochaine tournée : %s", exc)
        return None
    except Exception:
        log.exception("alertes immédiates : échec ; nouvel essai à la prochaine tournée")
        return None
    for outcome in report.outcomes:
        if outcome.status == "failed":
            log.warning("alerte immédiate à %s non remise (nouvel essai à la prochaine tournée) : %s",
                        outcome.recipient, outcome.error)
        else:
            log.info("alerte immédiate à %s envoyée : %d document(s)", outcome.recipient, outcome.documents)
    return report
