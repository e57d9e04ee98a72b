"""The key signing session cookies: `$VEILLE_SECRET_KEY`, else a private file in the data directory.

The file (`DataDir.secret_key`) is created on first use, readable by its owner only (0600),
and refused when others can read it. It lives with the data (and its backups), never in the
repository.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from veille.core.errors import VeilleError

SECRET_KEY_ENV = "VEILLE_SECRET_KEY"
MIN_SECRET_LENGTH = 32


def load_secret_key(path: Path) -> str:
    """The session key: from `$VEILLE_SECRET_KEY`, else read from `path`, created if absent."""
    key = os.environ.get(SECRET_KEY_ENV, "").strip()
    if key:
        if len(key) < MIN_SECRET_LENGTH:
            raise VeilleError(f"la clé de {SECRET_KEY_ENV} est trop courte",
                              hint=f"mettez-y au moins {MIN_SECRET_LENGTH} caractères aléatoires")
        return key
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create_secret_file(path)
        if path.stat().st_mode & 0o077:
            raise VeilleError(f"{path} est lisible par d'autres utilisateurs",
                              hint=f"lancez : chmod 600 {path}")
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise VeilleError(f"impossible de lire ou de créer la clé secrète {path} : {exc}",
                          hint=f"vérifiez le répertoire de données, ou définissez {SECRET_KEY_ENV}") from None
    if len(key) < MIN_SECRET_LENGTH:
        raise VeilleError(f"{path} ne contient pas de clé utilisable",
                          hint="supprimez-le pour qu'une nouvelle clé soit créée "
                               "(l'équipe devra se reconnecter)")
    return key


def existing_secret_key(path: Path) -> str | None:
    """The key from `$VEILLE_SECRET_KEY` or the file at `path`, never creating one; None
    when there is none (a fresh machine) or it cannot be read."""
    key = os.environ.get(SECRET_KEY_ENV, "").strip()
    if not key:
        try:
            key = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
    return key if len(key) >= MIN_SECRET_LENGTH else None


def _create_secret_file(path: Path) -> None:
    """Write the key to a private temporary file, then link it into place: two processes
    starting together end up sharing one complete key, never reading a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race: use its key
    finally:
        os.unlink(tmp)
