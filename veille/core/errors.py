"""The one exception family users see: a message that fits on a line and says what to do."""

import errno as _errno

# The system's error texts (`strerror`) are in English: these are the ones people meet.
OS_ERROR_TEXTS = {
    _errno.ENOENT: "fichier ou dossier introuvable",
    _errno.EACCES: "permission refusée",
    _errno.EPERM: "opération non permise",
    _errno.EISDIR: "c'est un dossier",
    _errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    _errno.EEXIST: "existe déjà",
    _errno.ENOTEMPTY: "dossier non vide",
    _errno.ENOSPC: "plus de place sur le disque",
    _errno.EROFS: "système de fichiers en lecture seule",
    _errno.EADDRINUSE: "adresse déjà utilisée",
    _errno.EADDRNOTAVAIL: "adresse non disponible sur cette machine",
    _errno.ECONNREFUSED: "connexion refusée",
    _errno.ECONNRESET: "connexion coupée par l'autre côté",
    _errno.ETIMEDOUT: "délai dépassé",
    _errno.EMFILE: "trop de fichiers ouverts",
    _errno.ENAMETOOLONG: "nom de fichier trop long",
}


def os_error_reason(exc: OSError) -> str:
    """Why an OSError happened, in French (the system's own words for the rare errors not
    listed)."""
    return OS_ERROR_TEXTS.get(exc.errno or -1, exc.strerror or str(exc))


def os_error_text(exc: OSError) -> str:
    """An OSError in French, with the file it is about: `fichier ou dossier introuvable : '/srv/x'`."""
    text = os_error_reason(exc)
    if exc.filename is not None:
        text += f" : '{exc.filename}'"
    return text


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
