"""The configuration of a running process, read again when its file changes.

`veille run`'s scheduler and every web worker hold one `LiveConfig`: `current()` compares
the file's stamp (inode, size, modification time: one `stat`) with the one it read, and
reads the file again when they differ, as when a source is added from the web page (the
file is replaced atomically, see veille.core.config_write) or edited by hand. A running
process keeps its data directory whatever the new file says; a file that no longer
validates is reported once and the previous configuration stays in force.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import replace
from pathlib import Path

from veille.core.config import Config, ConfigError, load_config

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int] | None


def file_stamp(path: Path) -> Stamp:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


class LiveConfig:
    """A configuration kept in step with its file; `current()` is cheap enough per request."""

    def __init__(self, config: Config):
        self._config = config
        self._stamp = file_stamp(config.path)
        self._refused: Stamp = None
        self._lock = threading.Lock()

    def current(self) -> Config:
        stamp = file_stamp(self._config.path)
        if stamp is None or stamp == self._stamp or stamp == self._refused:
            return self._config
        with self._lock:
            if stamp != self._stamp:
                self._reload(stamp)
        return self._config

    def _reload(self, stamp: Stamp) -> None:
        try:
            fresh = load_config(self._config.path)
        except ConfigError as exc:
            if stamp != self._refused:
                log.warning("%s a changé mais n'est plus valable ; la configuration précédente reste "
                            "en vigueur : %s", self._config.path.name, "; ".join(exc.problems))
            self._refused = stamp
            return
        if fresh.data_dir != self._config.data_dir:
            log.warning("data_dir a changé dans %s : ce processus garde %s jusqu'à son redémarrage",
                        self._config.path.name, self._config.data_dir)
        self._config = replace(fresh, data_dir=self._config.data_dir)
        self._stamp = stamp
        log.info("configuration relue : %s (%d source(s))", self._config.path.name, len(fresh.sources))
