"""Checks on one value of `sources.yaml`: each returns what is wrong, in French, or None.

The schema (config_schema) names them per key; `is_http_url` (and `veille.core.emails`) also serve the
places that check the same things outside the file (the web forms, the CLI, OPML import).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from veille.core.config_yaml import quoted
from veille.core.schedules import schedule_problem, valid_tz

Check = Callable[[Any], "str | None"]

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
OCR_LANGUAGES_RE = re.compile(r"^[a-z_]+(\+[a-z_]+)*$")


def is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def at_least(low: float) -> Check:
    return lambda value: None if value >= low else f"doit être au moins {low}"


def at_most(high: float) -> Check:
    return lambda value: None if value <= high else f"doit être au plus {high}"


def between(low: float, high: float) -> Check:
    return lambda value: None if low <= value <= high else f"doit être entre {low} et {high}"


def greater_than(low: float) -> Check:
    return lambda value: None if value > low else f"doit être supérieur à {low}"


def not_negative(value: float) -> str | None:
    return None if value >= 0 else "ne doit pas être négatif"


def one_of(choices: Iterable[str], fold: Callable[[str], str] = str) -> Check:
    choices = tuple(choices)

    def check(value: str) -> str | None:
        if fold(value) in choices:
            return None
        return f"valeur inconnue {quoted(value)} (valeurs possibles : {', '.join(choices)})"
    return check


def http_url(value: str) -> str | None:
    return None if is_http_url(value) else "adresse http(s) invalide"


def source_url(value: str) -> str | None:
    """An http(s) address, in which `${NAME}` stands for an environment variable's value."""
    from veille.core.url_secrets import placeholders

    for name in placeholders(value):
        value = value.replace("${" + name + "}", "x")
    if "${" in value:
        return "variable d'environnement mal écrite dans l'adresse (attendu : ${NOM})"
    return http_url(value)


def email_address(value: str) -> str | None:
    from veille.core.emails import email_problem

    return email_problem(value)


def sender_address(value: str) -> str | None:
    """An address, with or without a display name: `Veille <veille@example.org>`."""
    from veille.core.emails import sender_problem

    return sender_problem(value)


def no_line_break(value: str) -> str | None:
    """For values sent as a mail or HTTP header, where a line break would start another one."""
    if "\r" in value or "\n" in value:
        return "ne doit pas contenir de retour à la ligne (CR/LF)"
    return None


def css_selector(value: str) -> str | None:
    import soupsieve

    try:
        soupsieve.compile(value)
    except Exception as exc:  # soupsieve.SelectorSyntaxError, and odd inputs
        return f"sélecteur CSS invalide {quoted(value)} : {str(exc).splitlines()[0]}"
    return None


def env_name(value: str) -> str | None:
    if ENV_NAME_RE.match(value):
        return None
    return ("doit être le NOM d'une variable d'environnement "
            "(les identifiants de connexion ne sont jamais écrits ici)")


def schedule(value: str) -> str | None:
    return schedule_problem(value, "UTC")   # the time zone plays no part in a schedule's validity


def schedule_or_off(value: str) -> str | None:
    problem = None if value == "off" else schedule(value)
    return problem and f"{problem} (ou « off »)"


def iso_date(value: str) -> str | None:
    """A calendar date written `AAAA-MM-JJ`."""
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return f"date invalide {quoted(value)} (attendu : AAAA-MM-JJ)"
    return None


def time_zone(value: str) -> str | None:
    return None if valid_tz(value) else f"fuseau horaire inconnu {quoted(value)}"


def slug(value: str) -> str | None:
    if SLUG_RE.match(value):
        return None
    return "doit être un nom court : lettres minuscules sans accent, chiffres, « - » ou « _ »"


def ocr_languages(value: str) -> str | None:
    if OCR_LANGUAGES_RE.match(value):
        return None
    return f"langues de Tesseract attendues sous la forme « fra+eng », pas {quoted(value)}"


def fold(text: str) -> str:
    """Lower case without accents: `Décret`, `DECRET` and `décret` are one nature."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
