"""The fetcher against a real HTTP server on 127.0.0.1: politeness, validators, limits, errors."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace

import pytest

from veille.storage.catalog import Catalog
from tests.httpserver import Reply, http_config, httpserver  # noqa: F401 (fixtures)
from watch import errors
from watch.fetcher import Fetcher, is_public_address, retry_after_seconds


class FakeClock:
    """A clock that only moves when the fetcher sleeps: delays are checked without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@pytest.fixture
def catalog(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    yield catalog
    catalog.close()


def make_fetcher(http, catalog=None, clock=None, **kwargs):
    clock = clock or FakeClock()
    return Fetcher(http, catalog.validators if catalog else None, clock=clock, sleep=clock.sleep, **kwargs)


def test_fetch_records_user_agent_headers_and_charset(httpserver, http_config):
    httpserver.add("/page", "<p>Été</p>", content_type="text/html; charset=utf-8")
    result = make_fetcher(http_config).fetch(httpserver.url("/page"))
    assert result.status == 200
    assert result.final_url == result.url == httpserver.url("/page")
    assert result.redirects == ()
    assert result.content_type == "text/html"
    assert result.charset == "utf-8"
    assert result.encoding_source == "declared"
    assert result.text == "<p>Été</p>"
    sent = httpserver.hits("/page")[0].headers
    assert sent["user-agent"] == "VeilleTest/1.0"
    assert sent["accept-language"].startswith("fr")
    assert sent["accept"].startswith("text/html")


def test_conditional_get_uses_stored_validators_and_304_has_no_body(httpserver, http_config, catalog):
    httpserver.add("/feed", "<rss/>", content_type="application/rss+xml", etag='"v1"',
                   headers={"Last-Modified": "Wed, 12 Mar 2025 10:00:00 GMT"})
    fetcher = make_fetcher(http_config, catalog)
    first = fetcher.fetch(httpserver.url("/feed"))
    assert first.status == 200 and not first.not_modified and first.etag == '"v1"'
    assert "if-none-match" not in httpserver.hits("/feed")[0].headers
    # not stored until the caller says the content was processed
    assert catalog.validators.get(httpserver.url("/feed")) == (None, None)
    fetcher.store_validators(first)
    second = fetcher.fetch(httpserver.url("/feed"))
    sent = httpserver.hits("/feed")[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Wed, 12 Mar 2025 10:00:00 GMT"
    assert second.not_modified and second.status == 304 and second.body == b""
    third = fetcher.fetch(httpserver.url("/feed"), conditional=False)
    assert third.status == 200 and "if-none-match" not in httpserver.hits("/feed")[2].headers


def test_robots_txt_disallow_is_obeyed_and_fetched_once_per_host(httpserver, http_config):
    httpserver.add("/robots.txt", "User-agent: *\nDisallow: /prive/\n", content_type="text/plain")
    httpserver.add("/prive/doc", "secret")
    httpserver.add("/public", "ok")
    fetcher = make_fetcher(http_config)
    with pytest.raises(errors.RobotsDisallowed) as caught:
        fetcher.fetch(httpserver.url("/prive/doc"))
    assert caught.value.code == "robots_disallowed"
    assert fetcher.fetch(httpserver.url("/public")).status == 200
    assert httpserver.hits("/prive/doc") == []
    assert len(httpserver.hits("/robots.txt")) == 1


def test_robots_txt_for_our_user_agent_only(httpserver, http_config):
    httpserver.add("/robots.txt", "User-agent: VeilleTest\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
                   content_type="text/plain")
    httpserver.add("/x", "x")
    with pytest.raises(errors.RobotsDisallowed):
        make_fetcher(http_config).fetch(httpserver.url("/x"))


def test_robots_txt_server_error_means_disallow(httpserver, http_config):
    httpserver.add("/robots.txt", "boom", status=500)
    httpserver.add("/x", "x")
    with pytest.raises(errors.RobotsDisallowed):
        make_fetcher(replace(http_config, retries=0)).fetch(httpserver.url("/x"))


def test_per_host_delay_between_requests(httpserver, http_config):
    httpserver.add("/a", "a")
    httpserver.add("/b", "b")
    clock = FakeClock()
    fetcher = make_fetcher(replace(http_config, delay_per_host=2.5), clock=clock)
    fetcher.fetch(httpserver.url("/a"))   # robots.txt (404) then /a: one wait between them
    fetcher.fetch(httpserver.url("/b"))
    assert [r.path for r in httpserver.requests] == ["/robots.txt", "/a", "/b"]
    assert clock.sleeps == [2.5, 2.5]
    # another host name (same server) has its own schedule: no wait before its robots.txt
    fetcher.fetch(httpserver.url("/a", host="localhost"))
    assert clock.sleeps == [2.5, 2.5, 2.5]


def test_robots_crawl_delay_lengthens_the_per_host_delay(httpserver, http_config):
    httpserver.add("/robots.txt", "User-agent: *\nCrawl-delay: 7\n", content_type="text/plain")
    httpserver.add("/a", "a")
    clock = FakeClock()
    fetcher = make_fetcher(replace(http_config, delay_per_host=1.0), clock=clock)
    fetcher.fetch(httpserver.url("/a"))
    fetcher.fetch(httpserver.url("/a"))
    assert clock.sleeps == [7.0, 7.0]


def test_one_request_at_a_time_per_host_but_hosts_in_parallel(httpserver, http_config):
    # /slow answers only once two requests wait at the barrier: it needs two hosts at once
    barrier = threading.Barrier(2, timeout=10)

    def slow(request):
        try:
            barrier.wait()
            return Reply(200, b"ok", {"Content-Type": "text/plain"})
        except threading.BrokenBarrierError:
            return Reply(500, b"alone", {"Content-Type": "text/plain"})

    httpserver.route("/slow", slow)
    httpserver.add("/same", "x", content_type="text/plain")
    fetcher = Fetcher(replace(http_config, retries=0))
    results = {}

    def get(key, url):
        try:
            results[key] = fetcher.fetch(url).status
        except errors.FetchError as exc:
            results[key] = exc

    threads = [threading.Thread(target=get, args=(h, httpserver.url("/slow", host=h)))
               for h in ("127.0.0.1", "localhost")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == {"127.0.0.1": 200, "localhost": 200}
    # same host from many threads: never two requests in flight together
    httpserver.max_in_flight = 0
    threads = [threading.Thread(target=get, args=(i, httpserver.url("/same"))) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert [results[i] for i in range(6)] == [200] * 6
    assert httpserver.max_in_flight == 1


def test_retry_on_503_honours_retry_after(httpserver, http_config):
    httpserver.sequence("/busy", [Reply(503, b"busy", {"Retry-After": "12"}),
                                  Reply(503, b"busy", {}),
                                  Reply(200, b"enfin", {"Content-Type": "text/plain"})])
    clock = FakeClock()
    fetcher = make_fetcher(replace(http_config, retries=3), clock=clock, backoff=0.5)
    result = fetcher.fetch(httpserver.url("/busy"))
    assert result.body == b"enfin"
    assert len(httpserver.hits("/busy")) == 3
    assert clock.sleeps == [12.0, 1.0]  # Retry-After, then exponential backoff (0.5 * 2)


def test_retries_are_bounded(httpserver, http_config):
    httpserver.add("/down", "down", status=502)
    fetcher = make_fetcher(replace(http_config, retries=2), backoff=0.1)
    with pytest.raises(errors.HttpError) as caught:
        fetcher.fetch(httpserver.url("/down"))
    assert caught.value.status == 502 and caught.value.code == "http_error"
    assert len(httpserver.hits("/down")) == 3


def test_404_is_not_retried(httpserver, http_config):
    with pytest.raises(errors.HttpError) as caught:
        make_fetcher(http_config).fetch(httpserver.url("/absent"))
    assert caught.value.status == 404
    assert len(httpserver.hits("/absent")) == 1
    assert "introuvable" in str(caught.value)


def test_retry_after_http_date():
    from datetime import datetime, timezone

    now = datetime(2025, 3, 12, 10, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("Wed, 12 Mar 2025 10:00:30 GMT", now) == 30
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("bientôt") is None


def test_redirects_are_followed_and_recorded(httpserver, http_config):
    httpserver.redirect("/old", "/moved")
    httpserver.redirect("/moved", httpserver.url("/new", host="localhost"), status=301)
    httpserver.add("/new", "here")
    result = make_fetcher(http_config).fetch(httpserver.url("/old"))
    assert result.body == b"here"
    assert result.url == httpserver.url("/old")
    assert result.final_url == httpserver.url("/new", host="localhost")
    assert result.redirects == (httpserver.url("/old"), httpserver.url("/moved"))


def test_redirect_loop_is_an_error(httpserver, http_config):
    httpserver.redirect("/loop", "/loop")
    with pytest.raises(errors.TooManyRedirects):
        make_fetcher(http_config).fetch(httpserver.url("/loop"))


def test_redirect_to_a_robots_disallowed_path_is_refused(httpserver, http_config):
    httpserver.add("/robots.txt", "User-agent: *\nDisallow: /prive/\n", content_type="text/plain")
    httpserver.redirect("/open", "/prive/x")
    httpserver.add("/prive/x", "secret")
    with pytest.raises(errors.RobotsDisallowed):
        make_fetcher(http_config).fetch(httpserver.url("/open"))
    assert httpserver.hits("/prive/x") == []


def test_timeout_on_a_server_that_never_answers(httpserver, http_config):
    httpserver.hang("/never")
    fetcher = make_fetcher(replace(http_config, timeout=0.5, retries=1), backoff=0.01)
    with pytest.raises(errors.FetchTimeout) as caught:
        fetcher.fetch(httpserver.url("/never"))
    assert caught.value.code == "timeout"
    assert len(httpserver.hits("/never")) == 2  # retried once, then gave up


def test_connection_refused(http_config):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(errors.ConnectionFailed) as caught:
        make_fetcher(replace(http_config, retries=0)).fetch(f"http://127.0.0.1:{port}/")
    assert caught.value.code == "connection"


def test_oversize_body_is_refused(httpserver, http_config):
    httpserver.add("/big", b"x" * 5000, content_type="application/pdf")
    small = replace(http_config, max_bytes=1000)
    with pytest.raises(errors.TooLarge) as caught:
        make_fetcher(small).fetch(httpserver.url("/big"))
    assert caught.value.code == "too_large"

    # no Content-Length: the limit holds while reading
    def chunked(request):
        return Reply(200, b"y" * 5000, {"Content-Length": None, "Content-Type": "text/plain"})

    httpserver.route("/nolength", chunked)
    with pytest.raises(errors.TooLarge):
        make_fetcher(small).fetch(httpserver.url("/nolength"))


def test_gzip_body_counted_after_decompression(httpserver, http_config):
    import gzip

    packed = gzip.compress(b"z" * 50_000)
    httpserver.add("/bomb", packed, content_type="text/plain", headers={"Content-Encoding": "gzip"})
    with pytest.raises(errors.TooLarge):
        make_fetcher(replace(http_config, max_bytes=10_000)).fetch(httpserver.url("/bomb"))
    ok = make_fetcher(http_config).fetch(httpserver.url("/bomb"))
    assert ok.body == b"z" * 50_000


def test_missing_charset_is_sniffed_from_meta(httpserver, http_config):
    body = '<html><head><meta charset="iso-8859-1"></head><body>Préfecture</body></html>'.encode("latin-1")
    httpserver.add("/latin", body, content_type="text/html")
    result = make_fetcher(http_config).fetch(httpserver.url("/latin"))
    assert result.charset is None
    assert result.encoding_source == "sniffed"
    assert "Préfecture" in result.text


def test_wrong_declared_charset_is_corrected(httpserver, http_config):
    # declared UTF-8 but Latin-1 bytes: the declaration cannot decode them
    httpserver.add("/wrong-utf8", "<p>Délibération du conseil municipal, séance de février</p>".encode("cp1252"),
                   content_type="text/html; charset=utf-8")
    # declared Latin-1 but UTF-8 bytes: would silently give "DÃ©libÃ©ration"
    httpserver.add("/wrong-latin", "<p>Délibération</p>".encode("utf-8"),
                   content_type="text/html; charset=iso-8859-1")
    fetcher = make_fetcher(http_config)
    first = fetcher.fetch(httpserver.url("/wrong-utf8"))
    assert "Délibération du conseil municipal" in first.text
    assert first.encoding_source == "detected"
    second = fetcher.fetch(httpserver.url("/wrong-latin"))
    assert second.text == "<p>Délibération</p>"


def test_no_charset_anywhere_is_detected(httpserver, http_config):
    text = "Les habitants des quartiers prioritaires ont été consultés à Fort-de-France et à Schœlcher. " * 3
    httpserver.add("/plain", text.encode("cp1252"), content_type="text/plain")
    result = make_fetcher(http_config).fetch(httpserver.url("/plain"))
    assert result.encoding_source == "detected"
    assert "été consultés" in result.text


def test_private_addresses_are_refused_by_default(httpserver, http_config):
    httpserver.add("/x", "x")
    strict = replace(http_config, allow_private_networks=False)
    fetcher = make_fetcher(strict)
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(errors.PrivateAddressRefused) as caught:
            fetcher.fetch(httpserver.url("/x", host=host))
        assert caught.value.code == "refused_private_address"
    assert httpserver.requests == []  # refused before any byte was sent


def test_redirect_to_a_private_address_is_refused(httpserver, http_config):
    # a public name (resolved by a stub resolver) redirecting to the loopback address
    def resolve(host, port, type=0):
        address = "93.184.216.34" if host == "public.example" else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    strict = replace(http_config, allow_private_networks=False)
    fetcher = make_fetcher(strict, resolve=resolve)
    with pytest.raises(errors.PrivateAddressRefused):
        fetcher.fetch(httpserver.url("/x", host="internal.example"))
    assert httpserver.requests == []


def test_address_classification():
    assert is_public_address("93.184.216.34")
    assert is_public_address("2606:2800:220:1:248:1893:25c8:1946")
    for private in ("127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.169.254",
                    "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1",
                    # IPv4 inside IPv6: NAT64 (well-known and local-use prefixes) and 6to4
                    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:101", "64:ff9b:1::a00:1",
                    "2002:7f00:1::", "2002:c0a8:101::1", "2002:a9fe:a9fe::"):
        assert not is_public_address(private), private
    assert is_public_address("64:ff9b::5db8:d822")          # NAT64 of 93.184.216.34
    assert is_public_address("2002:5db8:d822::1")           # 6to4 of 93.184.216.34


def test_invalid_urls(http_config):
    fetcher = make_fetcher(http_config)
    for url in ("ftp://example.org/x", "file:///etc/passwd", "http://", "javascript:alert(1)"):
        with pytest.raises(errors.InvalidUrl):
            fetcher.fetch(url)


def test_address_is_checked_again_when_connecting(httpserver, http_config):
    """DNS rebinding: the name resolves to a public address for the check, then to the
    loopback address; the connection goes to the checked address, never to the new one."""
    httpserver.add("/x", "secret")
    answers = {"count": 0}

    def resolve(host, port, type=0):
        answers["count"] += 1
        # public for the first check, loopback afterwards
        address = "93.184.216.34" if answers["count"] == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    strict = replace(http_config, allow_private_networks=False, timeout=0.5, retries=0)
    fetcher = make_fetcher(strict, resolve=resolve)
    with pytest.raises(errors.PrivateAddressRefused):
        fetcher.fetch(httpserver.url("/x", host="rebind.example"))
    assert answers["count"] >= 2  # checked before the request, then again when connecting
    assert httpserver.requests == []


def test_connection_goes_to_the_checked_address(httpserver, http_config):
    # a guard that approves 127.0.0.1 (as if public) shows where the connection goes
    httpserver.add("/x", "ok")
    fetcher = make_fetcher(replace(http_config, allow_private_networks=False, retries=0),
                           resolve=lambda host, port, type=0: [
                               (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))],
                           address_allowed=lambda address: True)
    result = fetcher.fetch(httpserver.url("/x", host="anything.example"))
    assert result.body == b"ok"
    assert httpserver.hits("/x")[0].headers["host"].startswith("anything.example")
