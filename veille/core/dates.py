"""French dates for people: `12 mars 2025`.

Two kinds of dates reach people, and they are shown differently:
- a publication date is a calendar date as its source stated it (`2020-12-23T01:00:00+01:00`
  is the 23rd): never moved into another time zone (`calendar_date`);
- a time the service noted (crawl, update, sending) is an instant, shown in the configured
  time zone (`french_date(value, tz)`, `french_datetime`).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def calendar_date(value: date | datetime) -> date:
    """The calendar date a source stated: a date-time's own date, in the offset it was given
    with, never converted (`2020-12-23T01:00:00+01:00` -> 23 December 2020)."""
    return value.date() if isinstance(value, datetime) else value


def noted_date(value: date | datetime, tz: ZoneInfo | None) -> date:
    """The calendar date of an instant the service noted (first seen, updated), in `tz`."""
    if isinstance(value, datetime):
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        return value.date()
    return value


def french_date(value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    """`12 mars 2025` (`1er mars 2025` on the first); aware datetimes shown in `tz`."""
    if value is None:
        return ""
    value = noted_date(value, tz)
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def french_datetime(value: datetime | None, tz: ZoneInfo | None = None) -> str:
    """`12 mars 2025 à 14 h 05` in `tz`."""
    if value is None:
        return ""
    if tz is not None and value.tzinfo is not None:
        value = value.astimezone(tz)
    return f"{french_date(value)} à {value.hour} h {value.minute:02d}"
