"""The patterns legal references are read with: dates in French, natures and numbers, NOR,
ELI, Légifrance ids, lists of articles and the codes they belong to; and the folding that
keeps offsets valid. Used by `indexer.enrich.legal`, which holds what they mean.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from indexer.enrich.legal_vocabulary import KNOWN_CODES, LEGIFRANCE_ID_PREFIXES, MONTHS

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2019\u2018\u02bc`´"), "'")
TRANSLATE = {**_DASHES, **_QUOTES}


# ------------------------------------------------------------------ dates


_DAY = r"(?P<{p}d>1er|1ᵉʳ|[0-3]?\d)"
_MONTH = r"(?P<{p}m>janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)"
_YEAR = r"(?P<{p}y>1[7-9]\d\d|20\d\d)"


def date_pattern(prefix: str) -> str:
    return (_DAY + r"\s+" + _MONTH + r"\s+" + _YEAR).format(p=prefix)


DATE_RE = re.compile(date_pattern(""), re.IGNORECASE)


_ASCII_LOWER = {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def fold(text: str) -> str:
    """Lower-case letters without accents, one character for one (offsets stay valid)."""
    if text.isascii():
        return text.lower()
    table = dict(_ASCII_LOWER)
    for char in set(text):  # a text has few distinct characters: fold each once
        if not char.isascii():
            table[ord(char)] = _fold_char(char)
    return text.translate(table)


def _fold_char(char: str) -> str:
    if char.isascii():
        return char.lower()
    base = [c for c in unicodedata.normalize("NFKD", char.lower()) if not unicodedata.combining(c)]
    return base[0] if len(base) == 1 else char


def parse_french_date(text: str) -> date | None:
    """`21 février 2014`, `1er août 2003` -> date; None if `text` holds no valid date."""
    match = DATE_RE.search(text.translate(TRANSLATE))
    return date_of_match(match, "") if match else None


def date_of_match(match: re.Match, prefix: str) -> date | None:
    day_text = match.group(prefix + "d")
    if day_text is None:
        return None
    day = 1 if day_text.lower().startswith("1e") or day_text.startswith("1ᵉ") else int(day_text)
    month = MONTHS[fold(match.group(prefix + "m"))]
    try:
        return date(int(match.group(prefix + "y")), month, day)
    except ValueError:  # "31 février": not a date, so no date rather than a wrong one
        return None


# ------------------------------------------------------------------ patterns

NUMBER_MARK = r"n\s?(?:[°º˚]|o\b|o(?=\s?\d))\.?\s*"
_NATURE = (r"(?P<nature>lois?|ordonnances?|d[ée]crets?|arr[êe]t[ée]s?|circulaires?)"
           # adjectives that sit between the nature and its number or date
           r"(?:\s+(?:organique|constitutionnelle|simple|conjoint|minist[ée]riel|interminist[ée]riel"
           r"|pr[ée]fectoral|d[ée]lib[ée]r[ée] en conseil des ministres|en conseil d'[ée]tat))?")
_NUM = r"(?P<num>\d{2,4}-\d{1,5})(?![\d-])"
_CIRC_NUM = r"(?P<cnum>[A-Z0-9][\w./-]*\d[\w./-]*)"

NUMBERED_RE = re.compile(
    r"\b" + _NATURE + r"\s+" + NUMBER_MARK + _NUM
    + r"(?:\s+du\s+" + date_pattern("x") + r")?", re.IGNORECASE)
DATED_RE = re.compile(r"\b" + _NATURE + r"\s+du\s+" + date_pattern("x"), re.IGNORECASE)
CIRCULAR_NUM_RE = re.compile(
    r"\bcirculaires?\s+" + NUMBER_MARK + _CIRC_NUM + r"(?:\s+du\s+" + date_pattern("x") + r")?",
    re.IGNORECASE)

NOR_RE = re.compile(r"(?<!\w)([A-Z]{4}\d{7}[A-Z])(?!\w)")
ELI_RE = re.compile(
    r"(?:https?://(?:www\.)?legifrance\.gouv\.fr)?(/eli/(?P<nat>[a-z_]+)/(?P<y>\d{4})/(?P<m>\d{1,2})"
    r"/(?P<d>\d{1,2})(?:/[A-Za-z0-9_.-]+)*)")
LEGIFRANCE_ID_RE = re.compile(r"(?<![A-Za-z0-9])((?:" + "|".join(LEGIFRANCE_ID_PREFIXES) + r")\d{12})(?!\d)")

_ARTICLE_NUM = r"(?:[LRDA]\.?\s?\*?\s?)?\d+(?:-\d+)*(?:\s(?:bis|ter|quater|quinquies))?\b|1er\b"
ARTICLES_RE = re.compile(
    r"\barticles?\s+(?P<list>(?:" + _ARTICLE_NUM + r")(?:\s*(?:,|et|à|ou)\s+(?:" + _ARTICLE_NUM
    + r"))*)(?P<suivants>\s+et\s+suivants)?", re.IGNORECASE)
ARTICLE_NUM_RE = re.compile(_ARTICLE_NUM, re.IGNORECASE)
CODE_NAMES = sorted({fold(c) for c in KNOWN_CODES}, key=len, reverse=True)
# What follows an article list: "du code de l'urbanisme", "de la loi n° ...".
CODE_AFTER_RE = re.compile(
    r"\s*(?:,\s*)?(?:du|de la|de l')\s+(?P<code>" + "|".join(re.escape(c) for c in CODE_NAMES) + r")\b")
CODE_GENERIC_RE = re.compile(
    r"\s*(?:du|de la|de l')\s+(?P<code>code(?:\s+(?:de la|de l'|du|des|de))?\s*[a-z]{3,})")
TEXT_AFTER_RE = re.compile(r"\s*(?:,\s*)?(?:de la|de l'|du)\s+(?=(?:lois?|ordonnances?|decrets?)\b)")

# "du code susvisé", "du code précité": which code is said elsewhere, not here.
NOT_CODE_NAMES = {"susvise", "precite", "mentionne", "vise", "precedent", "suivant"}
CODE_STOP_WORDS = {"de", "la", "l", "le", "les", "des", "du", "d", "et", "pour", "au", "aux", "a"}
