"""What `veille sources` and the sources page show about each watched source.

`source_statuses(config, catalog, next_runs)` reads the catalog (run log, per-source state,
document counts) and takes the scheduler's next run times as an argument, so the same
function serves the CLI and the web page (both read them from the catalog through
`veille.jobs.scheduler.next_run_times`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from veille.storage.catalog import Catalog
from veille.core.config import Config
from veille.core.schedules import schedule_trigger
from veille.core.url_secrets import masked_text, masked_url

STATE_LABELS = {"ok": "en service", "failing": "en échec", "backoff": "en attente après échecs",
                "never": "jamais relevée", "disabled": "en pause"}


@dataclass(frozen=True)
class SourceStatus:
    name: str
    title: str
    kind: str
    url: str
    schedule: str
    enabled: bool
    documents: int                          # catalog documents gathered from this source
    last_run: datetime | None               # start of the latest run
    last_success: datetime | None
    last_error: str | None                  # the latest error, kept after a recovery
    last_error_code: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    backoff_until: datetime | None          # scheduled runs are skipped until then
    next_run: datetime | None               # None: not scheduled (`veille run` never started)
    last_new: int = 0
    last_updated: int = 0
    last_warning: str | None = None

    @property
    def state(self) -> str:
        if not self.enabled:
            return "disabled"
        if self.last_run is None:
            return "never"
        if self.consecutive_failures:
            return "backoff" if self.backoff_until is not None else "failing"
        return "ok"

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    def as_json(self) -> dict:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {"name": self.name, "title": self.title, "kind": self.kind, "url": self.url,
                "schedule": self.schedule, "enabled": self.enabled, "state": self.state,
                "documents": self.documents, "last_run": iso(self.last_run),
                "last_success": iso(self.last_success), "last_error": self.last_error,
                "last_error_code": self.last_error_code, "last_error_at": iso(self.last_error_at),
                "consecutive_failures": self.consecutive_failures,
                "backoff_until": iso(self.backoff_until), "next_run": iso(self.next_run),
                "last_new": self.last_new, "last_updated": self.last_updated,
                "last_warning": self.last_warning}


def source_statuses(config: Config, catalog: Catalog, next_runs: Mapping[str, datetime] | None = None,
                    now: datetime | None = None) -> list[SourceStatus]:
    """One status per configured source, in the configuration's order."""
    now = now or datetime.now(timezone.utc)
    counts = catalog.documents.counts_by("source")
    states = catalog.source_state.all()
    last_runs = catalog.runs.last_per_source()
    next_runs = next_runs or {}
    out = []
    for source in config.sources:
        state = states.get(source.name)
        run = last_runs.get(source.name)
        backoff = state.backoff_until if state and state.backoff_until and state.backoff_until > now else None
        next_run = next_runs.get(source.name) if source.enabled else None
        if next_run is not None and backoff is not None and next_run < backoff:
            next_run = _first_run_after(source.schedule, config, backoff) or backoff
        out.append(SourceStatus(
            name=source.name, title=source.title, kind=source.kind, url=masked_url(source.url),
            schedule=source.schedule, enabled=source.enabled, documents=counts.get(source.name, 0),
            last_run=run.started if run else None,
            last_success=state.last_success if state else None,
            last_error=masked_text(state.last_error) if state else None,
            last_error_code=state.last_error_code if state else None,
            last_error_at=state.last_error_at if state else None,
            consecutive_failures=state.consecutive_failures if state else 0,
            backoff_until=backoff, next_run=next_run,
            last_new=run.new if run else 0, last_updated=run.updated if run else 0,
            last_warning=masked_text(run.warning) if run else None))
    return out


def _first_run_after(schedule: str, config: Config, when: datetime) -> datetime | None:
    """The first scheduled time at or after `when` (a backing-off source skips the others)."""
    trigger = schedule_trigger(schedule, config.tz)
    if hasattr(trigger, "interval"):
        return when  # intervals run from their own start: the first run after the pause
    return trigger.get_next_fire_time(None, when)
