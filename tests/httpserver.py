"""A real threaded HTTP server on 127.0.0.1 for crawler tests, serving what a test registers.

Test modules import the `httpserver` and `http_config` fixtures from here.

Routes are exact paths (with query string, if any) mapped to a function of the request
returning a `Reply`; helpers cover static bodies with validators (304), sequences of
replies (503 then 200), redirects and a handler that never answers. Every request is
recorded, with the number of requests in flight at its arrival.
"""

from __future__ import annotations

import email.utils
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable

import pytest


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # a body made as it is sent (a page of hundreds of MB never held in memory); without a
    # Content-Length in `headers` it is delimited by closing the connection
    stream: Callable[[], Iterable[bytes]] | None = None


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]           # lower-case names
    in_flight: int                    # requests being served when this one arrived (itself included)


class TestServer:
    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[Request], Reply]] = {}
        self.requests: list[Request] = []
        self.release = threading.Event()   # set at shutdown: handlers that hang return
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                with server._lock:
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                    request = Request(self.path, {k.lower(): v for k, v in self.headers.items()},
                                      server._in_flight)
                    server.requests.append(request)
                try:
                    route = server.routes.get(self.path)
                    reply = route(request) if route else Reply(404, b"not found")
                    if reply is None:  # the handler hung up without answering
                        self.close_connection = True
                        return
                    self.send_response(reply.status)
                    length = None if reply.stream is not None else str(len(reply.body))
                    headers = {"Content-Length": length, **reply.headers}
                    if headers["Content-Length"] is None:  # body delimited by closing
                        del headers["Content-Length"]
                        headers["Connection"] = "close"
                        self.close_connection = True
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    for chunk in (reply.stream() if reply.stream is not None else [reply.body]):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server._lock:
                        server._in_flight -= 1

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    # ------------------------------------------------------------ life

    def start(self) -> "TestServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    # ------------------------------------------------------------ routes

    def route(self, path: str, handler: Callable[[Request], Reply | None]) -> None:
        self.routes[path] = handler

    def add(self, path: str, body: bytes | str = b"", *, status: int = 200,
            content_type: str = "text/html; charset=utf-8", headers: dict | None = None,
            etag: str | None = None, last_modified: str | None = None) -> None:
        """A static reply; with `etag`/`last_modified`, conditional requests get a 304."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        extra = dict(headers or {})
        if content_type:
            extra["Content-Type"] = content_type
        if etag:
            extra["ETag"] = etag
        if last_modified:
            extra["Last-Modified"] = last_modified

        def handler(request: Request) -> Reply:
            if etag and request.headers.get("if-none-match") == etag:
                return Reply(304, b"", {"ETag": etag})
            if last_modified and not etag and request.headers.get("if-modified-since") == last_modified:
                return Reply(304, b"", {"Last-Modified": last_modified})
            return Reply(status, data, extra)

        self.routes[path] = handler

    def sequence(self, path: str, replies: list[Reply]) -> None:
        """Successive replies; the last one repeats."""
        queue = list(replies)

        def handler(request: Request) -> Reply:
            with self._lock:
                return queue.pop(0) if len(queue) > 1 else queue[0]

        self.routes[path] = handler

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = lambda request: Reply(status, b"", {"Location": location})

    def hang(self, path: str) -> None:
        """A server that accepts the request and never answers (until the test ends)."""

        def handler(request: Request) -> None:
            self.release.wait(30)
            return None

        self.routes[path] = handler

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


@pytest.fixture
def httpserver():
    """A real HTTP server on 127.0.0.1, stopped after the test."""
    server = TestServer().start()
    yield server
    server.stop()


@pytest.fixture
def http_config():
    """HttpConfig for tests: loopback allowed, no politeness delay, fast timeouts."""
    from veille.core.config import HttpConfig

    return HttpConfig(user_agent="VeilleTest/1.0", delay_per_host=0.0, timeout=5.0,
                      allow_private_networks=True, retries=2, concurrency=4)
