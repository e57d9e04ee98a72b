"""Schedules as `sources.yaml` writes them: an interval (`30m`, `6h`, `1d`) or a cron string.

Validation (`schedule_problem`) and the APScheduler trigger (`schedule_trigger`) read the
same text the same way, so what `veille check` accepts is exactly what the scheduler runs.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

INTERVAL_RE = re.compile(r"^(\d+)\s*([smhdw])$")
INTERVAL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_INTERVAL = 366 * 86400


def parse_interval(text: str) -> int | None:
    """Seconds of an interval like `30m`, `6h`, `1d`, or None if `text` is not one."""
    match = INTERVAL_RE.match(text.strip())
    if not match:
        return None
    return int(match.group(1)) * INTERVAL_UNITS[match.group(2)]


def valid_tz(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


def schedule_problem(text: str, tz: str) -> str | None:
    """Why `text` is not a schedule (in French, for `veille check`), or None."""
    seconds = parse_interval(text)
    if seconds is not None:
        if seconds < 60:
            return "l'intervalle doit être d'au moins 1m"
        # the scheduler turns it into a timedelta: keep it to a sensible, representable span
        return None if seconds <= MAX_INTERVAL else "l'intervalle doit être d'au plus 366d"
    if len(text.split()) != 5:
        return "ni un intervalle (30m, 6h, 1d) ni une expression cron à 5 champs"
    try:
        CronTrigger.from_crontab(text, timezone=tz if valid_tz(tz) else "UTC")
    except ValueError as exc:
        return f"expression cron invalide : {exc}"   # APScheduler's words, in English
    return None


def schedule_trigger(schedule: str, tz) -> BaseTrigger:
    """The trigger of a `schedule` string: an interval (30m, 6h, 1d) or a 5-field cron."""
    seconds = parse_interval(schedule)
    if seconds is not None:
        return IntervalTrigger(seconds=seconds, timezone=tz)
    return CronTrigger.from_crontab(schedule, timezone=tz)
