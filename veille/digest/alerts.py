"""Alert records: the YAML alerts (read-only) and those staff create in the web UI.

Both become an `AlertRecord` with a stable `key`, used in unsubscribe tokens, in the archive
and in the Atom feed URL. Storage of web alerts is in `veille.storage.alerts` (all SQL lives in `veille.storage`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping

from veille.storage.alerts import SavedAlert
from veille.storage.catalog import Catalog
from veille.core.config import Alert, Config
from veille.core.emails import email_problem
from veille.core.facets import ALERT_FILTERS
from veille.core.records import ALERT_FREQUENCIES, FREQUENCY_WEEKLY

ORIGIN_YAML = "yaml"
ORIGIN_WEB = "web"

ALL_ALERTS = "*"


@dataclass(frozen=True)
class AlertRecord:
    key: str                          # stable, URL-safe: "yaml-<slug>" or "web-<id>"
    name: str
    query: str
    recipients: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    origin: str = ORIGIN_YAML
    id: int | None = None             # web alerts only
    frequency: str = FREQUENCY_WEEKLY  # weekly (in the digest) | immediate (after a crawl)

    @property
    def editable(self) -> bool:
        return self.origin == ORIGIN_WEB

    @property
    def search_filters(self) -> Mapping[str, tuple[str, ...]]:
        """The filters as a search request takes them (alert filters are facet names)."""
        return MappingProxyType({k: tuple(v) for k, v in self.filters.items() if v})


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "alerte"


def normalize_address(address: str) -> str:
    return address.strip().lower()


def from_config(alert: Alert) -> AlertRecord:
    return AlertRecord(key=f"yaml-{slugify(alert.name)}", name=alert.name, query=alert.query,
                       recipients=tuple(normalize_address(r) for r in alert.recipients),
                       filters=alert.filters, origin=ORIGIN_YAML, frequency=alert.frequency)


def from_saved(alert: SavedAlert) -> AlertRecord:
    return AlertRecord(key=f"web-{alert.id}", name=alert.name, query=alert.query,
                       recipients=tuple(normalize_address(r) for r in alert.recipients),
                       filters=alert.filters, origin=ORIGIN_WEB, id=alert.id, frequency=alert.frequency)


def all_alerts(config: Config, catalog: Catalog) -> list[AlertRecord]:
    """YAML alerts first (in file order), then web alerts by name."""
    return [from_config(a) for a in config.alerts] + [from_saved(a) for a in catalog.alerts.all()]


def find_alert(alerts: Iterable[AlertRecord], key: str) -> AlertRecord | None:
    return next((a for a in alerts if a.key == key), None)


def subscriptions(alerts: Iterable[AlertRecord],
                  unsubscribed: set[tuple[str, str]]) -> dict[str, list[AlertRecord]]:
    """Recipient -> the alerts they still follow, recipients sorted, alerts in given order."""
    out: dict[str, list[AlertRecord]] = {}
    for alert in alerts:
        for recipient in alert.recipients:
            if (recipient, ALL_ALERTS) in unsubscribed or (recipient, alert.key) in unsubscribed:
                continue
            out.setdefault(recipient, [])
            if alert not in out[recipient]:
                out[recipient].append(alert)
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class AlertForm:
    """What staff typed in the alert form, validated: `errors` maps a field to a French message."""

    name: str
    query: str
    recipients: tuple[str, ...]
    filters: Mapping[str, tuple[str, ...]]
    errors: Mapping[str, str]
    frequency: str = FREQUENCY_WEEKLY


def parse_alert_form(form: Mapping[str, str], taken_names: Iterable[str] = ()) -> AlertForm:
    """Validate the web form fields (name, query, recipients, filter_<name>); pure."""
    errors: dict[str, str] = {}
    name = " ".join(form.get("name", "").split())
    query = form.get("query", "").strip()
    if not name:
        errors["name"] = "Donnez un nom à l'alerte."
    elif name.casefold() in {n.casefold() for n in taken_names}:
        errors["name"] = "Une autre alerte porte déjà ce nom."
    if not query:
        errors["query"] = "Indiquez les mots recherchés."
    recipients = tuple(dict.fromkeys(
        normalize_address(r) for r in re.split(r"[\s,;]+", form.get("recipients", "")) if r.strip()))
    bad = [r for r in recipients if email_problem(r)]
    if bad:
        errors["recipients"] = "Adresse e-mail invalide : " + ", ".join(bad)
    frequency = form.get("frequency", FREQUENCY_WEEKLY) or FREQUENCY_WEEKLY
    if frequency not in ALERT_FREQUENCIES:
        errors["frequency"] = "Choisissez quand l'alerte est envoyée."
        frequency = FREQUENCY_WEEKLY
    filters = {}
    for fname in ALERT_FILTERS:
        values = tuple(v.strip() for v in form.get(f"filter_{fname}", "").split(",") if v.strip())
        if values:
            filters[fname] = values
    return AlertForm(name=name, query=query, recipients=recipients,
                     filters=MappingProxyType(filters), errors=MappingProxyType(errors), frequency=frequency)
