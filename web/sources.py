"""The status of every watched source (a separate blueprint, so access rules can wrap it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, render_template

from veille.config import Config
from web import get_catalog, veille_config
from web.auth import staff_only

bp = Blueprint("sources", __name__)
bp.before_request(staff_only)   # the status page is for the centre's team (issue 6)

RUNS_LOOKED_AT = 20


@dataclass(frozen=True)
class SourceStatus:
    name: str
    title: str
    kind: str
    url: str
    schedule: str
    enabled: bool
    documents: int
    last_run: datetime | None
    last_success: datetime | None
    last_error: str | None
    failures: int                # consecutive failed runs, most recent first

    @property
    def state(self) -> str:
        if not self.enabled:
            return "disabled"
        if self.last_run is None:
            return "never"
        return "failing" if self.failures else "ok"

    def as_json(self, staff: bool = False) -> dict:
        """The public summary; error texts (which may name internal hosts) for staff only."""
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {"name": self.name, "title": self.title, "kind": self.kind, "url": self.url,
                "schedule": self.schedule, "enabled": self.enabled, "state": self.state,
                "documents": self.documents, "last_run": iso(self.last_run),
                "last_success": iso(self.last_success),
                "last_error": self.last_error if staff else None,
                "consecutive_failures": self.failures}


def source_statuses(config: Config, catalog) -> list[SourceStatus]:
    """One status per configured source, from the catalog's run log."""
    counts = catalog.counts_by("source")
    out = []
    for source in config.sources:
        runs = catalog.runs(source.name, limit=RUNS_LOOKED_AT)
        finished = [r for r in runs if r.finished is not None]
        failures = 0
        for run in finished:
            if not run.error:
                break
            failures += 1
        success = next((r for r in finished if not r.error), None)
        failed = next((r for r in finished if r.error), None)
        out.append(SourceStatus(
            name=source.name, title=source.title, kind=source.kind, url=source.url,
            schedule=source.schedule, enabled=source.enabled, documents=counts.get(source.name, 0),
            last_run=runs[0].started if runs else None,
            last_success=success.finished if success else None,
            last_error=failed.error if failed and failures else None, failures=failures))
    return out


STATE_LABELS = {"ok": "en service", "failing": "en échec", "never": "jamais relevée",
                "disabled": "désactivée"}


@bp.get("/sources")
def index():
    statuses = source_statuses(veille_config(), get_catalog())
    return render_template("sources.html", statuses=statuses, state_labels=STATE_LABELS,
                           failing=sum(1 for s in statuses if s.state == "failing"))
