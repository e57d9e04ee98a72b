"""A small progress line on stderr for long CLI work (crawl, index, rebuild)."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, label: str = "") -> None:
    return None


class ProgressBar:
    """Call it with (done, total, label); redraws at most ten times a second."""

    def __init__(self, title: str, stream: TextIO = sys.stderr, width: int = 30):
        self.title = title
        self.stream = stream
        self.width = width
        self._last = 0.0
        self._tty = stream.isatty()

    def __call__(self, done: int, total: int, label: str = "") -> None:
        now = time.monotonic()
        final = total and done >= total
        if not final and now - self._last < 0.1:
            return
        self._last = now
        if total:
            filled = int(self.width * done / total)
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"{self.title} [{bar}] {done}/{total} {label[:40]}"
        else:
            text = f"{self.title} {done} {label[:40]}"
        if self._tty:
            self.stream.write("\r" + text.ljust(100)[:100] + ("\n" if final else ""))
        elif final or done % 100 == 0:
            self.stream.write(text + "\n")
        self.stream.flush()
