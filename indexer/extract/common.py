"""Helpers shared by the format extractors: text clean-up, dates, language, titles."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

# Dates without a zone are read as local time at the centre.
LOCAL_TZ = ZoneInfo("America/Martinique")

# Invisible characters that split words in extracted text (soft hyphen, zero-width marks, BOM).
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # C0 and C1 controls
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """NFKC (so ligatures such as ﬁ become fi), no invisible characters, tidy spaces.

    Line breaks are kept (paragraphs matter for snippets); form feeds separate PDF pages.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    # strip spaces only: a form feed at a line's edge is a page boundary and must stay
    lines = [_SPACES.sub(" ", line).strip(" ") for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n ")


# ------------------------------------------------------------------ language

_STOPWORDS = {
    "fr": set("le la les des du de un une et est dans pour que qui sur par pas au aux avec "
              "sont ce cette ces il elle ils nous vous leur leurs plus ou mais".split()),
    "en": set("the of and to in is that for it with as was on are be by this from or have "
              "an not which at but they their has".split()),
    "de": set("der die das und ist nicht mit den dem von zu ein eine sich auf für des im "
              "auch als wird bei oder".split()),
    "es": set("el la los las y en que del se por con una para es su al lo como más pero "
              "sus le ya".split()),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def guess_language(text: str, sample: int = 20000) -> str:
    """ISO 639-1 code of the language the text is most likely in, or "" when unsure."""
    counts = dict.fromkeys(_STOPWORDS, 0)
    words = 0
    for match in _WORD.finditer(text[:sample].lower()):
        words += 1
        word = match.group()
        for lang, stops in _STOPWORDS.items():
            if word in stops:
                counts[lang] += 1
    best = max(counts, key=counts.get)
    ranked = sorted(counts.values(), reverse=True)
    # a few function words are not enough, and a near tie says nothing
    if ranked[0] < 3 or ranked[0] < 0.05 * words or ranked[0] < 1.5 * ranked[1]:
        return ""
    return best


# ------------------------------------------------------------------ dates

_MONTHS_FR = {
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "mars": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8,
    "septembre": 9, "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "décembre": 12, "decembre": 12, "déc": 12, "dec": 12,
}
_FR_DATE = re.compile(r"\b(\d{1,2})(?:er)?\s+([a-zéèûô]+)\.?\s+(\d{4})\b", re.IGNORECASE)
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_PDF_DATE = re.compile(r"^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=LOCAL_TZ) if value.tzinfo is None else value


def _valid(year: int) -> bool:
    return 1800 <= year <= 2200


def parse_date(text: str | None) -> datetime | None:
    """A datetime (with a zone) from the date formats found in metadata, or None.

    Understands ISO 8601, `D:YYYYMMDDHHmmSS+hh'mm'` (PDF), RFC 2822, `31/12/2024` and French
    dates such as `1er mars 2024`. Dates without a zone are taken as Martinique time.
    """
    if not text:
        return None
    text = str(text).strip()
    if not text:
        return None
    try:
        if text.startswith("D:"):
            return _pdf_date(text)
        candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
        value = datetime.fromisoformat(candidate)
        return _aware(value) if _valid(value.year) else None
    except ValueError:
        pass
    match = _DMY.match(text)
    if match:
        day, month, year = map(int, match.groups())
        try:
            return _aware(datetime(year, month, day)) if _valid(year) else None
        except ValueError:
            return None
    match = _FR_DATE.search(text)
    if match and match.group(2).lower() in _MONTHS_FR:
        day, year = int(match.group(1)), int(match.group(3))
        try:
            return _aware(datetime(year, _MONTHS_FR[match.group(2).lower()], day)) if _valid(year) else None
        except ValueError:
            return None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return _aware(value) if value and _valid(value.year) else None


def _pdf_date(text: str) -> datetime | None:
    match = _PDF_DATE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, sign, tzh, tzm = match.groups()
    try:
        value = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0),
                         int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if not _valid(value.year):
        return None
    if sign in ("Z", "z"):
        return value.replace(tzinfo=timezone.utc)
    if sign in ("+", "-") and tzh:
        from datetime import timedelta

        offset = timedelta(hours=int(tzh), minutes=int(tzm or 0))
        return value.replace(tzinfo=timezone(offset if sign == "+" else -offset))
    return _aware(value)


# ------------------------------------------------------------------ titles

_HEADING_MAX = 160


def first_heading(text: str) -> str:
    """The first line that looks like a title: not a number, a date or a long sentence."""
    for raw in text.split("\n")[:40]:
        line = raw.strip(" \t\f-–—•*#")
        if len(line) < 4 or len(line) > _HEADING_MAX:
            continue
        letters = sum(ch.isalpha() for ch in line)
        if letters < 4 or letters < 0.5 * len(line) or not re.search(r"[^\W\d_]{3}", line):
            continue
        if line.endswith((",", ";")) or line.lower().startswith(("page ", "http")):
            continue
        return line
    return ""


# ------------------------------------------------------------------ zip containers

# DOCX and ODT are zip files: refuse to inflate one that would blow up in memory.
ZIP_MAX_TOTAL = 512 * 1024 * 1024
ZIP_MAX_RATIO = 200


def zip_bomb_reason(data: bytes) -> str:
    """Why a zip container must not be opened (French, for users), or "" when it is sane."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "fichier endommagé ou tronqué : archive illisible"
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos) or 1
    if total > ZIP_MAX_TOTAL or (total > 10 * 1024 * 1024 and total / packed > ZIP_MAX_RATIO):
        return (f"archive suspecte : {total / 1048576:.0f} Mo une fois décompressée "
                f"pour {len(data) / 1048576:.1f} Mo ; non lue (bombe de décompression ?)")
    return ""
