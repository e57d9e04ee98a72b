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
    """One clear line, in French, for the storage failures any command or page can meet, or None.

    A read-only or full data directory surfaces as an OSError, a SQLite error ("unable to
    open database file" when its WAL index cannot be created) or an engine error wrapping
    one; each says the same thing to the person reading it. With `data_dir`, the file
    system itself is asked whether it is mounted read-only.
    """
    import errno
    import os
    import sqlite3

    if data_dir is not None and isinstance(exc, (OSError, sqlite3.Error)):
        try:
            fs = os.statvfs(data_dir)
            if fs.f_flag & os.ST_RDONLY:
                return f"le répertoire de données {data_dir} est sur un système de fichiers en lecture seule"
            if fs.f_bavail * fs.f_frsize < 1024 * 1024:  # SQLite may only say "disk I/O error"
                return f"plus de place sur le disque du répertoire de données {data_dir}"
        except OSError:
            pass
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        where = f" ({current.filename})" if isinstance(current, OSError) and current.filename else ""
        if isinstance(current, OSError):
            if current.errno == errno.EROFS:
                return f"le répertoire de données est sur un système de fichiers en lecture seule{where}"
            if current.errno in (errno.ENOSPC, errno.EDQUOT):
                return f"plus de place sur le disque du répertoire de données{where}"
            if current.errno == errno.EFBIG:
                return f"un fichier du répertoire de données a atteint la taille maximale{where}"
        text = str(current).lower()
        if isinstance(current, sqlite3.Error):
            if "readonly" in text or "read-only" in text:
                return "le catalogue ne peut pas être modifié : le répertoire de données est en lecture seule"
            if "disk is full" in text:
                return "plus de place sur le disque du répertoire de données (catalogue)"
            if "disk i/o error" in text:
                return ("le catalogue n'a pas pu être écrit (erreur d'entrée-sortie) : vérifiez le disque "
                        "et sa place libre")
        if "read-only file system" in text:
            return "le répertoire de données est sur un système de fichiers en lecture seule"
        if "no space left on device" in text:
            return "plus de place sur le disque du répertoire de données"
        current = current.__cause__ or current.__context__
    return None
