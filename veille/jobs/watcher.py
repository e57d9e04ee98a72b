"""What changes under a running scheduler, noticed within seconds: the configuration file
(a source added, paused or rescheduled from the web page, or by hand) and the crawls the
team asked for with « Relever maintenant ».

The web pages may run in other processes (`veille run --workers N`), so both reach the
scheduler through what every process shares: the file, whose stamp is checked on each tick
(veille.core.config_reload), and the catalog's `crawl_requests` rows. `tick()` does one
round; `start()` runs it every `interval` seconds in a thread until `stop()`. The scheduler
gives it the function that brings its jobs in step with a configuration (`apply`).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any, Callable

from veille.core.config import Config
from veille.core.config_reload import LiveConfig

log = logging.getLogger(__name__)

WATCH_INTERVAL = 2.0   # seconds: a stat and one small SELECT
REQUEST_PREFIX = "crawl-now:"


class ChangeWatcher:
    def __init__(self, scheduler: Any, live: LiveConfig, apply: Callable[[Any, Config], dict[str, str]],
                 interval: float = WATCH_INTERVAL):
        self.scheduler = scheduler   # a veille.jobs.scheduler.VeilleScheduler
        self.apply = apply
        self.live = live
        self.interval = interval
        self._in_flight: set[str] = set()   # sources whose requested crawl is planned or running
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="veille-watcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:   # a full disk, a locked catalog: the next tick tries again
                log.exception("surveillance de la configuration et des demandes : échec")

    def tick(self) -> None:
        self.apply_config()
        self.serve_requests()

    def apply_config(self) -> bool:
        """Bring the jobs in step with the configuration file if it changed; whether it did."""
        config = self.live.current()
        jobs = self.scheduler.jobs
        if jobs is None or config is jobs.config:
            return False
        outcome = self.apply(self.scheduler, config)
        changed = {name: what for name, what in outcome.items() if what != "kept"}
        log.info("configuration appliquée au planificateur : %s",
                 ", ".join(f"{name} {what}" for name, what in changed.items()) or "aucune tâche changée")
        return True

    def serve_requests(self) -> list[str]:
        """Schedule a crawl, now, of each source the team asked for; returns their names.

        A request made while its source's requested crawl runs stays in the catalog (the
        crawl removes only the requests it served) and is served by the next tick."""
        requests = self.scheduler.jobs.catalog.crawl_requests.all()
        scheduled = []
        for source, request in requests.items():
            with self._lock:
                if source in self._in_flight:
                    continue
                self._in_flight.add(source)
            self.scheduler.add_job(self._crawl_requested, trigger="date", run_date=datetime.now(timezone.utc),
                                   args=(source, request.requested), id=REQUEST_PREFIX + source,
                                   name=f"relevé demandé {source}", replace_existing=True)
            scheduled.append(source)
        return scheduled

    def _crawl_requested(self, source: str, requested: datetime) -> None:
        try:
            self.scheduler.jobs.crawl_requested(source, requested)
        finally:
            with self._lock:
                self._in_flight.discard(source)
