"""The scheduler's jobs as a restart must find them: each job's schedule and next run time.

`veille run` keeps its jobs in memory; every change of a job's next run time is written
here at once, so a restart (even after kill -9) plans from where the last process left off.
A next run time in the past means the run fell due while the process was down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from veille.storage.db import Database


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    trigger: str                   # the schedule it was planned with, as the scheduler prints it
    next_run: datetime | None      # None: no run planned


def _to_text(value: datetime | None) -> str | None:
    # to the microsecond, unlike the catalog's other dates: a job planned "now" must come back
    # exactly as planned
    return value.astimezone(timezone.utc).isoformat() if value is not None else None


def _from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class ScheduleRepository:
    def __init__(self, database: Database):
        self._db = database

    def all(self) -> dict[str, ScheduledJob]:
        rows = self._db.connection().execute("SELECT id, trigger, next_run FROM scheduled_jobs ORDER BY id")
        return {r["id"]: ScheduledJob(r["id"], r["trigger"], _from_text(r["next_run"])) for r in rows}

    def get(self, job_id: str) -> ScheduledJob | None:
        row = self._db.connection().execute(
            "SELECT id, trigger, next_run FROM scheduled_jobs WHERE id = ?", (job_id,)).fetchone()
        return ScheduledJob(row["id"], row["trigger"], _from_text(row["next_run"])) if row else None

    def save(self, job: ScheduledJob) -> None:
        with self._db.transaction() as db:
            db.execute("INSERT INTO scheduled_jobs (id, trigger, next_run) VALUES (?, ?, ?)"
                       " ON CONFLICT(id) DO UPDATE SET trigger = excluded.trigger, next_run = excluded.next_run",
                       (job.id, job.trigger, _to_text(job.next_run)))

    def save_all(self, jobs: Iterable[ScheduledJob]) -> None:
        with self._db.transaction():
            for job in jobs:
                self.save(job)

    def remove(self, job_id: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM scheduled_jobs WHERE id = ?", (job_id,))

    def keep_only(self, job_ids: Iterable[str]) -> list[str]:
        """Forget every job but `job_ids`; returns the ids forgotten."""
        keep = set(job_ids)
        with self._db.transaction() as db:
            gone = [job_id for (job_id,) in db.execute("SELECT id FROM scheduled_jobs") if job_id not in keep]
            db.executemany("DELETE FROM scheduled_jobs WHERE id = ?", [(job_id,) for job_id in gone])
        return gone
