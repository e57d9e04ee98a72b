"""The one exception family users see: a message that fits on a line and says what to do."""


class VeilleError(Exception):
    """An error reported to the user as one clear line (CLI, logs, status pages)."""

    code = "error"

    def __init__(self, message: str, *, hint: str = ""):
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} ({self.hint})" if self.hint else text


def storage_error_message(exc: BaseException, data_dir=None) -> str | None:
    """One clear line for the storage failures any command can meet, or None.

    A read-only or full data directory surfaces as an OSError, a SQLite error ("unable to
    open database file" when its WAL index cannot be created) or an engine error wrapping
    one; each says the same thing to the person at the console. With `data_dir`, the file
    system itself is asked whether it is mounted read-only.
    """
    import errno
    import os
    import sqlite3

    if data_dir is not None and isinstance(exc, (OSError, sqlite3.Error)):
        try:
            fs = os.statvfs(data_dir)
            if fs.f_flag & os.ST_RDONLY:
                return f"the data directory {data_dir} is on a read-only file system"
            if fs.f_bavail * fs.f_frsize < 1024 * 1024:  # SQLite may only say "disk I/O error"
                return f"no space left on the device holding the data directory {data_dir}"
        except OSError:
            pass
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        where = f" ({current.filename})" if isinstance(current, OSError) and current.filename else ""
        if isinstance(current, OSError):
            if current.errno == errno.EROFS:
                return f"the data directory is on a read-only file system{where}"
            if current.errno in (errno.ENOSPC, errno.EDQUOT):
                return f"no space left on the device holding the data directory{where}"
            if current.errno == errno.EFBIG:
                return f"a file of the data directory reached the size limit{where}"
        text = str(current).lower()
        if isinstance(current, sqlite3.Error):
            if "readonly" in text or "read-only" in text:
                return "the catalog cannot be written: the data directory is read-only"
            if "disk is full" in text:
                return "no space left on the device holding the data directory (catalog)"
            if "disk i/o error" in text:
                return "the catalog could not be written (disk I/O error): check the disk and its free space"
        if "read-only file system" in text:
            return "the data directory is on a read-only file system"
        if "no space left on device" in text:
            return "no space left on the device holding the data directory"
        current = current.__cause__ or current.__context__
    return None
