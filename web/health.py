"""`/healthz`: is the service doing its job? 200 with JSON when it is, 503 naming what is not.

For a monitor (or a person with curl): the index answers a search, the data directory can be
written and has room, the scheduler runs (under `veille run`, which registers it as
`app.state.scheduler`), the last successful crawl is recent enough, and the
last digest was not a failure. Public and cheap: no document, address or path is shown.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify

from indexer.search.request import SearchRequest
from veille.core.errors import os_error_reason
from veille.core.config import Config
from veille.core.schedules import parse_interval
from web.state import app_state, get_catalog, get_space, veille_config

bp = Blueprint("health", __name__)

MIN_FREE_BYTES = 200 * 1024 * 1024
MIN_STALE = timedelta(days=1)
CRON_STALE = timedelta(days=8)     # cron schedules: at worst weekly, plus a day's grace


def crawl_stale_after(config: Config) -> timedelta:
    """How old the last successful crawl may be: twice the longest source interval, at least
    a day (a source on a cron schedule counts as weekly)."""
    longest = timedelta(0)
    for source in config.sources:
        if not source.enabled:
            continue
        seconds = parse_interval(source.schedule)
        longest = max(longest, timedelta(seconds=seconds) if seconds else CRON_STALE / 2)
    return max(MIN_STALE, 2 * longest)


def _age(when: datetime | None, now: datetime) -> int | None:
    return None if when is None else max(0, int((now - when).total_seconds()))


def check_health(now: datetime | None = None) -> tuple[dict, list[str]]:
    """The report and the list of problems (empty when healthy)."""
    now = now or datetime.now(timezone.utc)
    config = veille_config()
    problems: list[str] = []
    report: dict = {"time": now.isoformat(timespec="seconds")}

    try:
        space = get_space()
        found = space.search(SearchRequest(q="", per_page=1, facets=False, highlight=False))
        missing = space.missing_files()
        report["index"] = {"ok": not missing, "documents": found.total}
        if missing:
            report["index"]["missing_files"] = len(missing)
            problems.append(f"index : {len(missing)} fichier(s) manquant(s) (veille index --rebuild)")
    except Exception as exc:  # any failure to read the index is the news here
        report["index"] = {"ok": False, "error": type(exc).__name__}
        problems.append(f"index : illisible ({type(exc).__name__})")

    data_dir = config.data_dir
    try:
        free = shutil.disk_usage(data_dir).free
        writable = os.access(data_dir, os.W_OK)
    except OSError as exc:
        free, writable = 0, False
        problems.append(f"dossier de données : {os_error_reason(exc)}")
    report["storage"] = {"writable": writable, "free_bytes": free}
    if not writable:
        problems.append("dossier de données : écriture impossible")
    elif free < MIN_FREE_BYTES:
        problems.append(f"dossier de données : disque presque plein ({free // (1024 * 1024)} Mo libres)")

    scheduler = app_state().scheduler
    if scheduler is None:
        report["scheduler"] = {"running": None, "note": "pas lancé par ce processus (veille serve)"}
    else:
        running = bool(getattr(scheduler, "running", False))
        report["scheduler"] = {"running": running}
        if not running:
            problems.append("planificateur : arrêté")

    try:
        catalog = get_catalog()
        damage = app_state().catalog_damage()
        report["catalog"] = {"ok": damage is None}
        if damage:
            problems.append("catalogue : endommagé (veille restore d'une sauvegarde)")
        catalog.documents.count()
        last_crawl = catalog.runs.last_successful_crawl()
        latest = catalog.digests.latest(limit=1)
        sent = catalog.digests.latest(status="sent", limit=1)
    except Exception as exc:
        report["catalog"] = {"ok": False, "error": type(exc).__name__}
        problems.append(f"catalogue : illisible ({type(exc).__name__}) (veille restore d'une sauvegarde)")
        last_crawl, latest, sent = None, [], []
    stale_after = crawl_stale_after(config)
    age = _age(last_crawl, now)
    report["crawl"] = {"last_success": last_crawl.isoformat() if last_crawl else None,
                       "age_seconds": age, "stale_after_seconds": int(stale_after.total_seconds())}
    if age is not None and age > stale_after.total_seconds():
        problems.append(f"relevés : aucun relevé réussi depuis {age // 3600} h")
    last_sent = sent[0].sent if sent else None
    report["digest"] = {"last_sent": last_sent.isoformat() if last_sent else None,
                        "last_status": latest[0].status if latest else None}
    if latest and latest[0].status == "failed":
        problems.append("lettre de veille : la dernière lettre n'a pas pu être envoyée")

    report["ok"] = not problems
    report["problems"] = problems
    return report, problems


@bp.get("/healthz")
def healthz():
    report, problems = check_health()
    response = jsonify(report)
    response.status_code = 503 if problems else 200
    response.headers["Cache-Control"] = "no-store"
    return response
