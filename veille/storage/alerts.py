"""Alerts created by staff in the web UI (the YAML ones live in sources.yaml)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Iterable, Mapping

from veille.storage.db import Database, from_iso, to_iso, utcnow


@dataclass(frozen=True)
class SavedAlert:
    """An alert created in the web UI."""

    id: int
    name: str
    query: str
    filters: Mapping[str, tuple[str, ...]]
    recipients: tuple[str, ...]
    created: datetime
    updated: datetime
    frequency: str = "weekly"         # weekly | immediate (veille.core.records.ALERT_FREQUENCIES)


def _row_to_alert(row: sqlite3.Row) -> SavedAlert:
    filters = {k: tuple(v) for k, v in json.loads(row["filters"]).items()}
    return SavedAlert(id=row["id"], name=row["name"], query=row["query"],
                      filters=MappingProxyType(filters), recipients=tuple(json.loads(row["recipients"])),
                      created=from_iso(row["created"]), updated=from_iso(row["updated"]),
                      frequency=row["frequency"])


class AlertRepository:
    def __init__(self, database: Database):
        self._db = database

    def all(self) -> list[SavedAlert]:
        """Every saved alert, by name."""
        rows = self._db.connection().execute("SELECT * FROM alerts ORDER BY name COLLATE NOCASE, id")
        return [_row_to_alert(r) for r in rows]

    def get(self, alert_id: int) -> SavedAlert | None:
        row = self._db.connection().execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return _row_to_alert(row) if row else None

    def save(self, name: str, query: str, filters: Mapping[str, Iterable[str]],
             recipients: Iterable[str], alert_id: int | None = None, frequency: str = "weekly") -> int:
        """Create an alert (alert_id None) or replace one; returns its id.

        Raises ValueError when another alert already has that name, KeyError when there
        is no alert `alert_id`.
        """
        now = to_iso(utcnow())
        values = (name, query, json.dumps({k: list(v) for k, v in filters.items()}, ensure_ascii=False),
                  json.dumps(list(recipients), ensure_ascii=False), frequency)
        try:
            with self._db.transaction() as db:
                if alert_id is None:
                    cur = db.execute("INSERT INTO alerts (name, query, filters, recipients, frequency, created,"
                                     " updated) VALUES (?, ?, ?, ?, ?, ?, ?)", (*values, now, now))
                    return int(cur.lastrowid)
                cur = db.execute("UPDATE alerts SET name = ?, query = ?, filters = ?, recipients = ?,"
                                 " frequency = ?, updated = ? WHERE id = ?", (*values, now, alert_id))
                if not cur.rowcount:
                    raise KeyError(alert_id)
                return alert_id
        except sqlite3.IntegrityError:
            raise ValueError(f"une alerte s'appelle déjà « {name} »") from None

    def delete(self, alert_id: int) -> bool:
        with self._db.transaction() as db:
            return bool(db.execute("DELETE FROM alerts WHERE id = ?", (alert_id,)).rowcount)
