"""The `legifrance` source kind: Légifrance API responses parsed, and replayed from 127.0.0.1."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from conftest import FIXTURES
from veille.storage.catalog import Catalog
from veille.core.records import KIND_LEGAL
from veille.core.config import load_config
from watch.crawler import crawl_source
from watch.errors import ParseError
from watch.fetcher import Fetcher
from watch.sources.legifrance import (
    CredentialsError, Filters, JoEntry, JorfText, credentials, issues_since, parse_jo_container,
    parse_jorf_text, parse_last_n_jo, parse_token, to_document,
)

API = FIXTURES / "legifrance"


def _read(name: str) -> bytes:
    return (API / name).read_bytes()


# ------------------------------------------------------------------ parsing the real responses


def test_last_n_jo_lists_issues_newest_first():
    issues = parse_last_n_jo(_read("lastNJo-example.json"))
    assert [i.id for i in issues][:2] == ["JORFCONT000042612872", "JORFCONT000042607089"]
    assert issues[0].title == "JORF n°0294 du 5 décembre 2020"
    assert issues[0].published == date(2020, 12, 5)
    assert issues[0].eli == "/eli/jo/2020/12/5/0294"
    assert len(issues) == 5


def test_jorf_text_metadata_and_full_text():
    text = parse_jorf_text(_read("JORFTEXT000042665307.json"))
    assert text.cid == "JORFTEXT000042665307"
    assert text.title == "LOI n° 2020-1576 du 14 décembre 2020 de financement de la sécurité sociale pour 2021 (1)"
    assert (text.nature, text.nor) == ("LOI", "ECOX2023815L")
    assert text.eli == "/eli/loi/2020/12/14/ECOX2023815L/jo/texte"
    assert text.eli_alias == "/eli/loi/2020/12/14/2020-1576/jo/texte"
    assert text.issue == "JORF n°0302 du 15 décembre 2020"
    assert text.published == date(2020, 12, 15)
    assert text.url == "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000042665307"
    body = text.text
    assert body.startswith("L'Assemblée nationale et le Sénat ont délibéré")
    assert "Il est institué au titre de l'année 2021 une contribution exceptionnelle" in body
    assert body.index("Article 1\n") < body.index("Article 13\n") < body.index("Fait à Paris, le 14 décembre 2020.")
    assert "<p" not in body and "<br" not in body


def test_jo_container_entries_with_emitters_and_skipped_sections():
    entries = parse_jo_container(_read("jorfCont-JORFCONT000042665300.json"))
    by_id = {e.id: e for e in entries}
    assert list(by_id) == ["JORFTEXT000042665307", "JORFTEXT000099000001", "JORFTEXT000099000002",
                           "JORFTEXT000099000003"]  # "Mesures nominatives" are not regulation
    assert by_id["JORFTEXT000099000001"].emitter == "Ministère des outre-mer"   # from its section
    assert by_id["JORFTEXT000099000001"].nature == "DECRET"
    assert by_id["JORFTEXT000042665307"].emitter == "Ministère des solidarités et de la santé"
    assert by_id["JORFTEXT000042665307"].section == "Lois"


@pytest.mark.parametrize("body, message", [
    (b"<html>maintenance</html>", "illisible"),
    (b"[]", "pas un objet JSON"),
    (b'{"items": null}', "items"),
])
def test_unexpected_container_responses_are_parse_errors(body, message):
    with pytest.raises(ParseError, match=message):
        parse_jo_container(body)


def test_token_response():
    assert parse_token(b'{"access_token": "abc", "token_type": "Bearer", "expires_in": 3600}') == ("abc", 3600)
    with pytest.raises(CredentialsError):
        parse_token(b'{"error": "invalid_client"}')


def test_filters_on_nature_emitter_and_keywords():
    entry = JoEntry(id="JORFTEXT1", title="Décret ...", nature="DECRET", emitter="Ministère des outre-mer")
    assert Filters(natures=("décret", "arrêté")).entry_passes(entry)
    assert not Filters(natures=("LOI",)).entry_passes(entry)
    assert Filters(emitters=("Outre-mer",)).entry_passes(entry)
    assert not Filters(emitters=("culture",)).entry_passes(entry)
    text = JorfText(cid="JORFTEXT1", title="Décret", text="les quartiers prioritaires de la\npolitique  de la Ville")
    assert Filters(keywords=("politique de la ville",)).text_passes(text)
    assert not Filters(keywords=("Martinique",)).text_passes(text)
    assert Filters().text_passes(text)


def test_issues_since_the_day_before_the_last_success():
    issues = parse_last_n_jo(_read("lastNJo.json"))
    assert [i.published for i in issues_since(issues, None, 2)] == [date(2020, 12, 15), date(2020, 12, 5)]
    last = datetime(2020, 12, 16, 9, tzinfo=timezone.utc)
    assert [i.id for i in issues_since(issues, last, 10)] == ["JORFCONT000042665300"]


def test_credentials_come_from_the_environment_only():
    options = {"client_id_env": "LF_ID", "client_secret_env": "LF_SECRET"}
    assert credentials(options, {"LF_ID": "id", "LF_SECRET": "secret"}) == ("id", "secret")
    with pytest.raises(CredentialsError, match="LF_SECRET"):
        credentials(options, {"LF_ID": "id"})


def test_document_of_a_text():
    text = parse_jorf_text(_read("JORFTEXT000042665307.json"))
    doc = to_document(text, "jo", datetime(2020, 12, 16, tzinfo=timezone.utc),
                      JoEntry(id=text.cid, title=text.title, nature="LOI", emitter="Ministère des solidarités"))
    assert (doc.kind, doc.doc_type, doc.source) == (KIND_LEGAL, "loi", "jo")
    assert doc.url == "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000042665307"
    assert doc.published.date() == date(2020, 12, 15)
    assert doc.summary == "Ministère des solidarités — JORF n°0302 du 15 décembre 2020 — NOR : ECOX2023815L"
    assert doc.extra["nor"] == "ECOX2023815L" and doc.authors == ("Ministère des solidarités",)


# ------------------------------------------------------------------ replaying the API from 127.0.0.1


class FakePiste:
    """The PISTE token endpoint and the Légifrance API, serving the fixture files."""

    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        self.tokens_issued = 0
        self.reject_next_api_call = False
        self.refuse_api = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._send(404, {"error": "not found"})

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode()
                if self.path == "/token":
                    form = {k: v[0] for k, v in parse_qs(raw).items()}
                    fake.requests.append(("token", form))
                    if form.get("grant_type") != "client_credentials" or form.get("client_secret") != "s3cret":
                        return self._send(401, {"error": "invalid_client"})
                    fake.tokens_issued += 1
                    return self._send(200, {"access_token": f"tok-{fake.tokens_issued}", "token_type": "Bearer",
                                            "expires_in": 3600, "scope": "openid"})
                payload = json.loads(raw or "{}")
                fake.requests.append((self.path, payload))
                if fake.refuse_api or self.headers.get("authorization") != f"Bearer tok-{fake.tokens_issued}":
                    return self._send(401, {"error": "invalid_token"})
                if fake.reject_next_api_call:
                    fake.reject_next_api_call = False
                    return self._send(401, {"error": "token expired"})
                names = {"/api/consult/lastNJo": lambda p: "lastNJo.json",
                         "/api/consult/jorfCont": lambda p: f"jorfCont-{p.get('id')}.json",
                         "/api/consult/jorf": lambda p: f"{p.get('textCid')}.json"}
                path = API / names[self.path](payload) if self.path in names else None
                if path is None or not path.is_file():
                    return self._send(404, {"error": "not found"})
                self._send(200, path.read_bytes())

            def _send(self, status, body):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def calls(self, endpoint: str) -> list[dict]:
        return [payload for path, payload in self.requests if path.endswith(endpoint)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def piste():
    fake = FakePiste()
    yield fake
    fake.close()


@pytest.fixture
def setup(piste, write_config, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_LF_ID", "veille-test")
    monkeypatch.setenv("TEST_LF_SECRET", "s3cret")

    def make(filters: str = ""):
        config = load_config(write_config(f"""
            data_dir: data
            http: {{delay_per_host: 0, timeout: 5, retries: 0, allow_private_networks: true}}
            sources:
              - name: jo-outre-mer
                kind: legifrance
                url: {piste.url}/api
                token_url: {piste.url}/token
                client_id_env: TEST_LF_ID
                client_secret_env: TEST_LF_SECRET
                tags: [juridique]
        """ + "\n".join("        " + line for line in filters.strip().splitlines()) + "\n"))
        catalog = Catalog.open(config.layout)
        fetcher = Fetcher(config.http, catalog.validators)
        return config, config.sources[0], catalog, fetcher

    return make


def test_crawl_keeps_matching_texts_of_the_new_issues(setup, piste):
    config, source, catalog, fetcher = setup("""
        emitters: [outre-mer]
        keywords: [politique de la ville]
        max_issues: 2
    """)
    report = crawl_source(config, source, catalog, fetcher, now=datetime(2020, 12, 16, 8, tzinfo=timezone.utc))
    assert report.error is None, report.error
    assert report.new == 2
    assert piste.calls("lastNJo") == [{"nbElement": 2}]
    assert [c["id"] for c in piste.calls("jorfCont")] == ["JORFCONT000042665300", "JORFCONT000042612872"]
    # only the outre-mer texts were fetched: the law and the culture arrêté were filtered out first
    assert [c["textCid"] for c in piste.calls("consult/jorf")] == [
        "JORFTEXT000099000001", "JORFTEXT000099000002", "JORFTEXT000099000005"]
    docs = {d.extra["jorftext"]: d for d in catalog.documents.iter_all()}
    assert set(docs) == {"JORFTEXT000099000001", "JORFTEXT000099000005"}  # the octroi de mer one lacks the keywords
    decree = docs["JORFTEXT000099000001"]
    assert (decree.kind, decree.doc_type) == (KIND_LEGAL, "décret")
    assert decree.url == "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000099000001"
    assert decree.extra["legal_id"] == "decret:2020-1590"
    assert decree.extra["nor"] == "OMEV2031234D"
    assert "loi:2014-173" in decree.extra["legal_refs"]
    assert decree.published.date() == date(2020, 12, 15)
    assert decree.authors == ("Ministère des outre-mer",)
    # one token for the whole run, the client credentials sent to the token endpoint
    assert piste.calls("token") == [{"grant_type": "client_credentials", "client_id": "veille-test",
                                     "client_secret": "s3cret", "scope": "openid"}]

    # the next day: only the issues since the last run, and stored texts are not fetched again
    piste.requests.clear()
    report = crawl_source(config, source, catalog, fetcher, now=datetime(2020, 12, 16, 20, tzinfo=timezone.utc))
    assert report.error is None and report.new == 0
    assert [c["id"] for c in piste.calls("jorfCont")] == ["JORFCONT000042665300"]
    assert "JORFTEXT000099000001" not in [c["textCid"] for c in piste.calls("consult/jorf")]


def test_crawl_a_law_by_nature(setup, piste):
    config, source, catalog, fetcher = setup("""
        natures: [LOI]
        max_issues: 1
    """)
    report = crawl_source(config, source, catalog, fetcher, now=datetime(2020, 12, 16, tzinfo=timezone.utc))
    assert report.error is None and report.new == 1
    [law] = list(catalog.documents.iter_all())
    assert law.title.startswith("LOI n° 2020-1576 du 14 décembre 2020")
    assert (law.doc_type, law.extra["legal_id"]) == ("loi", "loi:2020-1576")
    assert {"nor:ECOX2023815L", "jorftext:JORFTEXT000042665307",
            "eli:/eli/loi/2020/12/14/ECOX2023815L/jo/texte"} <= set(law.extra["legal_ids"])


def test_missing_credentials_are_a_source_error(setup, piste, monkeypatch):
    config, source, catalog, fetcher = setup()
    monkeypatch.delenv("TEST_LF_SECRET")
    report = crawl_source(config, source, catalog, fetcher)
    assert report.error_code == "credentials"
    assert "TEST_LF_SECRET" in report.error and "TEST_LF_ID" not in report.error
    assert piste.requests == []  # nothing sent without credentials
    assert catalog.source_state.get(source.name).last_error_code == "credentials"


def test_refused_credentials_are_a_source_error(setup, piste, monkeypatch):
    config, source, catalog, fetcher = setup()
    monkeypatch.setenv("TEST_LF_SECRET", "wrong")
    report = crawl_source(config, source, catalog, fetcher)
    assert report.error_code == "credentials"
    assert "refusés" in report.error and "401" in report.error
    assert "wrong" not in report.error  # a secret never reaches a message


def test_api_refusing_the_token_is_a_source_error(setup, piste):
    config, source, catalog, fetcher = setup()
    piste.refuse_api = True
    report = crawl_source(config, source, catalog, fetcher)
    assert report.error_code == "credentials" and "401" in report.error
    assert report.http_status == 401
    assert piste.tokens_issued == 2  # one retry with a fresh token, then give up


def test_an_expired_token_is_renewed_once(setup, piste):
    config, source, catalog, fetcher = setup("""
        natures: [LOI]
        max_issues: 1
    """)
    piste.reject_next_api_call = True
    report = crawl_source(config, source, catalog, fetcher, now=datetime(2020, 12, 16, tzinfo=timezone.utc))
    assert report.error is None and report.new == 1
    assert piste.tokens_issued == 2
