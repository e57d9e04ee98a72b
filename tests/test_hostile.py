"""Hostile input, end to end: what the web ingests is data, never markup.

A feed served on 127.0.0.1 and a library folder carry script tags, event handlers,
`javascript:` links and markup-shaped file names; they go through the real `veille crawl`
and `veille index`, then every surface that shows them is checked: the search page, the
home page, every document page, the library listing, the Atom feeds, the JSON API and the
digest e-mail. Nothing may become an element, an event handler or a script URL.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from veille.storage.catalog import Catalog
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from web import create_app

pytestmark = pytest.mark.slow

ATOM = "{http://www.w3.org/2005/Atom}"
SCRIPT = "<script>alert('titre')</script>"
HANDLER = '<img src=x onerror="alert(2)">'
BREAKOUT = '"><svg onload=alert(3)>'
JS_URL = "javascript:alert(document.cookie)"
HOSTILE = f"{SCRIPT}{HANDLER}{BREAKOUT}"
ALLOWED_ELEMENTS_WITH_URL = {"a", "link", "form", "iframe", "script"}


def hostile_feed() -> bytes:
    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    description = (f'<p onclick="steal()">Rénovation des quartiers <a href="{JS_URL}">lien</a></p>'
                   f"<script>alert('résumé')</script>{HANDLER}<iframe src=\"{JS_URL}\"></iframe>")
    items = [
        (f"Rénovation piégée {HOSTILE}", "http://news.example/piege", description),
        (f"Rénovation par lien {BREAKOUT}", JS_URL, f"Rénovation {BREAKOUT}"),
        ("Rénovation ordinaire", "http://news.example/ordinaire", "Un résumé <b>gras</b>."),
    ]
    entries = "".join(
        f"<item><title>{esc(title)}</title><link>{esc(link)}</link><guid>{esc(link)}-{i}</guid>"
        f"<category>{esc(HOSTILE)}</category><author>x@y.fr ({esc(HOSTILE)})</author>"
        f"<description>{esc(desc)}</description>"
        f"<pubDate>Mon, 10 Mar 2025 0{i}:00:00 +0000</pubDate></item>"
        for i, (title, link, desc) in enumerate(items))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{esc(HOSTILE)}</title><link>http://news.example/</link><description>d</description>"
            f"{entries}</channel></rss>").encode("utf-8")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A crawled and indexed data directory full of hostile text, and its configuration."""
    from tests.httpserver import TestServer

    root = tmp_path_factory.mktemp("hostile")
    server = TestServer().start()
    try:
        server.add("/flux.xml", hostile_feed(), content_type="application/rss+xml")
        library = root / "library"
        library.mkdir()
        (library / f"{HANDLER}.html").write_text(
            f"<html><head><title>Rénovation {SCRIPT}</title></head><body onload='x()'>"
            f"<h1>Rénovation {HANDLER}</h1><p>Texte de rénovation <a href='{JS_URL}'>ici</a></p>"
            f"<script>document.write('{BREAKOUT}')</script></body></html>", encoding="utf-8")
        (library / "notes.txt").write_text(f"Rénovation urbaine {HOSTILE}", encoding="utf-8")
        _hostile_pdf(library / "rapport.pdf")
        path = root / "sources.yaml"
        path.write_text(
            "data_dir: data\n"
            "http: {delay_per_host: 0, retries: 0, timeout: 10, allow_private_networks: true}\n"
            "library: [{name: Bibliothèque, path: library, visibility: public}]\n"
            f'sources: [{{name: piege, title: "Flux piégé", kind: feed, url: "{server.url("/flux.xml")}"}}]\n'
            "alerts: [{name: Rénovation, query: rénovation, recipients: [doc@example.org]}]\n"
            "web: {base_url: 'http://veille.example.org'}\n", encoding="utf-8")
        import os
        import subprocess
        import sys

        from tests.conftest import ROOT

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for args in (["crawl"], ["index"]):
            result = subprocess.run([sys.executable, "-m", "veille", "--config", str(path), *args],
                                    env=env, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr
    finally:
        server.stop()
    return load_config(path)


def _hostile_pdf(path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": f"Rénovation {HOSTILE}", "/Author": HANDLER, "/Subject": JS_URL})
    with open(path, "wb") as out:
        writer.write(out)


def assert_inert(html: str, where: str) -> None:
    """No hostile element, event handler or script URL in an HTML page."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        assert tag.name not in ("svg", "object", "embed", "img", "style", "base", "meta") or \
            (tag.name == "meta" and set(tag.attrs) <= {"charset", "name", "content"}), f"{where}: {tag}"
        if tag.name == "script":
            assert str(tag.get("src", "")).startswith("/static/"), f"{where}: {tag}"
        if tag.name == "iframe":
            assert urlsplit(tag.get("src", "")).path.startswith("/lettres/"), f"{where}: {tag}"
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), f"{where}: {tag}"
            if name.lower() in ("href", "src", "action", "formaction", "xlink:href", "srcdoc"):
                scheme = urlsplit(str(value).strip()).scheme.lower()
                assert scheme in ("", "http", "https", "mailto"), f"{where}: {tag}"
    raw = html.lower()
    for needle in ("<script>alert", "<img src=x", "<svg", "<iframe src=\"javascript"):
        assert needle not in raw, f"{where}: {needle}"


def assert_atom_inert(body: bytes, where: str) -> None:
    root = ET.fromstring(body)                           # well-formed XML first
    for element in root.iter():
        if element.tag in (f"{ATOM}content", f"{ATOM}summary", f"{ATOM}title") and \
                element.get("type") in ("html", "xhtml"):
            assert_inert(element.text or "", f"{where} {element.tag}")   # readers render it
        if element.tag == f"{ATOM}link":
            assert urlsplit(element.get("href", "")).scheme in ("http", "https"), f"{where}: {element.attrib}"


@pytest.fixture(scope="module")
def client(world):
    app = create_app(world, {"TESTING": True})
    return app.test_client()


def test_hostile_documents_were_ingested(world):
    catalog = Catalog.open(world.layout)
    titles = [d.title for d in catalog.documents.iter_all()]
    assert any(SCRIPT in t for t in titles)              # stored as the text it is
    assert len(titles) >= 5


@pytest.mark.parametrize("url", ["/", "/search?q=rénovation", "/search", "/search?q=renovation&sort=date",
                                 "/search?q=%3Cscript%3E", "/bibliotheque", "/bibliotheque/Bibliothèque"])
def test_pages_listing_hostile_documents_are_inert(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert_inert(response.get_data(as_text=True), url)
    if url.startswith("/bibliotheque/"):
        assert f"{HANDLER}.html" in BeautifulSoup(response.data, "html.parser").get_text()  # listed, as text


def test_every_document_page_is_inert(world, client):
    catalog = Catalog.open(world.layout)
    ids = [d.id for d in catalog.documents.iter_all()]
    assert ids
    for doc_id in ids:
        response = client.get(f"/documents/{doc_id}")
        assert response.status_code == 200
        assert_inert(response.get_data(as_text=True), f"/documents/{doc_id}")


def test_atom_feeds_are_inert(client):
    for url in ("/search.atom?q=rénovation", "/alertes/yaml-renovation/atom"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "application/atom+xml"
        assert_atom_inert(response.data, url)


def test_json_api_is_never_sniffed_as_html(client):
    response = client.get("/api/search?q=rénovation")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert any(SCRIPT in hit["title"] for hit in response.json["results"])   # data stays data


def test_digest_email_is_inert(world, run_cli, tmp_path):
    out = tmp_path / "digest.html"
    result = run_cli("--config", str(world.path), "digest", "--preview", "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "Rénovation" in html
    assert_inert(re.sub(r"<style>.*?</style>", "", html, flags=re.S), "digest e-mail")
