"""The `feed` kind on the third-party JORF Atom feeds (legifrss), as they are: HTML-escaped
full text in <content type="html">, ids that are Légifrance URLs."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from veille.storage.catalog import Catalog
from indexer.search.citations import same_as
from veille.core.records import KIND_LEGAL
from veille.core.config import load_config
from watch.crawler import crawl_source
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from watch.fetcher import Fetcher

T0 = datetime(2021, 3, 2, 12, tzinfo=timezone.utc)


def test_jorf_atom_feeds_give_legal_documents(shared_corpus, httpserver, write_config):
    feeds = shared_corpus / "feeds" / "legifrss-jorf-atom" / "snapshot-2021-03-02"
    for name in ("decret_ministere-des-outre-mer.xml", "arrete_ministere-des-outre-mer.xml"):
        httpserver.add(f"/{name}", (feeds / name).read_bytes(), content_type="application/atom+xml")
    config = load_config(write_config(f"""
        data_dir: data
        http: {{delay_per_host: 0, timeout: 5, allow_private_networks: true}}
        sources:
          - name: jo-decrets-outre-mer
            kind: feed
            url: {httpserver.url("/decret_ministere-des-outre-mer.xml")}
            tags: [juridique]
          - name: jo-arretes-outre-mer
            kind: feed
            url: {httpserver.url("/arrete_ministere-des-outre-mer.xml")}
            tags: [juridique]
    """))
    catalog = Catalog.open(config.layout)
    fetcher = Fetcher(config.http, catalog.validators)
    for source in config.sources:
        report = crawl_source(config, source, catalog, fetcher, now=T0)
        assert report.error is None and report.new > 0, report.line()
    docs = list(catalog.documents.iter_all())
    assert len(docs) >= 8  # ids repeat in these feeds: 8 distinct texts
    for doc in docs:
        assert doc.kind == KIND_LEGAL
        jorftext = re.search(r"JORFTEXT\d{12}", doc.url).group(0)
        assert doc.url == f"https://www.legifrance.gouv.fr/jorf/id/{jorftext}"
        assert f"jorftext:{jorftext}" in doc.extra["legal_ids"]
        assert doc.extra.get("legal_id"), doc.title
        assert doc.doc_type in ("décret", "arrêté"), doc.title
        assert "&lt;" not in doc.content and "<p>" not in doc.content  # the escaped HTML is read as text
    by_title = {d.title: d for d in docs}
    decree = next(d for t, d in by_title.items() if t.startswith("Décret n° 2021-214 du 24 février 2021"))
    assert decree.extra["legal_id"] == "decret:2021-214"
    assert decree.doc_type == "décret"
    assert "Saint-Pierre-et-Miquelon" in decree.content
    assert "decret:72-692" in decree.extra["legal_refs"]  # cited in the text's annex table
    arrete = next(d for t, d in by_title.items() if t.startswith("Arrêté du"))
    assert arrete.extra["legal_id"].startswith("jorftext:JORFTEXT")
    assert same_as(catalog, decree) == []
