"""Secrets inside URLs: masked wherever an address is shown, taken from the environment.

A source's address may hold credentials (`https://user:password@host/feed`) or a key in its
query (`?apikey=...`, `?token=...`). `masked_url` is what people see of it (pages, the JSON
API, logs, the CLI, OPML exports, error messages): the password and the values of
secret-looking parameters become `***`. `masked_text` does the same to every address in a
message. To keep secrets out of `sources.yaml`, write `${NAME}` in the address: the crawler
replaces it with the environment variable NAME when it fetches (`expand_env`), and nothing
else ever sees the value.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from veille.core.errors import VeilleError

MASK = "***"
# Query parameters whose value is a secret: exact names, then parts of names
SECRET_PARAMS = frozenset({
    "key", "apikey", "api_key", "access_key", "accesskey", "secret", "client_secret", "password",
    "passwd", "pwd", "pass", "token", "access_token", "refresh_token", "id_token", "auth", "authorization",
    "signature", "sig", "session", "sessionid", "session_id", "sid", "credential", "credentials",
    "private_token", "subscription_key",
})
SECRET_PARTS = ("token", "secret", "password", "passwd", "apikey", "api_key", "signature",
                "credential")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>()\[\]{}]+", re.IGNORECASE)
_PARAM_IN_TEXT = re.compile(r"(?<=[?&])([A-Za-z0-9_.-]+)=([^&\s\"'<>]*)")


class MissingSecret(VeilleError):
    code = "credentials"


def is_secret_param(name: str) -> bool:
    name = name.strip().lower().replace("-", "_")
    return name in SECRET_PARAMS or name.endswith("_key") or any(part in name for part in SECRET_PARTS)


def placeholders(text: str) -> list[str]:
    """The environment variables `${NAME}` a text refers to."""
    return _PLACEHOLDER.findall(text)


def expand_env(url: str, environ=None) -> str:
    """`url` with each `${NAME}` replaced by the variable's value (percent-encoded where it
    lands in the query). Raises MissingSecret naming the variable when one is not set."""
    environ = os.environ if environ is None else environ

    def value(match: re.Match) -> str:
        name = match.group(1)
        found = environ.get(name)
        if not found:
            raise MissingSecret(f"la variable d'environnement {name} (utilisée dans l'adresse de la "
                                "source) n'est pas définie",
                                hint=f"définissez {name} dans l'environnement du service")
        return quote(found, safe="")

    return _PLACEHOLDER.sub(value, url)


def masked_url(url: str) -> str:
    """`url` as people may see it: no password, no secret parameter value."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return _mask_unparsable(url)
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None or "@" in netloc:
        netloc = f"{MASK}@" + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_param(name) for name, _ in pairs):
            query = "&".join(
                f"{quote(name, safe='')}={MASK if is_secret_param(name) else quote(value, safe='/:,')}"
                for name, value in pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _mask_unparsable(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{MASK}@{host}/…" if "@" in rest.split("/", 1)[0] else f"{scheme}://{host}/…"


def masked_text(text: str | None) -> str | None:
    """`text` with every http(s) address in it masked (error messages, warnings, logs), and
    the secret parameters of bare paths too (`GET /flux?apikey=...` in a library's log)."""
    if not text:
        return text
    if "://" in text:
        text = _URL_IN_TEXT.sub(lambda match: masked_url(match.group(0)), text)
    if "=" in text:
        text = _PARAM_IN_TEXT.sub(
            lambda m: f"{m.group(1)}={MASK}" if is_secret_param(m.group(1)) else m.group(0), text)
    return text


__all__ = ["MASK", "MissingSecret", "expand_env", "is_secret_param", "masked_text", "masked_url",
           "placeholders"]
