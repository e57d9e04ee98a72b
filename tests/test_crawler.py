"""Crawling sources into the catalog, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from veille.storage.catalog import Catalog
from veille.core.records import document_id
from tests.conftest import FIXTURES
from tests.httpserver import Reply, http_config, httpserver  # noqa: F401 (fixtures)
from veille.core.config import load_config
from watch.crawler import backoff_delay, crawl_source, crawl_sources, source_kind
from watch.fetcher import Fetcher
from watch.urls import canonicalize_url

WATCH = FIXTURES / "watch"
T0 = datetime(2025, 3, 12, 12, 0, tzinfo=timezone.utc)


class Env:
    """A sources.yaml on tmp_path pointing at the test server, its catalog and a fetcher."""

    def __init__(self, tmp_path, server, sources: str, http: str = ""):
        self.server = server
        text = textwrap.dedent(f"""\
            data_dir: data
            http: {{user_agent: "VeilleTest/1.0", delay_per_host: 0, timeout: 2, retries: 0,
                    allow_private_networks: true{http}}}
            sources:
            """) + textwrap.indent(textwrap.dedent(sources).replace("BASE", server.url("")), "  ")
        path = tmp_path / "sources.yaml"
        path.write_text(text, encoding="utf-8")
        self.config = load_config(path)
        self.catalog = Catalog.open(self.config.layout)
        self.fetcher = Fetcher(self.config.http, self.catalog.validators)

    def crawl(self, name: str, now: datetime = T0):
        return crawl_source(self.config, self.config.source(name), self.catalog, self.fetcher, now=now)

    def docs(self):
        return sorted(self.catalog.documents.iter_all(), key=lambda d: d.url or "")


@pytest.fixture
def make_env(tmp_path, httpserver):
    envs = []

    def make(sources: str, http: str = "") -> Env:
        env = Env(tmp_path, httpserver, sources, http)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.catalog.close()
        env.fetcher.close()


FEED_SOURCE = """
- name: agence
  title: Agence
  kind: feed
  url: BASE/rss.xml
  tags: [politique de la ville, publication]
"""


def test_feed_crawl_stores_documents_with_canonical_urls(make_env, httpserver):
    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    env = make_env(FEED_SOURCE)
    report = env.crawl("agence")
    assert report.ok and (report.new, report.updated, report.unchanged) == (3, 0, 0)
    assert report.http_status == 200
    docs = env.docs()
    urls = [d.url for d in docs]
    base = httpserver.url("")
    # relative links resolved, utm_* stripped
    assert urls == [f"{base}/actualites/contrats-de-ville-2030",
                    f"{base}/actualites/renovation-urbaine-martinique",
                    f"{base}/documents/guide-renouvellement.pdf"]
    doc = env.catalog.documents.get(document_id(f"{base}/actualites/renovation-urbaine-martinique"))
    assert doc.title.startswith("Rénovation urbaine")
    assert doc.kind == "publication"  # the first tag that is a kind
    assert doc.source == "agence"
    assert list(doc.extra["tags"]) == ["politique de la ville", "publication"]
    assert doc.published == datetime(2025, 3, 12, 14, 0, tzinfo=timezone.utc)
    assert doc.first_seen == T0
    assert doc.content_hash
    run = env.catalog.runs.recent("agence")[0]
    assert (run.new, run.http_status, run.error) == (3, 200, None)
    assert env.catalog.source_state.get("agence").last_success == T0


def test_recrawl_uses_304_and_adds_no_duplicates(make_env, httpserver):
    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml",
                   etag='"abc"')
    env = make_env(FEED_SOURCE)
    assert env.crawl("agence").new == 3
    second = env.crawl("agence", now=T0 + timedelta(hours=6))
    assert second.ok and second.not_modified and second.http_status == 304
    assert (second.new, second.updated) == (0, 0)
    assert httpserver.hits("/rss.xml")[1].headers["if-none-match"] == '"abc"'
    assert env.catalog.documents.count() == 3
    # without validators, a full re-read: everything unchanged, nothing duplicated
    env.catalog.validators.put(httpserver.url("/rss.xml"), None, None)
    third = env.crawl("agence", now=T0 + timedelta(hours=12))
    assert (third.new, third.updated, third.unchanged) == (0, 0, 3)
    assert env.catalog.documents.count() == 3
    assert all(d.first_seen == T0 for d in env.docs())


def test_changed_entry_is_an_update_not_a_new_document(make_env, httpserver):
    body = (WATCH / "actualites.rss").read_text(encoding="utf-8")
    httpserver.sequence("/rss.xml", [
        Reply(200, body.encode(), {"Content-Type": "application/rss+xml"}),
        Reply(200, body.replace("sont signés pour la période", "ont été signés pour").encode(),
              {"Content-Type": "application/rss+xml"})])
    env = make_env(FEED_SOURCE)
    env.crawl("agence")
    report = env.crawl("agence", now=T0 + timedelta(hours=6))
    assert (report.new, report.updated, report.unchanged) == (0, 1, 2)
    doc = env.catalog.documents.get(document_id(httpserver.url("/actualites/contrats-de-ville-2030")))
    assert "ont été signés" in doc.summary
    assert doc.first_seen == T0 and doc.updated == T0 + timedelta(hours=6)


def test_same_article_at_two_urls_is_one_document(make_env, httpserver):
    text = ("Le conseil citoyen du quartier de Volga-Plage a présenté ses propositions pour le "
            "renouvellement urbain : nouveaux logements, espaces publics et jardins partagés. ") * 3
    item = "<item><title>Conseil citoyen</title><link>{link}</link><description>{text}</description></item>"
    for path, link in (("/a.xml", "/article?id=7&utm_source=a"), ("/b.xml", "/presse/conseil-citoyen")):
        httpserver.add(path, f'<rss version="2.0"><channel><title>{path}</title>'
                             f'{item.format(link=link, text=text)}</channel></rss>',
                       content_type="application/rss+xml")
    env = make_env("""
        - {name: flux-a, kind: feed, url: BASE/a.xml}
        - {name: flux-b, kind: feed, url: BASE/b.xml}
        """)
    assert env.crawl("flux-a").new == 1
    report = env.crawl("flux-b")
    assert report.ok and report.new == 0 and report.unchanged == 1
    assert env.catalog.documents.count() == 1
    assert env.docs()[0].url == httpserver.url("/article?id=7")


def test_ill_formed_feed_is_crawled_with_a_warning(make_env, httpserver):
    httpserver.add("/rss.xml", (WATCH / "mal-forme.rss").read_bytes(), content_type="application/rss+xml")
    env = make_env(FEED_SOURCE)
    report = env.crawl("agence")
    assert report.ok and report.new == 2
    assert report.warnings and report.warnings[0].startswith("flux mal formé")
    assert env.catalog.runs.recent("agence")[0].warning.startswith("flux mal formé")


def test_failing_source_is_recorded_and_others_carry_on(make_env, httpserver):
    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    httpserver.add("/broken.xml", "<html>Erreur</html>", status=500)
    env = make_env(FEED_SOURCE + """
