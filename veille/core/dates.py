"""French dates for people: `12 mars 2025`, in the configured time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def french_date(value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    """`12 mars 2025` (`1er mars 2025` on the first); aware datetimes shown in `tz`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        value = value.date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def french_datetime(value: datetime | None, tz: ZoneInfo | None = None) -> str:
    """`12 mars 2025 à 14 h 05` in `tz`."""
    if value is None:
        return ""
    if tz is not None and value.tzinfo is not None:
        value = value.astimezone(tz)
    return f"{french_date(value)} à {value.hour} h {value.minute:02d}"
