"""The crawler's errors: one small family with stable codes, stored per source and shown to users.

Each error's message is French (it reaches the sources page and the CLI) and its `code` is a
stable identifier for programs (`veille sources --json`, the web status page, tests).
"""

from __future__ import annotations

from veille.core.errors import VeilleError


class WatchError(VeilleError):
    """A source could not be crawled (or parsed); the others carry on."""

    code = "watch_error"

    def __init__(self, message: str, *, url: str = "", hint: str = ""):
        self.url = url
        super().__init__(message, hint=hint)


class FetchError(WatchError):
    """An HTTP fetch failed; `status` is the last HTTP status seen, if any."""

    code = "fetch_error"
    status: int | None = None


class InvalidUrl(FetchError):
    code = "invalid_url"


class FetchTimeout(FetchError):
    code = "timeout"


class ConnectionFailed(FetchError):
    code = "connection"


class PrivateAddressRefused(FetchError):
    code = "refused_private_address"


class RobotsDisallowed(FetchError):
    code = "robots_disallowed"


class MissingCredentials(WatchError):
    """A `${NAME}` of the source's address names an environment variable that is not set."""

    code = "credentials"


class TooLarge(FetchError):
    code = "too_large"


class TooManyRedirects(FetchError):
    code = "too_many_redirects"


class HttpError(FetchError):
    code = "http_error"

    def __init__(self, message: str, *, status: int, url: str = "", hint: str = "",
                 retry_after: float | None = None):
        super().__init__(message, url=url, hint=hint)
        self.status = status
        self.retry_after = retry_after    # seconds the server asked us to wait (429, 503)


class ParseError(WatchError):
    """The body was fetched but is not what the source kind expects (no feed, no items)."""

    code = "parse_error"
