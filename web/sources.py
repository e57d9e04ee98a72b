"""The status of every watched source, for the centre's team (a blueprint of its own, so that
access rules wrap it whole). The statuses come from watch.status, as for `veille sources`."""

from __future__ import annotations

from flask import Blueprint, render_template

from veille.jobs.scheduler import next_run_times
from watch.status import source_statuses
from web.auth import staff_only
from web.state import get_catalog, veille_config

bp = Blueprint("sources", __name__)
bp.before_request(staff_only)   # issue 6: sources status is staff only

PUBLIC_FIELDS = ("name", "title", "kind", "url", "schedule", "enabled", "state", "documents",
                 "last_run", "last_success", "consecutive_failures", "next_run")


def statuses():
    config, catalog = veille_config(), get_catalog()
    return source_statuses(config, catalog, next_run_times(config, catalog))


def status_json(status, staff: bool) -> dict:
    """Everything for staff; for the public, no error texts (they may name internal hosts)."""
    data = status.as_json()
    return data if staff else {key: data[key] for key in PUBLIC_FIELDS}


@bp.get("/sources")
def index():
    rows = statuses()
    return render_template("sources.html", statuses=rows,
                           failing=sum(1 for s in rows if s.state in ("failing", "backoff")))
