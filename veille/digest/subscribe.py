"""Subscriptions with double opt-in: to the lettre, or to a search followed by e-mail.

A request records the address as pending (`veille.storage.subscribers`) and mails a signed
confirmation link; nothing else is sent to that address until the link is used, and the
request expires after `lettre.confirm_days`. Confirming a search subscription makes the
person a recipient of an alert on that search (created if none has it). The link carries a
nonce stored with the request, so only the latest link works, and only once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping, Sequence

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape

from veille.core.config import Config
from veille.core.dates import french_date
from veille.core.emails import email_problem
from veille.digest.alerts import ORIGIN_WEB, all_alerts, from_saved, normalize_address
from veille.digest.deliver import deliver_bytes
from veille.digest.mail import envelope_sender, message_id, new_message
from veille.storage.catalog import Catalog
from veille.storage.subscribers import SEARCH_PREFIX, TOPIC_LETTRE, Subscriber

SECRET_NAME = "subscribe"
SALT = "veille-subscribe"
MAX_ADDRESS = 254
MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 5000
FILTER_LABELS = {"kind": "catégorie", "source": "source", "theme": "thème", "territory": "territoire",
                 "doc_type": "type de document"}


def valid_address(text: str) -> str | None:
    """The address normalised, or None when it is not one."""
    address = normalize_address(text or "")
    if not address or len(address) > MAX_ADDRESS or email_problem(address):
        return None
    return address


def search_topic(query: str, filters: Mapping[str, Sequence[str]]) -> str:
    """The topic of a search subscription: the same search gives the same topic."""
    canonical = json.dumps([" ".join(query.split()), sorted((k, sorted(v)) for k, v in filters.items() if v)],
                           ensure_ascii=False)
    return SEARCH_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def topic_label(topic: str, details: Mapping | None = None) -> str:
    """What a topic is, in French: « la Lettre de veille », « la recherche « logement » »."""
    if topic == TOPIC_LETTRE:
        return "la lettre de veille"
    query = (details or {}).get("query", "")
    return f"les nouveautés de la recherche « {query} »" if query else "une recherche"


# ---------------------------------------------------------------- tokens


def make_token(secret: str, email: str, topic: str, nonce: str) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps({"e": email, "t": topic, "n": nonce})


def read_token(secret: str, token: str) -> tuple[str, str, str] | None:
    """(email, topic, nonce) of a confirmation token, or None when forged or garbled."""
    try:
        data = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("e", "t", "n")):
        return None
    return data["e"], data["t"], data["n"]


def confirm_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/abonnement/confirmer/{token}"


# ---------------------------------------------------------------- requests


_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True),
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_text_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=False,
                        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


@dataclass(frozen=True)
class Confirmation:
    """The confirmation e-mail, as sent (tests and the CLI read it)."""

    recipient: str
    subject: str
    link: str
    raw: bytes


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def request_subscription(config: Config, catalog: Catalog, email: str, *, topic: str, now: datetime,
                         details: Mapping | None = None, origin: str = "form", detail: str = "",
                         environ: Mapping[str, str] = os.environ) -> Confirmation | None:
    """Record a request and mail its confirmation link; None when the address was already
    confirmed for `topic` (nothing sent, nothing changed). DeliveryError when SMTP failed:
    the request stays pending and a new one sends a new link."""
    now = _utc(now)
    nonce = secrets.token_urlsafe(12)
    expires = now + timedelta(days=config.lettre.confirm_days)
    if not catalog.subscribers.request(email, topic, nonce=nonce, now=now, expires=expires, origin=origin,
                                       details=details, detail=detail):
        return None
    link = confirm_url(config.web.base_url, make_token(catalog.secrets.get(SECRET_NAME), email, topic, nonce))
    context = dict(title=config.lettre.title, what=topic_label(topic, details), link=link,
                   expires=french_date(expires, config.tz), base_url=config.web.base_url.rstrip("/"))
    subject = (f"Confirmez votre abonnement à la {config.lettre.title.lower()}" if topic == TOPIC_LETTRE
               else "Confirmez votre alerte par e-mail")
    message = new_message(subject=subject, sender=config.digest.sender, recipient=email,
                          msg_id=message_id(uuid.uuid4().hex, config.digest.sender, "confirmation"), date=now,
                          text=_text_env.get_template("confirmation.txt").render(**context),
                          html=_env.get_template("confirmation.html").render(subject=subject, **context),
                          headers={"Auto-Submitted": "auto-generated"})
    raw = message.as_bytes()
    deliver_bytes(raw, sender=envelope_sender(config.digest.sender), recipients=[email],
                  smtp=config.digest.smtp, environ=environ)
    return Confirmation(recipient=email, subject=subject, link=link, raw=raw)


def pending_request(catalog: Catalog, token: str) -> Subscriber | None:
    """The pending request a link confirms, or None (forged, replaced, already used)."""
    found = read_token(catalog.secrets.get(SECRET_NAME), token)
    if found is None:
        return None
    email, topic, nonce = found
    subscriber = catalog.subscribers.get(email, topic)
    if subscriber is None or subscriber.nonce != nonce or subscriber.status != "pending":
        return None
    return subscriber


def confirm_subscription(config: Config, catalog: Catalog, token: str, *, now: datetime,
                         detail: str = "") -> Subscriber | None:
    """Confirm the request of `token`; a search subscription becomes an alert recipient.
    None when the link is invalid, replaced, used or expired."""
    found = read_token(catalog.secrets.get(SECRET_NAME), token)
    if found is None:
        return None
    email, topic, nonce = found
    subscriber = catalog.subscribers.confirm(email, topic, nonce=nonce, now=_utc(now), detail=detail)
    if subscriber is not None and topic.startswith(SEARCH_PREFIX):
        follow_search(config, catalog, email, subscriber.details)
    return subscriber


def follow_search(config: Config, catalog: Catalog, email: str, details: Mapping) -> int:
    """Make `email` a recipient of the web alert on this search (created when none); its id."""
    query = str(details.get("query", ""))
    filters = {k: tuple(v) for k, v in dict(details.get("filters", {})).items() if v}
    for alert in all_alerts(config, catalog):
        if alert.origin == ORIGIN_WEB and alert.query == query and dict(alert.search_filters) == filters:
            saved = catalog.alerts.get(alert.id)
            recipients = list(dict.fromkeys([*saved.recipients, email]))
            catalog.alerts.save(saved.name, saved.query, saved.filters, recipients, alert_id=saved.id)
            catalog.unsubscriptions.remove(email, alert.key)
            return saved.id
    taken = {a.name.casefold() for a in all_alerts(config, catalog)}
    base = f"Recherche « {query} »" if query else "Recherche"
    if filters:
        base += " (" + ", ".join(f"{FILTER_LABELS.get(k, k)} : {', '.join(v)}" for k, v in filters.items()) + ")"
    name, n = base, 2
    while name.casefold() in taken:
        name, n = f"{base} {n}", n + 1
    new_id = catalog.alerts.save(name, query, filters, [email])
    catalog.unsubscriptions.remove(email, from_saved(catalog.alerts.get(new_id)).key)
    return new_id


# ---------------------------------------------------------------- import


def parse_import(data: bytes) -> tuple[list[str], list[str]]:
    """The addresses of a CSV file (the column named email/adresse/courriel, else the first),
    deduplicated; and the problems, in French, each naming its line. Bounded in size and rows."""
    problems: list[str] = []
    if len(data) > MAX_IMPORT_BYTES:
        return [], [f"Le fichier dépasse {MAX_IMPORT_BYTES // 1024} Ko : découpez-le."]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")     # a spreadsheet saved without UTF-8
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[:MAX_IMPORT_ROWS + 1]
    column, start = 0, 0
    if rows:
        header = [cell.strip().casefold() for cell in rows[0]]
        for i, name in enumerate(header):
            if name in ("email", "e-mail", "mail", "adresse", "courriel", "adresse e-mail"):
                column, start = i, 1
                break
    found: list[str] = []
    for number, row in enumerate(rows[start:], start=start + 1):
        if not row or not any(cell.strip() for cell in row):
            continue
        cell = row[column].strip() if column < len(row) else ""
        address = valid_address(cell)
        if address is None:
            problems.append(f"ligne {number} : « {cell[:80]} » n'est pas une adresse e-mail")
        elif address not in found:
            found.append(address)
    if len(rows) > MAX_IMPORT_ROWS:
        problems.append(f"seules les {MAX_IMPORT_ROWS} premières lignes ont été lues")
    return found, problems
