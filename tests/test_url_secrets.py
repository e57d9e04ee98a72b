"""Credentials in source addresses: masked wherever shown, taken from the environment."""

from __future__ import annotations

import json

import pytest

from tests.httpserver import Reply, httpserver  # noqa: F401 (fixture)
from veille.core.config import ConfigError, parse_config
from veille.core.url_secrets import MissingSecret, expand_env, masked_text, masked_url

PASSWORD, KEY, TOKEN = "motdepasse-canari", "cle-canari-1234", "jeton-canari-5678"


@pytest.mark.parametrize("url, shown", [
    ("https://user:pass@exemple.fr/flux?apikey=abc&lang=fr",
     "https://***@exemple.fr/flux?apikey=***&lang=fr"),
    ("https://exemple.fr:8443/flux?access_token=abc", "https://exemple.fr:8443/flux?access_token=***"),
    ("http://exemple.fr/f?X-Api-Key=1&Signature=2&page=3&client_secret=4&key=5&private_token=6",
     "http://exemple.fr/f?X-Api-Key=***&Signature=***&page=3&client_secret=***&key=***&private_token=***"),
    ("https://token@exemple.fr/", "https://***@exemple.fr/"),
    ("https://exemple.fr/flux?token=${FEED_TOKEN}", "https://exemple.fr/flux?token=***"),
    ("https://exemple.fr/rss?author=dupont&q=ville", "https://exemple.fr/rss?author=dupont&q=ville"),
    ("https://[::1]:8080/a?password=x", "https://[::1]:8080/a?password=***"),
])
def test_masked_url(url, shown):
    assert masked_url(url) == shown


def test_masked_text_masks_every_address_in_a_message():
    message = (f"connexion impossible à http://u:{PASSWORD}@exemple.fr/a?token={TOKEN} "
               f"(redirigé vers https://autre.fr/b?apikey={KEY}) : refusé")
    shown = masked_text(message)
    assert PASSWORD not in shown and TOKEN not in shown and KEY not in shown
    assert "https://autre.fr/b?apikey=***" in shown and shown.endswith(": refusé")
    assert masked_text(None) is None and masked_text("rien") == "rien"


def test_expand_env_fills_placeholders_and_names_a_missing_variable():
    assert expand_env("https://exemple.fr/f?token=${T}&x=1", {"T": "a b&c"}) == \
        "https://exemple.fr/f?token=a%20b%26c&x=1"
    with pytest.raises(MissingSecret, match="FEED_TOKEN"):
        expand_env("https://exemple.fr/f?token=${FEED_TOKEN}", {})


def test_config_accepts_placeholders_and_refuses_a_broken_one(tmp_path):
    good = parse_config("sources:\n  - {name: a, kind: feed, url: 'https://exemple.fr/f?token=${FEED_TOKEN}'}\n",
                        tmp_path / "sources.yaml")
    assert good.sources[0].url.endswith("${FEED_TOKEN}")
    with pytest.raises(ConfigError) as error:
        parse_config("sources:\n  - {name: a, kind: feed, url: 'https://exemple.fr/f?token=${FEED'}\n",
                     tmp_path / "sources.yaml")
    assert "variable d'environnement mal écrite" in str(error.value.problems)


def _rss(link: str) -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title><item><title>Un</title>'
            f"<link>{link}</link></item></channel></rss>").encode()


def test_cli_crawl_sources_and_export_never_show_a_credential(write_config, httpserver, run_cli):
    import base64

    auth = "Basic " + base64.b64encode(f"abonne:{PASSWORD}".encode()).decode()
    httpserver.route(f"/flux.xml?apikey={KEY}", lambda request: Reply(
        200, _rss(httpserver.url("/un")), {"Content-Type": "application/rss+xml"})
        if request.headers.get("authorization") == auth else Reply(401, b""))
    httpserver.add(f"/jeton.xml?token={TOKEN}", _rss(httpserver.url("/deux")), content_type="application/rss+xml")
    secret_url = httpserver.url(f"/flux.xml?apikey={KEY}").replace("http://", f"http://abonne:{PASSWORD}@")
    broken_url = httpserver.url(f"/absent.xml?apikey={KEY}").replace("http://", f"http://abonne:{PASSWORD}@")
    path = write_config(f"""
        data_dir: data
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - {{name: abonnes, kind: feed, url: "{secret_url}"}}
          - {{name: jeton, kind: feed, url: "{httpserver.url('/jeton.xml')}?token=${{FEED_TOKEN}}"}}
          - {{name: perdue, kind: feed, url: "{broken_url}"}}
        """)
    without = run_cli("--config", str(path), "crawl", "--source", "jeton")
    assert without.returncode == 1 and "FEED_TOKEN" in without.stdout and "[credentials]" in without.stdout
    crawl = run_cli("--config", str(path), "--verbose", "crawl", env={"FEED_TOKEN": TOKEN})
    assert "abonnes: 1 nouveau(x)" in crawl.stdout and "jeton: 1 nouveau(x)" in crawl.stdout
    assert "perdue: ÉCHEC" in crawl.stdout
    listing = run_cli("--config", str(path), "sources")
    as_json = run_cli("--config", str(path), "sources", "--json")
    exported = run_cli("--config", str(path), "sources", "export")
    for output in (crawl.stdout, crawl.stderr, listing.stdout, as_json.stdout, exported.stdout):
        for secret in (PASSWORD, KEY, TOKEN):
            assert secret not in output
    shown = {s["name"]: s for s in json.loads(as_json.stdout)["sources"]}
    assert shown["abonnes"]["url"] == httpserver.url("/flux.xml?apikey=***").replace("http://", "http://***@")
    assert shown["perdue"]["last_error"] and "***" in shown["perdue"]["last_error"]
    assert "apikey=***" in exported.stdout


@pytest.mark.parametrize("method", ["fetch", "download"])
def test_credentials_follow_a_redirect_on_their_server_only(httpserver, method, tmp_path):
    import base64

    from veille.core.config import HttpConfig
    from watch.fetcher import Fetcher

    auth = "Basic " + base64.b64encode(f"abonne:{PASSWORD}".encode()).decode()
    httpserver.redirect("/ancien", "/nouveau")                                  # same server
    httpserver.redirect("/nouveau", httpserver.url("/ailleurs", host="localhost"))   # another origin
    httpserver.add("/ailleurs", b"contenu", content_type="application/octet-stream")
    http = HttpConfig(user_agent="VeilleTest/1.0", delay_per_host=0.0, timeout=5.0,
                      allow_private_networks=True, retries=0)
    url = httpserver.url("/ancien").replace("http://", f"http://abonne:{PASSWORD}@")
    with Fetcher(http) as fetcher, open(tmp_path / "sink", "w+b") as sink:
        result = fetcher.fetch(url) if method == "fetch" else fetcher.download(url, sink, 1 << 20)
    sent = {r.path: r.headers.get("authorization") for r in httpserver.requests if r.path != "/robots.txt"}
    assert sent == {"/ancien": auth, "/nouveau": auth, "/ailleurs": None}
    assert PASSWORD not in result.url + result.final_url + " ".join(result.redirects)
