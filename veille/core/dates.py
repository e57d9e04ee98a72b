"""French dates for people, in one style: `12 mars 2025`, `12 mars 2025 à 14 h 05`.

Month and day names come from Babel's CLDR data (`fr_FR`); only the house's typographic
choices are ours: `1er` on the first of the month and `14 h 05` for times. Machine formats
(JSON, Atom, `datetime` attributes, `--json`) stay ISO 8601 and never come through here.

Two kinds of dates reach people, and they are shown differently:
- a publication date is a calendar date as its source stated it (`2020-12-23T01:00:00+01:00`
  is the 23rd): never moved into another time zone (`calendar_date`);
- a time the service noted (crawl, update, sending) is an instant, shown in the configured
  time zone (`french_date(value, tz)`, `french_datetime`).
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_time

LOCALE = Locale.parse("fr_FR")
TIME_PATTERN = "H 'h' mm"   # 14 h 05, 9 h 00


def calendar_date(value: date | datetime) -> date:
    """The calendar date a source stated: a date-time's own date, in the offset it was given
    with, never converted (`2020-12-23T01:00:00+01:00` -> 23 December 2020)."""
    return value.date() if isinstance(value, datetime) else value


def noted_date(value: date | datetime, tz: tzinfo | None) -> date:
    """The calendar date of an instant the service noted (first seen, updated), in `tz`."""
    if isinstance(value, datetime):
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        return value.date()
    return value


def french_date(value: date | datetime | None, tz: tzinfo | None = None) -> str:
    """`12 mars 2025` (`1er mars 2025` on the first); aware datetimes shown in `tz`."""
    if value is None:
        return ""
    return _long_date(noted_date(value, tz))


@lru_cache(maxsize=4096)   # a page shows the same few days many times; Babel takes ~15 µs a date
def _long_date(day: date) -> str:
    # CLDR writes "1 mars"; French typography writes the first of the month "1er"
    return format_date(day, "d'er' MMMM y" if day.day == 1 else "d MMMM y", locale=LOCALE)


@lru_cache(maxsize=1440)
def _time_of_day(hour: int, minute: int) -> str:
    return format_time(time(hour, minute), TIME_PATTERN, locale=LOCALE)


def french_datetime(value: datetime | None, tz: tzinfo | None = None) -> str:
    """`12 mars 2025 à 14 h 05` in `tz`."""
    if value is None:
        return ""
    if tz is not None and value.tzinfo is not None:
        value = value.astimezone(tz)
    return f"{french_date(value)} à {_time_of_day(value.hour, value.minute)}"


def french_short_datetime(value: datetime | None, tz: tzinfo | None = None) -> str:
    """`12 mars 2025, 14 h 05` — for console tables, where `à` would only widen the column."""
    if value is None:
        return ""
    return french_datetime(value, tz).replace(" à ", ", ", 1)