- {name: cassee, kind: feed, url: BASE/broken.xml}
- {name: pas-un-flux, kind: feed, url: BASE/page.html}
""")
    httpserver.add("/page.html", "<html><body>Bienvenue</body></html>")
    reports = {r.source: r for r in crawl_sources(env.config, env.catalog, env.fetcher, now=T0)}
    assert reports["agence"].ok and reports["agence"].new == 3
    assert reports["cassee"].error_code == "http_error" and reports["cassee"].http_status == 500
    assert "500" in reports["cassee"].line()
    assert reports["pas-un-flux"].error_code == "parse_error"
    state = env.catalog.source_state.get("cassee")
    assert state.consecutive_failures == 1 and state.last_error_code == "http_error"
    assert env.catalog.runs.recent("cassee")[0].error == reports["cassee"].error


def test_failing_source_backs_off_and_recovers(make_env, httpserver):
    httpserver.sequence("/rss.xml", [Reply(503, b"maintenance", {}), Reply(503, b"maintenance", {}),
                                     Reply(503, b"maintenance", {}),
                                     Reply(200, (WATCH / "actualites.rss").read_bytes(),
                                           {"Content-Type": "application/rss+xml"})])
    env = make_env(FEED_SOURCE)
    first = env.crawl("agence", now=T0)
    assert first.error_code == "http_error" and first.consecutive_failures == 1
    assert first.backoff_until is None  # one failure: the next scheduled run retries
    second = env.crawl("agence", now=T0 + timedelta(hours=6))
    assert second.consecutive_failures == 2
    assert second.backoff_until == T0 + timedelta(hours=6, minutes=30)
    # a scheduled run inside the backoff window does not touch the server
    hits = len(httpserver.hits("/rss.xml"))
    skipped = crawl_sources(env.config, env.catalog, env.fetcher, now=T0 + timedelta(hours=6, minutes=10),
                            respect_backoff=True)
    assert skipped[0].skipped and len(httpserver.hits("/rss.xml")) == hits
    third = env.crawl("agence", now=T0 + timedelta(hours=12))
    assert third.consecutive_failures == 3 and third.backoff_until == T0 + timedelta(hours=13)
    # the server is back: the next run after the window succeeds and clears the state
    recovered = crawl_sources(env.config, env.catalog, env.fetcher, now=T0 + timedelta(hours=14),
                              respect_backoff=True)[0]
    assert recovered.ok and recovered.new == 3
    state = env.catalog.source_state.get("agence")
    assert state.consecutive_failures == 0 and state.backoff_until is None
    assert state.last_error_code == "http_error"  # the last error stays visible
    assert state.last_success == T0 + timedelta(hours=14)


def test_backoff_grows_and_is_capped():
    assert backoff_delay(1) == timedelta(0)
    assert [backoff_delay(n) for n in (2, 3, 4)] == [timedelta(minutes=30), timedelta(hours=1),
                                                     timedelta(hours=2)]
    assert backoff_delay(30) == timedelta(days=1)


def test_source_kind_from_tags(make_env, httpserver):
    env = make_env("""
        - {name: a, kind: feed, url: BASE/a, tags: [Martinique, juridique]}
        - {name: b, kind: feed, url: BASE/b, tags: [Martinique]}
        """)
    assert source_kind(env.config.source("a")) == "juridique"
    assert source_kind(env.config.source("b")) == "actualité"


def test_fetch_full_stores_linked_pages_and_pdfs(make_env, httpserver):
    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    httpserver.add("/actualites/renovation-urbaine-martinique?utm_source=rss&utm_medium=feed",
                   "<html><head><title>Rénovation</title></head><body><main><p>Texte intégral de "
                   "l'article sur la rénovation urbaine.</p></main></body></html>", etag='"r1"')
    httpserver.add("/actualites/contrats-de-ville-2030", "<html><body><p>Contrats.</p></body></html>")
    httpserver.add("/documents/guide-renouvellement.pdf", (WATCH / "guide.pdf").read_bytes(),
                   content_type="application/pdf", etag='"pdf1"')
    env = make_env(FEED_SOURCE.replace("tags:", "fetch_full: true\n  tags:"))
    report = env.crawl("agence")
    assert report.ok and report.new == 3, report
    pdf = env.catalog.documents.get(document_id(httpserver.url("/documents/guide-renouvellement.pdf")))
    assert "concertation des habitants" in pdf.content
    assert pdf.stored_file and pdf.stored_file.endswith(".pdf")
    stored = env.config.data_dir / "files" / pdf.stored_file
    assert stored.read_bytes() == (WATCH / "guide.pdf").read_bytes()
    page = env.catalog.documents.get(document_id(httpserver.url("/actualites/renovation-urbaine-martinique")))
    assert "Texte intégral" in page.content and page.stored_file.endswith(".html")
    # unchanged entries: the linked files are not downloaded again
    again = env.crawl("agence", now=T0 + timedelta(hours=6))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    assert len(httpserver.hits("/documents/guide-renouvellement.pdf")) == 1


def test_unreachable_link_keeps_the_entry(make_env, httpserver):
    httpserver.add("/rss.xml", (WATCH / "textes.atom").read_bytes().replace(
        b"https://legifrance.example", httpserver.url("").encode()), content_type="application/atom+xml")
    env = make_env(FEED_SOURCE.replace("tags:", "fetch_full: true\n  tags:"))
    report = env.crawl("agence")
    assert report.ok and report.new == 2
    assert any("lien non récupéré" in w for w in report.warnings)
    decree = env.catalog.documents.get(document_id(httpserver.url("/jorf/id/JORFTEXT000001")))
    assert decree.content.startswith("Article 1")  # the feed's own text is kept
    assert decree.extra["link_error"].startswith("[http_error]")


def test_canonical_urls():
    assert canonicalize_url("HTTPS://WWW.Example.ORG:443/a/b?utm_source=x&id=3&fbclid=y#top") == \
        "https://www.example.org/a/b?id=3"
    assert canonicalize_url("http://example.org") == "http://example.org/"
    assert canonicalize_url("http://example.org:8080/x?b=2&a=1") == "http://example.org:8080/x?b=2&a=1"
    assert canonicalize_url("https://example.org/%7Euser/caf%C3%A9") == "https://example.org/~user/caf%C3%A9"
    assert canonicalize_url("https://example.org/x?xtor=RSS-1&mtm_campaign=a") == "https://example.org/x"


@pytest.mark.slow
def test_real_corpus_feeds_served_locally_never_crash(make_env, httpserver, shared_corpus):
    """Every feed of the shared corpus yields entries or a recorded error, never a crash."""
    feeds = sorted((shared_corpus / "feeds").rglob("*.xml"))
    assert len(feeds) > 150
    lines = []
    for i, path in enumerate(feeds):
        httpserver.add(f"/corpus/{i}.xml", path.read_bytes(), content_type="application/xml")
        lines.append(f"- {{name: f{i}, kind: feed, url: BASE/corpus/{i}.xml}}")
    env = make_env("\n".join(lines), http=", concurrency: 1")
    reports = crawl_sources(env.config, env.catalog, env.fetcher, now=T0)
    assert len(reports) == len(feeds)
    crashed = [r for r in reports if r.error_code == "unexpected"]
    assert crashed == []
    for report in reports:
        assert report.ok or report.error, report
    # most feedparser samples test channel-level fields and have no linked entry
    with_entries = [r for r in reports if r.ok and r.new + r.unchanged > 0]
    assert len(with_entries) >= 30
    errors = [r for r in reports if not r.ok]
    assert {r.error_code for r in errors} <= {"parse_error"} and len(errors) < 10
    legifrss = [r for r, p in zip(reports, feeds) if "legifrss" in str(p)]
    assert all(r.ok and r.new + r.unchanged > 0 for r in legifrss)
    assert len(env.catalog.runs.recent(limit=1000)) == len(feeds)


def test_sources_interleaved_by_host(make_env, httpserver):
    from watch.crawler import interleave_hosts

    env = make_env("""
        - {name: a1, kind: feed, url: "https://a.example/1"}
        - {name: a2, kind: feed, url: "https://a.example/2"}
        - {name: a3, kind: feed, url: "https://A.example/3"}
        - {name: b1, kind: feed, url: "https://b.example/1"}
        - {name: c1, kind: feed, url: "https://c.example/1"}
        - {name: b2, kind: feed, url: "https://b.example/2"}
        """)
    order = [s.name for s in interleave_hosts(list(env.config.sources))]
    assert order == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_retry_after_beyond_the_run_is_honoured_by_the_backoff(make_env, httpserver):
    # too long to wait inside a run: the source fails, and is not tried again before then
    httpserver.add("/rss.xml", "maintenance", status=503, headers={"Retry-After": "7200"})
    env = make_env(FEED_SOURCE)
    env.fetcher = Fetcher(env.config.http, env.catalog.validators, max_retry_wait=60)
    report = env.crawl("agence")
    assert report.error_code == "http_error" and report.consecutive_failures == 1
    assert report.backoff_until == T0 + timedelta(hours=2)
    skipped = crawl_sources(env.config, env.catalog, env.fetcher, now=T0 + timedelta(hours=1),
                            respect_backoff=True)
    assert skipped[0].skipped and len(httpserver.hits("/rss.xml")) == 1


def test_fetch_full_reads_an_attached_pdf_rather_than_the_page(make_env, httpserver):
    httpserver.add("/rss.xml", f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Cour</title>
      <item><title>Rapport public annuel</title><link>{httpserver.url('/publications/rapport')}</link>
        <enclosure url="/fichiers/rapport.pdf" type="application/pdf" length="1000"/>
        <enclosure url="/podcast.mp3" type="audio/mpeg" length="1000"/></item>
    </channel></rss>""", content_type="application/rss+xml")
    httpserver.add("/fichiers/rapport.pdf", (WATCH / "guide.pdf").read_bytes(), content_type="application/pdf")
    env = make_env(FEED_SOURCE.replace("tags:", "fetch_full: true\n  tags:"))
    report = env.crawl("agence")
    assert report.ok and report.new == 1
    doc = env.catalog.documents.get(document_id(httpserver.url("/publications/rapport")))
    assert doc.url == httpserver.url("/publications/rapport")
    assert doc.extra["document_url"] == httpserver.url("/fichiers/rapport.pdf")
    assert "concertation des habitants" in doc.content and doc.stored_file.endswith(".pdf")
    assert httpserver.hits("/publications/rapport") == [] and httpserver.hits("/podcast.mp3") == []


def test_linked_files_are_extracted_under_the_configured_limits(make_env, httpserver):
    from dataclasses import replace

    httpserver.add("/rss.xml", (WATCH / "actualites.rss").read_bytes(), content_type="application/rss+xml")
    httpserver.add("/documents/guide-renouvellement.pdf", (WATCH / "guide.pdf").read_bytes(),
                   content_type="application/pdf")
    env = make_env(FEED_SOURCE.replace("tags:", "fetch_full: true\n  tags:"))
    tiny = (WATCH / "guide.pdf").stat().st_size / 2 / 1024 / 1024  # half the PDF, in MB
    env.config = replace(env.config, extraction=replace(env.config.extraction, max_file_mb=tiny))
    assert env.crawl("agence").ok
    pdf = env.catalog.documents.get(document_id(httpserver.url("/documents/guide-renouvellement.pdf")))
    assert pdf.status == "error" and pdf.status_reason, pdf
    assert "concertation des habitants" not in pdf.content
