"""A site serving a monstrous page cannot take the crawler down.

`veille crawl` runs as a child process under an address-space limit, against a real HTTP
server streaming a 39 MB page of tiny elements (which took 4.8 GB when parsed as a tree in
the crawler) and a 200 MB one, linked from a `fetch_full` feed beside ten good feeds. The
crawl finishes, the ten feeds are stored and indexed, the big pages are reported, and the
peak resident memory of the crawl (its parsing worker included) stays under 500 MB.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.httpserver import Reply, httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from veille.storage.catalog import Catalog

pytestmark = pytest.mark.slow

MB = 1024 * 1024
UNIT = b"<p><b>mot</b> <i>x</i></p>\n"
PEAK_RSS_LIMIT = 500 * MB
ADDRESS_SPACE_LIMIT = 3 * 1024 * MB     # the crawl's memory limit (its worker inherits it)


def rss(name: str, links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{name} article {n}</title><link>{link}</link>"
        f"<guid>{link}</guid><description>Texte {n} de la source {name} sur la politique "
        f"de la ville.</description></item>" for n, link in enumerate(links))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{name}</title><link>http://example.org/</link>{items}</channel></rss>").encode()


def page_stream(size: int):
    """`size` bytes of tiny elements, made chunk by chunk as the server sends them."""
    def chunks():
        yield b"<html><head><title>Page immense</title></head><body>"
        block = UNIT * (MB // len(UNIT))
        sent = 0
        while sent < size:
            yield block
            sent += len(block)
        yield b"</body></html>"
    return chunks


def crawl_in_child(config_path) -> tuple[int, int, str, str]:
    """(exit code, peak RSS in bytes of the crawl and its worker, stdout, stderr)."""
    out_path, err_path = config_path.with_name("out.txt"), config_path.with_name("err.txt")

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))

    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "veille", "--config", str(config_path), "crawl"], cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out, stderr=err,
            preexec_fn=limit_memory)
        # wait4 gives this child's own usage, its waited-for children (the worker) included
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return (process.returncode, usage.ru_maxrss * 1024, out_path.read_text(encoding="utf-8"),
            err_path.read_text(encoding="utf-8"))


def test_huge_pages_do_not_take_the_crawl_down(tmp_path, httpserver):
    good = [f"bon{n}" for n in range(10)]
    for name in good:
        links = [httpserver.url(f"/{name}/{k}.html") for k in range(2)]
        httpserver.add(f"/{name}.xml", rss(name, links), content_type="application/rss+xml")
    httpserver.route("/immense-39.html", lambda request: Reply(
        200, headers={"Content-Type": "text/html; charset=utf-8", "Content-Length": str(
            len(b"<html><head><title>Page immense</title></head><body>") + 39 * MB + len(b"</body></html>"))},
        stream=page_stream(39 * MB)))
    # no Content-Length: the fetcher must stop reading at http.max_bytes on its own
    httpserver.route("/immense-200.html", lambda request: Reply(
        200, headers={"Content-Type": "text/html; charset=utf-8"}, stream=page_stream(200 * MB)))
    httpserver.add("/lourd.xml", rss("lourd", [httpserver.url("/immense-39.html"),
                                               httpserver.url("/immense-200.html")]),
                   content_type="application/rss+xml")
    sources = "\n".join(
        f'  - {{name: {name}, kind: feed, url: "{httpserver.url(f"/{name}.xml")}"}}' for name in good)
    config_path = tmp_path / "sources.yaml"
    config_path.write_text(
        "data_dir: data\n"
        "http: {delay_per_host: 0, retries: 0, timeout: 30, allow_private_networks: true}\n"
        "sources:\n"
        f'  - {{name: lourd, kind: feed, fetch_full: true, url: "{httpserver.url("/lourd.xml")}"}}\n'
        f"{sources}\n", encoding="utf-8")

    code, peak, out, err = crawl_in_child(config_path)

    assert "Traceback" not in err, err
    assert code == 0, out + err
    print(f"peak RSS of the crawl: {peak / MB:.0f} MB")
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / MB:.0f} MB"
    assert "11 source(s)" in out and "0 en échec" in out
    heavy = next(line for line in out.splitlines() if "lourd:" in line)
    assert "2 nouveau(x)" in heavy
    assert "dépasse la taille maximale" in heavy            # the 200 MB page, refused while read
    assert "page très volumineuse" in heavy                 # the 39 MB page, read flat

    config = load_config(config_path)
    catalog = Catalog.open(config.layout)
    by_source = {name: catalog.documents.counts_by("source").get(name, 0) for name in [*good, "lourd"]}
    assert all(by_source[name] == 2 for name in good), by_source
    big = catalog.documents.find_by_url(httpserver.url("/immense-39.html"))
    assert big.status == "ok" and "très volumineuse" in big.status_reason
    assert big.content.startswith("Page immense") or "mot x" in big.content[:1000]
    refused = catalog.documents.find_by_url(httpserver.url("/immense-200.html"))
    assert "taille maximale" in refused.status_reason and not refused.content

    index = subprocess.run([sys.executable, "-m", "veille", "--config", str(config_path), "index"],
                           cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                           text=True, timeout=600)
    assert index.returncode == 0, index.stderr
    assert catalog.queue.pending_count() == 0
    from indexer.search.request import SearchRequest
    from indexer.search.space import DocumentSpace

    space = DocumentSpace(config)
    try:
        for name in good:
            found = space.search(SearchRequest(q=f'"{name} article"', per_page=5, facets=False))
            assert found.total == 2, name
    finally:
        space.close()
