"""Operations log lines: one line per event, with `key=value` fields people and grep can read.

    crawl source=anct duration=1.42s new=3 updated=0 unchanged=27
    document source=anct document=3f9a0c1d2e4b5a69 outcome=new url=https://...
    index documents=3 deleted=0 duration=0.31s

`--verbose` (debug level) adds the details each module logs for debugging.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Iterator


LEVEL_NAMES = {"DEBUG": "DÉBOGAGE", "INFO": "INFO", "WARNING": "ATTENTION", "ERROR": "ERREUR",
               "CRITICAL": "CRITIQUE"}
# Libraries whose routine lines (in English) say nothing our own lines do not: their
# warnings and errors still show; --verbose shows everything.
CHATTY_LIBRARIES = ("apscheduler", "waitress")


class OperatorFormatter(logging.Formatter):
    """Log lines with French level names (« ATTENTION », « ERREUR »)."""

    def format(self, record: logging.LogRecord) -> str:
        shown = logging.makeLogRecord(record.__dict__)
        shown.levelname = LEVEL_NAMES.get(record.levelname, record.levelname)
        return super().format(shown)


def configure_operator_logging(verbose: bool, stream) -> None:
    """One line per event on `stream` (stderr: the journal under systemd)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskSecrets())
    handler.setFormatter(OperatorFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                           datefmt="%Y-%m-%dT%H:%M:%S"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    if not verbose:
        for name in CHATTY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.WARNING)


def format_event(name: str, **fields) -> str:
    parts = [name]
    for key, value in fields.items():
        if value is None:
            continue
        if key == "duration" and isinstance(value, (int, float)):
            text = f"{value:.2f}s"
        else:
            text = str(value).replace("\n", " ")
            if not text or any(c in text for c in ' "='):
                text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


def log_event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields) -> None:
    """Log one event line; fields whose value is None are left out."""
    if logger.isEnabledFor(level):
        logger.log(level, "%s", format_event(name, **fields))


@contextmanager
def timed() -> Iterator[dict]:
    """`with timed() as t: ...` then `t["duration"]` holds the seconds it took."""
    holder = {"duration": 0.0}
    started = time.monotonic()
    try:
        yield holder
    finally:
        holder["duration"] = time.monotonic() - started


class MaskSecrets(logging.Filter):
    """Masks the credentials of every address in a log line, whoever logs it (our modules,
    urllib3's debug lines naming each request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from veille.core.url_secrets import masked_text

        message = record.getMessage()
        masked = masked_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
