"""Failed logins counted per client address and per account, in memory."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable

LOGIN_FAILURES_ALLOWED = 5      # per address and per account, in LoginThrottle's window


class LoginThrottle:
    """At most `limit` failed logins per key (client address, account) in `window` seconds.

    Kept in memory, per process: a restart forgetting the count is harmless next to
    scrypt's cost per guess; with several web processes each allows its share of the limit
    (`veille.ops.serve.worker_app`). `clock` is injectable for tests.
    """

    def __init__(self, limit: int = LOGIN_FAILURES_ALLOWED, window: float = 900.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, *keys: str) -> int:
        """Seconds until a blocked key may try again; 0 when none of `keys` is blocked."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                stamps = self._recent(key, now)
                if len(stamps) >= self.limit:
                    wait = max(wait, stamps[0] + self.window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # a flood of addresses: drop the idle ones
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
