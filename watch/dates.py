"""French dates as listing pages print them: "12 mars 2025", "1er févr. 2025", "12/03/2025"."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "mar": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TIME = r"(?:\s*(?:a|,|-)?\s*(\d{1,2})\s*(?:h|:)\s*(\d{2})?)?"
_ISO_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2})(?::(\d{2}))?)?(z|[+-]\d{2}:?\d{2})?")
_NUMERIC_RE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b" + _TIME)
_WORDS_RE = re.compile(r"\b(\d{1,2})(?:er|e)?\s+(" + _MONTH_NAMES + r")\.?\s+(\d{4})\b" + _TIME)
_MONTH_YEAR_RE = re.compile(r"\b(" + _MONTH_NAMES + r")\.?\s+(\d{4})\b")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_french_date(text: str, tz: tzinfo | str = "America/Martinique") -> datetime | None:
    """An aware datetime from a date written the French way (or ISO 8601), else None.

    Dates without a time are taken at midnight in `tz` (the sources' local time)."""
    if not text:
        return None
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    folded = " ".join(_fold(text).split())
    match = _ISO_RE.search(folded)
    if match:
        try:
            return _iso(match.group(0).upper(), zone)
        except ValueError:
            pass
    for regex, builder in ((_WORDS_RE, _from_words), (_NUMERIC_RE, _from_numbers)):
        match = regex.search(folded)
        if match:
            try:
                return builder(match, zone)
            except ValueError:
                continue
    match = _MONTH_YEAR_RE.search(folded)
    if match:
        return datetime(int(match.group(2)), _MONTHS[match.group(1)], 1, tzinfo=zone)
    return None


def _iso(text: str, zone: tzinfo) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _time(match: re.Match, first: int) -> tuple[int, int]:
    hour, minute = match.group(first), match.group(first + 1)
    if hour is None:
        return 0, 0
    return int(hour), int(minute or 0)


def _from_words(match: re.Match, zone: tzinfo) -> datetime:
    hour, minute = _time(match, 4)
    return datetime(int(match.group(3)), _MONTHS[match.group(2)], int(match.group(1)), hour, minute,
                    tzinfo=zone)


def _from_numbers(match: re.Match, zone: tzinfo) -> datetime:
    year = int(match.group(3))
    if year < 100:
        year += 2000 if year < 70 else 1900
    hour, minute = _time(match, 4)
    return datetime(year, int(match.group(2)), int(match.group(1)), hour, minute, tzinfo=zone)
