"""The only module of Veille that speaks HTTP: polite, bounded, conditional GETs.

`Fetcher.fetch(url)` returns a frozen `FetchResult` or raises a `watch.errors.FetchError`
with a stable code. What it guarantees, whoever calls it:

- robots.txt is obeyed (Protego), fetched once per host and cached; the configured user agent
  is sent on every request;
- at most one request at a time per host, `http.delay_per_host` seconds apart (more if the
  host's robots.txt asks for a Crawl-delay), and at most `http.concurrency` requests at once;
- conditional GET from the validators (ETag / Last-Modified) kept by the catalog: a 304
  gives `not_modified=True` and no body. Validators are stored only when the caller says the
  result was processed (`store_validators`), so a crash mid-processing never hides items;
- bounded retries with exponential backoff on 5xx, 429 and connection errors, honouring
  Retry-After; redirects followed by hand, each hop checked (scheme, address, robots) and
  recorded; a maximum body size (also after decompression); a total time limit per body;
- URLs resolving to private, loopback or link-local addresses refused unless
  `http.allow_private_networks` (a feed can point anywhere, including the intranet).

urllib3 is used directly rather than requests: we need redirects, retries and decompression
under our control (each hop checked, each byte counted), which requests would hide.
Clock and sleep are injectable so tests of delays and Retry-After do not wait.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import BinaryIO, Callable, Mapping, Protocol
from urllib.parse import urljoin, urlsplit

import urllib3
from protego import Protego

from veille.core.config import HttpConfig
from watch import charset as charsets
from watch.errors import (ConnectionFailed, FetchError, FetchTimeout, HttpError, InvalidUrl,
                          PrivateAddressRefused, RobotsDisallowed, TooLarge, TooManyRedirects)

log = logging.getLogger(__name__)

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_REDIRECTS = 10
ROBOTS_MAX_BYTES = 512 * 1024          # RFC 9309 asks parsers to read at least 500 KiB
ROBOTS_TTL = 24 * 3600.0
ROBOTS_ERROR_TTL = 600.0
MAX_CRAWL_DELAY = 60.0
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,application/pdf;q=0.9,*/*;q=0.8"
TEXT_TYPES = ("text/", "application/xml", "application/xhtml+xml", "application/rss+xml",
              "application/atom+xml", "application/rdf+xml", "application/json", "application/feed+json")


class ValidatorStore(Protocol):
    """Where ETag / Last-Modified live between runs (`catalog.validators` implements it)."""

    def get(self, url: str) -> tuple[str | None, str | None]: ...
    def put(self, url: str, etag: str | None, last_modified: str | None) -> None: ...


@dataclass(frozen=True)
class FetchResult:
    url: str                                  # as requested
    final_url: str                            # after redirects
    redirects: tuple[str, ...]                # every URL that answered with a redirect, in order
    status: int
    headers: Mapping[str, str]                # lower-case names
    body: bytes = b""
    content_type: str = ""                    # media type, lower case, without parameters
    charset: str | None = None                # as declared by the Content-Type header
    encoding: str | None = None               # how `text` decodes the body (text types only)
    encoding_source: str = ""                 # bom | declared | sniffed | detected | default
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    sent_validators: bool = False             # the request was conditional

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")

    @property
    def is_text(self) -> bool:
        return self.content_type.startswith(TEXT_TYPES) or self.content_type.endswith("+xml")


@dataclass
class _Host:
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_allowed: float = 0.0
    crawl_delay: float = 0.0
    robots_lock: threading.Lock = field(default_factory=threading.Lock)
    robots: Protego | None = None
    robots_disallow_all: str = ""             # why everything is refused (robots.txt unreachable)
    robots_expires: float = -1.0


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


NAT64 = ipaddress.ip_network("64:ff9b::/96")       # RFC 6052: IPv4 in the last 32 bits
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local-use translation


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any: the
    network would deliver to that one, so it is the one to judge."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64 or ip in NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        ip = embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


class Fetcher:
    """Thread-safe; share one per process so per-host politeness holds across sources."""

    def __init__(self, http: HttpConfig, validators: ValidatorStore | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 resolve: Callable[..., list] = socket.getaddrinfo,
                 address_allowed: Callable[[str], bool] = is_public_address,
                 backoff: float = 1.0, max_retry_wait: float = 300.0):
        self.http = http
        self.validator_store = validators
        self._clock = clock
        self._sleep = sleep
        self._resolve = resolve
        self._address_allowed = address_allowed
        self._backoff = backoff
        self._max_retry_wait = max_retry_wait
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, http.concurrency))
        self._base_headers = {"User-Agent": http.user_agent, "Accept-Encoding": "gzip, deflate",
                              "Accept": DEFAULT_ACCEPT, "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
        self._pool = urllib3.PoolManager(num_pools=50, maxsize=max(1, http.concurrency), retries=False)
        if not http.allow_private_networks:
            # check the address again when connecting, and connect to the address checked:
            # a name that resolved to a public address a moment ago may not any more
            self._pool.pool_classes_by_scheme = _guarded_pool_classes(self._public_address)

    def close(self) -> None:
        self._pool.clear()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ public

    def fetch(self, url: str, conditional: bool = True, accept: str | None = None) -> FetchResult:
        """GET `url` politely; see the module docstring. Raises FetchError.

        Credentials in the address (`https://user:password@host/`) are sent as HTTP Basic
        authentication to that origin only, and never appear in results or errors."""
        url, authorization = split_credentials(url)
        _check_url(url)
        headers: dict[str, str] = {"Authorization": authorization} if authorization else {}
        if accept:
            headers["Accept"] = accept
        etag = last_modified = None
        if conditional and self.validator_store is not None:
            etag, last_modified = self.validator_store.get(url)
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        sent_validators = bool(etag or last_modified)
        return self._get(url, headers, sent_validators)

    def download(self, url: str, sink: BinaryIO, max_bytes: int) -> FetchResult:
        """GET a large file (an archive) into `sink` rather than memory, up to `max_bytes`.

        The same address checks, robots.txt, politeness, redirects and retries as `fetch`;
        no validators, credentials in the address sent the same way. The result's body is
        empty: the bytes are in `sink`, from its start. Raises FetchError (TooLarge past
        `max_bytes`)."""
        url, authorization = split_credentials(url)
        _check_url(url)
        headers = {"Authorization": authorization} if authorization else {}
        return self._get(url, headers, False, sink=sink, max_bytes=max_bytes)

    def _get(self, url: str, headers: dict[str, str], sent_validators: bool,
             sink: BinaryIO | None = None, max_bytes: int | None = None) -> FetchResult:
        chain: list[str] = []
        current = url
        while True:
            self._check_allowed(current)
            response = self._request_with_retries(current, headers, sink=sink, max_bytes=max_bytes)
            location = response.headers.get("location")
            if response.status in REDIRECT_STATUSES and location:
                if len(chain) >= MAX_REDIRECTS:
                    raise TooManyRedirects(f"plus de {MAX_REDIRECTS} redirections depuis {url}", url=url)
                chain.append(current)
                current, _ = split_credentials(urljoin(current, location.strip()))
                _check_url(current)
                if "Authorization" in headers and _origin(current) != _origin(url):
                    headers.pop("Authorization")   # credentials stay with their server
                continue
            break
        return self._result(url, current, tuple(chain), response, sent_validators)

    def post(self, url: str, data: bytes, content_type: str, *, headers: Mapping[str, str] | None = None,
             accept: str | None = None) -> FetchResult:
        """POST `data` to an API endpoint (the Légifrance API and its OAuth2 token endpoint).

        Same address checks, per-host politeness, size limit and retries as `fetch` (the
        APIs we POST to answer read-only queries, so repeating one is safe). No robots.txt:
        an API called with credentials is not crawled. No redirects, no validators.
        Raises FetchError; an HTTP error keeps its status (401: credentials refused).
        """
        _check_url(url)
        parts = urlsplit(url)
        self._check_address(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), url)
        request_headers = {"Content-Type": content_type, **(headers or {})}
        if accept:
            request_headers["Accept"] = accept
        response = self._request_with_retries(url, request_headers, method="POST", body=data)
        return self._result(url, url, (), response, sent_validators=False)

    def store_validators(self, result: FetchResult) -> None:
        """Remember the result's ETag / Last-Modified: call once its content is safely stored."""
        if self.validator_store is None or result.not_modified:
            return
        if result.etag or result.last_modified:
            self.validator_store.put(result.url, result.etag, result.last_modified)

    def forget_validators(self, url: str) -> None:
        if self.validator_store is not None:
            self.validator_store.put(url, None, None)

    # ------------------------------------------------------------ checks

    def _host(self, url: str) -> _Host:
        key = _origin(url)
        with self._hosts_lock:
            return self._hosts.setdefault(key, _Host())

    def _check_allowed(self, url: str) -> None:
        parts = urlsplit(url)
        self._check_address(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), url)
        if not self._robots_allow(url):
            raise RobotsDisallowed(f"robots.txt de {parts.hostname} interdit {url}", url=url,
                                   hint="le site refuse les robots pour cette adresse")

    def _check_address(self, host: str, port: int, url: str) -> None:
        if not self.http.allow_private_networks:
            self._public_address(host, port, url)

    def _public_address(self, host: str, port: int, url: str = "") -> str:
        """The address to connect to, once every address of `host` is known to be public."""
        try:
            infos = self._resolve(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise ConnectionFailed(f"nom d'hôte introuvable : {host} ({exc})", url=url) from None
        if not infos:
            raise ConnectionFailed(f"nom d'hôte sans adresse : {host}", url=url)
        for info in infos:
            address = info[4][0]
            if not self._address_allowed(address):
                raise PrivateAddressRefused(
                    f"{host} pointe vers une adresse privée ou locale ({address}) : refusé", url=url,
                    hint="http.allow_private_networks: true pour l'autoriser")
        return infos[0][4][0]

    def _robots_allow(self, url: str) -> bool:
        host = self._host(url)
        with host.robots_lock:
            if self._clock() >= host.robots_expires:
                self._load_robots(url, host)
            if host.robots_disallow_all:
                return False
            if host.robots is None:
                return True
            return host.robots.can_fetch(url, self.http.user_agent)

    def _load_robots(self, url: str, host: _Host) -> None:
        robots_url = _origin(url) + "/robots.txt"
        host.robots, host.robots_disallow_all, host.crawl_delay = None, "", 0.0
        ttl = ROBOTS_TTL
        try:
            response, current = None, robots_url
            for _ in range(5):  # http -> https and www redirects are common for robots.txt
                response = self._request_once(current, {}, max_bytes=ROBOTS_MAX_BYTES, truncate=True)
                location = response.headers.get("location")
                if response.status not in REDIRECT_STATUSES or not location:
                    break
                current = urljoin(current, location)
                parts = urlsplit(current)
                if parts.scheme not in ("http", "https"):
                    break
                self._check_address(parts.hostname or "", parts.port or 80, current)
        except (ConnectionFailed, FetchTimeout):
            raise  # the host is down: that is the error to report, and nothing is cached
        except PrivateAddressRefused:
            response = None  # robots.txt redirected somewhere we do not go: no rules
        if response is not None and response.status == 200:
            text, _ = charsets.decode(response.body, response.headers.get("content-type", ""))
            host.robots = Protego.parse(text)
            delay = host.robots.crawl_delay(self.http.user_agent)
            if delay:
                host.crawl_delay = min(float(delay), MAX_CRAWL_DELAY)
                with host.lock:  # the robots.txt request itself already counts
                    host.next_allowed += max(0.0, host.crawl_delay - self.http.delay_per_host)
        elif response is not None and response.status >= 500:
            # RFC 9309 2.3.1.4: an unreachable robots.txt means "assume complete disallow"
            host.robots_disallow_all = f"robots.txt répond {response.status}"
            ttl = ROBOTS_ERROR_TTL
        # other 4xx (and 3xx loops): no robots.txt, everything allowed
        host.robots_expires = self._clock() + ttl

    # ------------------------------------------------------------ requests

    def _request_with_retries(self, url: str, headers: dict[str, str], method: str = "GET",
                              body: bytes | None = None, sink: BinaryIO | None = None,
                              max_bytes: int | None = None) -> _Response:
        attempt = 0
        while True:
            try:
                response = self._request_once(url, headers, max_bytes=max_bytes, method=method, body=body,
                                              sink=sink)
            except (FetchTimeout, ConnectionFailed):
                if attempt >= self.http.retries:
                    raise
                wait = self._backoff * 2 ** attempt
            else:
                if response.status not in RETRY_STATUSES or attempt >= self.http.retries:
                    return response
                wait = retry_after_seconds(response.headers.get("retry-after"))
                if wait is None:
                    wait = self._backoff * 2 ** attempt
                if wait > self._max_retry_wait:
                    return response  # the server asks for longer than a run should wait
            attempt += 1
            log.info("%s : nouvel essai %d/%d dans %.1f s", url, attempt, self.http.retries, wait)
            self._sleep(wait)

    def _request_once(self, url: str, headers: dict[str, str], max_bytes: int | None = None,
                      truncate: bool = False, method: str = "GET", body: bytes | None = None,
                      sink: BinaryIO | None = None) -> _Response:
        host = self._host(url)
        with host.lock:  # one request at a time per host
            wait = host.next_allowed - self._clock()
            if wait > 0:
                self._sleep(wait)
            try:
                with self._slots:  # bounded concurrency across hosts
                    return self._send(method, url, headers, body, max_bytes or self.http.max_bytes, truncate,
                                      sink)
            finally:
                host.next_allowed = self._clock() + max(self.http.delay_per_host, host.crawl_delay)

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None, max_bytes: int,
              truncate: bool, sink: BinaryIO | None = None) -> _Response:
        timeout = self.http.timeout or None
        try:
            response = self._pool.request(
                method, url, headers={**self._base_headers, **headers}, body=body, redirect=False, retries=False, preload_content=False,
                decode_content=True, timeout=urllib3.Timeout(connect=timeout, read=timeout))
        except FetchError as exc:  # refused by the address guard while connecting
            exc.url = exc.url or url
            raise
        except urllib3.exceptions.NewConnectionError as exc:  # (a TimeoutError subclass in urllib3)
            raise ConnectionFailed(f"connexion impossible à {url} : {_reason(exc)}", url=url) from None
        except urllib3.exceptions.TimeoutError:
            raise FetchTimeout(f"délai dépassé ({self.http.timeout:g} s) pour {url}", url=url) from None
        except urllib3.exceptions.SSLError as exc:
            raise ConnectionFailed(f"connexion TLS impossible à {url} : {_reason(exc)}", url=url) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectionFailed(f"connexion impossible à {url} : {_reason(exc)}", url=url) from None
        complete = False
        try:
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes and not truncate:
                raise TooLarge(f"{url} dépasse la taille maximale ({int(length)} > {max_bytes} octets)",
                               url=url)
            if sink is not None and 200 <= response.status < 300:
                body = self._read_body(response, url, max_bytes, truncate, sink)
            else:
                body = self._read_body(response, url, max_bytes, truncate)
            complete = True
        finally:
            if not complete or truncate:   # a body maybe left unread must not go back to the pool
                response.close()
            response.release_conn()
        return _Response(response.status, _lower_headers(response.headers), body)

    def _read_body(self, response, url: str, max_bytes: int, truncate: bool,
                   sink: BinaryIO | None = None) -> bytes:
        # a trickling server must not hold a worker forever: a total limit per body
        deadline = time.monotonic() + max(4 * (self.http.timeout or 30), 60)
        if sink is not None:   # a large file: its own deadline, proportional to its size
            deadline = time.monotonic() + max(4 * (self.http.timeout or 30), 60, max_bytes / 100_000)
            sink.seek(0)
            sink.truncate()
        chunks, size = [], 0
        try:
            for chunk in response.stream(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    if truncate:
                        chunks.append(chunk[: len(chunk) - (size - max_bytes)])
                        break
                    raise TooLarge(f"{url} dépasse la taille maximale ({max_bytes} octets)", url=url)
                if sink is not None:
                    sink.write(chunk)
                else:
                    chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise FetchTimeout(f"téléchargement trop lent de {url}", url=url)
        except urllib3.exceptions.TimeoutError:
            raise FetchTimeout(f"délai dépassé ({self.http.timeout:g} s) en lisant {url}", url=url) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectionFailed(f"réponse interrompue de {url} : {_reason(exc)}", url=url) from None
        if sink is not None:
            sink.flush()
            sink.seek(0)
        return b"".join(chunks)

    def _result(self, url: str, final_url: str, chain: tuple[str, ...], response: _Response,
                sent_validators: bool) -> FetchResult:
        headers = response.headers
        content_type_header = headers.get("content-type", "")
        media_type = content_type_header.split(";")[0].strip().lower()
        common = dict(url=url, final_url=final_url, redirects=chain, status=response.status,
                      headers=headers, content_type=media_type,
                      charset=charsets.charset_of(content_type_header),
                      etag=headers.get("etag"), last_modified=headers.get("last-modified"),
                      sent_validators=sent_validators)
        if response.status == 304:
            return FetchResult(not_modified=True, **common)
        if response.status >= 400 or not 200 <= response.status < 300:
            retry_after = None
            if response.status in RETRY_STATUSES:
                retry_after = retry_after_seconds(headers.get("retry-after"))
            raise HttpError(_status_message(response.status, final_url), status=response.status,
                            url=final_url, retry_after=retry_after)
        result = FetchResult(body=response.body, **common)
        if result.is_text or not media_type:
            decided = charsets.detect_encoding(response.body, content_type_header)
            result = FetchResult(body=response.body, encoding=decided.encoding,
                                 encoding_source=decided.source, **common)
        return result


class _GuardedConnection:
    """Mixin for urllib3 connections: resolve and check the host when connecting, then
    connect to the checked address (TLS still verifies and sends the host name)."""

    public_address: Callable[[str, int], str]

    def _new_conn(self):
        original = self._dns_host
        self._dns_host = self.public_address(original, self.port)
        try:
            return super()._new_conn()
        finally:
            self._dns_host = original


def _guarded_pool_classes(public_address: Callable[..., str]) -> dict:
    check = staticmethod(public_address)
    http_conn = type("GuardedHTTPConnection", (_GuardedConnection, urllib3.connection.HTTPConnection),
                     {"public_address": check})
    https_conn = type("GuardedHTTPSConnection", (_GuardedConnection, urllib3.connection.HTTPSConnection),
                      {"public_address": check})
    return {
        "http": type("GuardedHTTPPool", (urllib3.HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSPool", (urllib3.HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


def split_credentials(url: str) -> tuple[str, str | None]:
    """(`url` without its user:password, the Basic Authorization header they make or None)."""
    import base64
    from urllib.parse import unquote, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url, None
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return url, None
    pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode("utf-8")
    return (urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)),
            "Basic " + base64.b64encode(pair).decode("ascii"))


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        raise InvalidUrl(f"adresse invalide : {url!r}", url=url) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise InvalidUrl(f"adresse non http(s) ou invalide : {url!r}", url=url)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _lower_headers(headers) -> Mapping[str, str]:
    return MappingProxyType({name.lower(): value for name, value in headers.items()})


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    # urllib3 prefixes messages with the connection object's repr: keep the useful end
    for marker in ("Failed to establish a new connection: ", ">: ", "): "):
        if marker in text:
            return text.split(marker, 1)[1]
    return text


_STATUS_TEXT = {
    401: "accès refusé (authentification requise)", 403: "accès interdit",
    404: "page introuvable", 410: "page supprimée", 429: "trop de requêtes",
    500: "erreur du serveur", 502: "passerelle en erreur", 503: "service indisponible",
    504: "passerelle hors délai",
}


def _status_message(status: int, url: str) -> str:
    return f"HTTP {status} ({_STATUS_TEXT.get(status, 'réponse inattendue')}) pour {url}"
