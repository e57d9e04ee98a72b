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


# ---------------------------------------------------------------- in words, for people

_UNIT_WORDS = (("w", 604800, "semaine", "semaines", "chaque semaine"),
               ("d", 86400, "jour", "jours", "chaque jour"),
               ("h", 3600, "heure", "heures", "chaque heure"),
               ("m", 60, "minute", "minutes", "chaque minute"),
               ("s", 1, "seconde", "secondes", "chaque seconde"))
_CRON_DAYS = {"sun": 6, "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5,
              "0": 6, "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}


def describe_schedule(text: str) -> str:
    """A schedule in French words: `6h` -> « toutes les 6 heures », `1d` -> « chaque jour »,
    `0 7 * * mon` -> « le lundi à 7 h 00 »; a cron string too intricate to say simply is
    quoted as it is."""
    text = text.strip()
    if text == "off":
        return "jamais"
    seconds = parse_interval(text)
    if seconds is not None:
        for _, size, one, several, each in _UNIT_WORDS:
            if seconds % size == 0 and seconds >= size:
                count = seconds // size
                if count == 1:
                    return each
                return f"{'tous' if one == 'jour' else 'toutes'} les {count} {several}"
        return text
    fields = text.split()
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit() and fields[2] == fields[3] == "*":
        at = f"à {int(fields[1])} h {int(fields[0]):02d}"
        if fields[4] == "*":
            return f"chaque jour {at}"
        days = [_CRON_DAYS.get(day.lower()) for day in fields[4].split(",")]
        if None not in days:
            from babel.dates import get_day_names

            names = get_day_names("wide", locale="fr_FR")
            words = [names[day] for day in days]
            if len(words) == 1:
                return f"le {words[0]} {at}"
            return f"les {', '.join(words[:-1])} et {words[-1]} {at}"
    return f"selon l'expression cron « {text} »"
