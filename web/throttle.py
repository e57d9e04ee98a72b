"""Counters kept in memory, per process: failed logins per client address and per account
(`LoginThrottle`), anonymous searches per client address (`RequestRate`)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable

LOGIN_FAILURES_ALLOWED = 5      # per account, in LoginThrottle's window
LOGIN_FAILURES_PER_ADDRESS = 20 # per client address
SEARCH_WINDOW_SECONDS = 60.0
SUBSCRIPTIONS_PER_HOUR = 10     # subscription requests (each mails a confirmation) per address
MAX_ADDRESSES = 50_000          # counted by RequestRate before the idle ones are forgotten


class LoginThrottle:
    """At most `limit` failed logins per account (`user:` keys) and `address_limit` per client
    address (`ip:` keys) in `window` seconds.

    Kept in memory, per process: a restart forgetting the count is harmless next to
    scrypt's cost per guess; with several web processes each allows its share of the limit
    (`veille.ops.serve.worker_app`). `clock` is injectable for tests.
    """

    def __init__(self, limit: int = LOGIN_FAILURES_ALLOWED, window: float = 900.0,
                 clock: Callable[[], float] = time.monotonic, address_limit: int | None = None):
        self.limit = limit
        self.address_limit = LOGIN_FAILURES_PER_ADDRESS if address_limit is None else address_limit
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
                if len(stamps) >= (self.address_limit if key.startswith("ip:") else self.limit):
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


class RequestRate:
    """At most `limit` requests per key in `window` seconds (0: no limit); `clock` is
    injectable for tests."""

    def __init__(self, limit: int, window: float = SEARCH_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> int:
        """0 and the request counted when `key` may go on; else the seconds to wait."""
        if self.limit <= 0:
            return 0
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            if len(self._hits) > MAX_ADDRESSES:  # a flood of addresses: forget the idle ones
                for idle in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[idle]
        return 0
