"""Where `veille run`'s jobs live: in memory, bound to the live objects that run them, with
their schedule and next run time written through to the catalog (`catalog.schedule`).

Nothing is pickled: a job calls a method of the process's `Jobs`, not a function found by
name in a module. What a restart needs is one row per job in the catalog, written whenever
APScheduler adds, advances or removes a job, so even a killed process leaves the next run
times it had planned.

Data directories of earlier releases hold APScheduler's SQLAlchemy job store
(`scheduler.sqlite3`): on the first start its next run times are read once (see
`import_old_job_store`), then the file is renamed and never used again.
"""

from __future__ import annotations

import io
import logging
import pickle
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore

from veille.storage.schedule import ScheduledJob, ScheduleRepository

log = logging.getLogger(__name__)

IMPORTED_SUFFIX = ".imported"


def recorded(job: Job) -> ScheduledJob:
    return ScheduledJob(job.id, str(job.trigger), job.next_run_time)


class CatalogJobStore(MemoryJobStore):
    """APScheduler's memory store, each change also recorded in the catalog.

    `recorded` is what the previous process left, read once when the store is made.
    `remove_all_jobs()` (which `shutdown()` calls) forgets this process's jobs only: the
    catalog keeps their next run times for the next start.
    """

    def __init__(self, schedule: ScheduleRepository):
        super().__init__()
        self._schedule = schedule
        self.recorded: dict[str, ScheduledJob] = schedule.all()

    def add_job(self, job: Job) -> None:
        super().add_job(job)
        self._write(lambda: self._schedule.save(recorded(job)), job.id)

    def update_job(self, job: Job) -> None:
        super().update_job(job)
        self._write(lambda: self._schedule.save(recorded(job)), job.id)

    def remove_job(self, job_id: str) -> None:
        super().remove_job(job_id)
        self.recorded.pop(job_id, None)   # added again later, it starts afresh
        self._write(lambda: self._schedule.remove(job_id), job_id)

    def forget_unclaimed(self) -> list[str]:
        """Drop the records of jobs this process did not schedule (a source that left the
        configuration, an optimisation turned off); returns their ids."""
        return self._schedule.keep_only(job.id for job in self.get_all_jobs())

    @staticmethod
    def _write(write, job_id: str) -> None:
        # called from the scheduler's own loop: an exception there would stop every job, so
        # a catalog that cannot be written (full or read-only disk) costs only the record
        try:
            write()
        except (sqlite3.Error, OSError) as exc:
            log.warning("la tâche %s n'a pas pu être enregistrée dans le catalogue (%s) : "
                        "au prochain démarrage elle sera replanifiée", job_id, exc)


# ---------------------------------------------------------------- the job store of earlier releases


class _TriggerUnpickler(pickle.Unpickler):
    """Reads APScheduler 3's pickled job state, refusing anything but triggers and dates."""

    ALLOWED = {("datetime", "datetime"), ("datetime", "timedelta"), ("datetime", "timezone"),
               ("zoneinfo", "ZoneInfo")}

    def find_class(self, module: str, name: str):
        if (module, name) == ("builtins", "getattr"):
            return _zoneinfo_getattr   # how a ZoneInfo pickles itself: getattr(ZoneInfo, "_unpickle")
        if (module, name) in self.ALLOWED or module.startswith("apscheduler.triggers."):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} n'a pas sa place dans une tâche planifiée")


def _zoneinfo_getattr(owner, name: str):
    if owner is ZoneInfo and name == "_unpickle":
        return ZoneInfo._unpickle
    raise pickle.UnpicklingError(f"getattr({owner!r}, {name!r}) refusé")


def read_old_job_store(path: Path) -> dict[str, ScheduledJob]:
    """The jobs of an APScheduler SQLAlchemy job store (`scheduler.sqlite3`), read-only.

    A job whose state cannot be read is left out (it is planned afresh); an unreadable file
    gives nothing, with a warning."""
    if not path.is_file():
        return {}
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT id, next_run_time, job_state FROM apscheduler_jobs").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        log.warning("l'ancien fichier des tâches %s est illisible (%s) : les tâches seront replanifiées",
                    path, exc)
        return {}
    jobs = {}
    for job_id, timestamp, state in rows:
        try:
            trigger = _TriggerUnpickler(io.BytesIO(state)).load()["trigger"]
        except Exception as exc:  # whatever the pickle holds, one job's state is not worth a failure
            log.warning("tâche %s de l'ancien fichier des tâches illisible (%s) : elle sera replanifiée",
                        job_id, exc)
            continue
        when = datetime.fromtimestamp(timestamp, timezone.utc) if timestamp is not None else None
        jobs[job_id] = ScheduledJob(job_id, str(trigger), when)
    return jobs


def import_old_job_store(path: Path, schedule: ScheduleRepository) -> int:
    """Bring the next run times of an earlier release's job store into the catalog, once.

    Only into a catalog that records no job yet; the old file is then renamed
    (`scheduler.sqlite3.imported`), kept for a person to delete. Returns how many jobs came in.
    """
    if not path.is_file():
        return 0
    count = 0
    if not schedule.all():
        jobs = read_old_job_store(path)
        schedule.save_all(jobs.values())
        count = len(jobs)
    try:
        path.rename(path.with_name(path.name + IMPORTED_SUFFIX))
    except OSError as exc:
        log.warning("l'ancien fichier des tâches %s n'a pas pu être renommé (%s)", path, exc)
    log.info("%d tâche(s) reprise(s) de l'ancien fichier des tâches %s", count, path)
    return count
