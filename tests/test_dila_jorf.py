"""The `dila-jorf` source kind: the DILA's JORF open data, served from 127.0.0.1 as archives
built from the real shared files in the real layout."""

from __future__ import annotations

import gzip
import io
import textwrap
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from indexer.search import citations
from indexer.search.space import DocumentSpace
from tests.httpserver import Reply, httpserver  # noqa: F401 (fixture)
from veille.core.config import load_config
from veille.core.records import document_id
from veille.storage.catalog import Catalog
from watch.crawler import crawl_source
from watch.errors import ParseError
from watch.fetcher import Fetcher
from watch.sources.dila_jorf import archives_to_read, parse_listing
from watch.sources.jorf_archive import DateRange, member_kind, member_path, read_archive, write_archive
from watch.sources.jorf_xml import (article_order, parse_article, parse_suppressions, parse_text_version,
                                    stated_date)

T0 = datetime(2026, 9, 21, 6, 0, tzinfo=timezone.utc)
ARMK, ECOT, JUSB, DECREE = ("JORFTEXT000054861441", "JORFTEXT000054861513", "JORFTEXT000054861494",
                            "JORFTEXT000027904809")
LISTING_PATH = "/OPENDATA/JORF/"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<TEXTE_VERSION><META><META_COMMUN><ID>JORFTEXT000099999999</ID></META_COMMUN></META>&lol4;</TEXTE_VERSION>"""


def url_of(cid: str) -> str:
    return f"https://www.legifrance.gouv.fr/jorf/id/{cid}"


@pytest.fixture
def jorf_files(shared_corpus) -> dict[str, bytes]:
    """The eight real files, by id."""
    root = shared_corpus / "legal" / "dila-jorf-opendata"
    return {path.stem: path.read_bytes() for path in sorted(root.glob("*/*.xml"))}


def archive(stamp: str, records, removed=()) -> bytes:
    out = io.BytesIO()
    write_archive(out, stamp, records, removed)
    return out.getvalue()


def older_decree(files) -> bytes:
    """The 2013 decree as first delivered, before the DILA re-delivered it: no signatories."""
    data = files[DECREE]
    start, end = data.index(b"<SIGNATAIRES>"), data.index(b"</SIGNATAIRES>")
    return data[:start] + b"<SIGNATAIRES><CONTENU/>" + data[end:]


# ------------------------------------------------------------------ parsing the real files


def test_texts_read_with_their_exact_metadata(jorf_files):
    ecot = parse_text_version(jorf_files[ECOT])
    assert (ecot.cid, ecot.nor, ecot.nature, ecot.number) == (ECOT, "ECOT2624231A", "ARRETE", "")
    assert ecot.published == date(2026, 9, 20) and ecot.signed == date(2026, 9, 18)
    assert ecot.eli == "https://www.legifrance.gouv.fr/eli/arrete/2026/9/18/ECOT2624231A/jo/texte"
    assert ecot.ministry.startswith("Ministère de l'économie, des finances et de la souveraineté")
    assert (ecot.jo, ecot.jo_number) == ("JORF n°0220 du 20 septembre 2026", "0220")
    assert ecot.title.endswith("à la SAS Fibre Excellence Saint-Gaudens")
    decree = parse_text_version(jorf_files[DECREE])
    assert (decree.number, decree.nor, decree.published) == ("2013-776", "JUSX1319588D", date(2013, 8, 29))
    assert decree.eli_aliases == ("https://www.legifrance.gouv.fr/eli/decret/2013/8/27/2013-776/jo/texte",)
    assert decree.keywords[:2] == ("JUSTICE", "ACTE LEGISLATIF") and len(decree.keywords) == 17
    assert "Christiane Taubira" in decree.signatories and "Décrète :" in decree.visas
    jusb = parse_text_version(jorf_files[JUSB])
    assert len(jusb.links) == 7
    code = [link for link in jusb.links if link.nature == "CODE"]
    assert code[0].signed is None          # 2999-01-01: the source's "unknown", never a date
    assert jusb.notice.startswith("Publics concernés : magistrats")


def test_unknown_date_is_no_date():
    assert stated_date("2999-01-01") is None and stated_date("") is None
    assert stated_date("2026-09-20") == date(2026, 9, 20)


def test_articles_in_order_with_their_tables_readable(jorf_files):
    articles = [parse_article(jorf_files[i]) for i in ("JORFARTI000054861448", "JORFARTI000054861446")]
    assert {a.text for a in articles} == {ARMK}
    ordered = [a.number for _, a in article_order(articles)]
    assert ordered == ["2", "3"]
    table = articles[1].content
    assert "Diplômes d'études spécialisées | Nombre de postes" in table
    assert "Neurochirurgie | 2" in table and "Urologie/chirurgie générale | 2" in table


def test_billion_laughs_is_refused_not_expanded():
    with pytest.raises(ParseError, match="entités"):
        parse_text_version(BILLION_LAUGHS)


def test_removal_list_names_texts_only():
    data = (b"jorf/global/texte/version/JORF/TEXT/00/00/27/90/48/JORFTEXT000027904809\n"
            b"jorf/global/texte/struct/JORF/TEXT/00/00/27/90/48/JORFTEXT000027904809\n"
            b"jorf/global/article/JORF/ARTI/00/00/54/86/14/JORFARTI000054861446.xml\n\n")
    assert parse_suppressions(data) == (DECREE,)


def test_layout_of_the_archives():
    path = member_path("20260920-013012", ARMK)
    assert path == "20260920-013012/jorf/global/texte/version/JORF/TEXT/00/00/54/86/14/JORFTEXT000054861441.xml"
    assert member_kind(path) == "text"
    assert member_kind(member_path("20260920-013012", "JORFARTI000054861446")) == "article"
    assert member_kind(member_path("20260920-013012", ARMK, "struct")) == "struct"
    assert member_kind("20260920-013012/jorf/global/conteneur/JORF/CONT/00/00/JORFCONT1.xml") == ""


def test_listing_and_the_archives_a_run_reads():
    html = """<html><body><pre>
    <a href="../">../</a>
    <a href="Freemium_jorf_global_20260901-120000.tar.gz">Freemium_jorf_global_20260901-120000.tar.gz</a>
    <a href="JORF_20260921-001530.tar.gz">JORF_20260921-001530.tar.gz</a>
    <a href="JORF_20260830-001530.tar.gz">JORF_20260830-001530.tar.gz</a>
    <a href="JORF_20260920-013012.tar.gz">JORF_20260920-013012.tar.gz</a>
    <a href="notes.txt">notes.txt</a></pre></body></html>"""
    archives = parse_listing("https://echanges.example/OPENDATA/JORF/", html)
    names = [a.name for a in archives]
    assert names == ["JORF_20260830-001530.tar.gz", "Freemium_jorf_global_20260901-120000.tar.gz",
                     "JORF_20260920-013012.tar.gz", "JORF_20260921-001530.tar.gz"]
    assert archives[0].url == "https://echanges.example/OPENDATA/JORF/JORF_20260830-001530.tar.gz"
    first = archives_to_read(archives, None, global_dump=True, since=None, limit=10)
    assert [a.name for a in first] == names[1:]          # the dump, then what came after it
    assert [a.name for a in archives_to_read(archives, None, global_dump=False, since=date(2026, 9, 20),
                                             limit=10)] == names[2:]
    assert [a.name for a in archives_to_read(archives, "JORF_20260920-013012.tar.gz", global_dump=True,
                                             since=None, limit=10)] == names[3:]
    assert archives_to_read(archives, names[-1], global_dump=False, since=None, limit=10) == []


def test_global_dump_limited_to_a_date_range(jorf_files):
    data = archive("20260901-120000", [(i, jorf_files[i]) for i in (ARMK, DECREE, "JORFARTI000054861446")])
    delivery = read_archive(io.BytesIO(data), "dump", dates=DateRange(date(2026, 1, 1), date(2026, 12, 31)))
    assert list(delivery.texts) == [ARMK] and list(delivery.articles) == [ARMK]


# ------------------------------------------------------------------ crawling from 127.0.0.1


class Dila:
    """A DILA-like directory on the test server, a source reading it, and its catalog."""

    def __init__(self, tmp_path: Path, server, options: str = ""):
        self.server = server
        self.archives: dict[str, bytes] = {}
        server.route(LISTING_PATH, lambda request: Reply(200, self.listing().encode(),
                                                         {"Content-Type": "text/html; charset=utf-8"}))
        head = textwrap.dedent(f"""\
            data_dir: data
            http: {{user_agent: "VeilleTest/1.0", delay_per_host: 0, timeout: 5, retries: 0,
                    allow_private_networks: true}}
            sources:
              - name: jo-dila
                title: Journal officiel (DILA)
                kind: dila-jorf
                url: {server.url(LISTING_PATH)}
                tags: [juridique]
            """)
        (tmp_path / "sources.yaml").write_text(head + textwrap.indent(options, "    ") + "\n", encoding="utf-8")
        self.config = load_config(tmp_path / "sources.yaml")
        self.catalog = Catalog.open(self.config.layout)
        self.fetcher = Fetcher(self.config.http, self.catalog.validators)

    def listing(self) -> str:
        links = "\n".join(f'<a href="{name}">{name}</a>  21-Sep-2026 00:15  {len(data)}'
                          for name, data in sorted(self.archives.items()))
        return f"<html><head><title>Index of /OPENDATA/JORF</title></head><body><pre>{links}</pre></body></html>"

    def publish(self, name: str, data: bytes) -> None:
        self.archives[name] = data
        self.server.add(LISTING_PATH + name, data, content_type="application/gzip")

    def crawl(self, now: datetime = T0):
        return crawl_source(self.config, self.config.source("jo-dila"), self.catalog, self.fetcher, now=now)

    def doc(self, cid: str):
        return self.catalog.documents.get(document_id(url_of(cid)))

    def close(self):
        self.catalog.close()
        self.fetcher.close()


@pytest.fixture
def dila(tmp_path, httpserver):
    made = []

    def make(options: str = "") -> Dila:
        made.append(Dila(tmp_path, httpserver, options))
        return made[-1]

    yield make
    for env in made:
        env.close()


def first_delivery(files) -> bytes:
    records = [(i, files[i]) for i in (ARMK, ECOT, JUSB)] + [(DECREE, older_decree(files))]
    records += [(i, files[i]) for i in files if i.startswith("JORFARTI")]
    return archive("20260920-013012", records)


def test_a_delivery_becomes_one_document_per_text(dila, jorf_files):
    env = dila()
    env.publish("JORF_20260920-013012.tar.gz", first_delivery(jorf_files))
    report = env.crawl()
    assert report.ok and report.new == 4, report.line()
    assert env.catalog.documents.count() == 4
    expected = {ARMK: ("ARMK2624825A", "Ministère des armées et des anciens combattants"),
                ECOT: ("ECOT2624231A", "Ministère de l'économie, des finances et de la souveraineté industrielle, "
                                       "énergétique et numérique"),
                JUSB: ("JUSB2615968A", "Ministère de la justice"),
                DECREE: ("JUSX1319588D", "Ministère de la justice")}
    for cid, (nor, ministry) in expected.items():
        doc = env.doc(cid)
        assert doc.extra["nor"] == nor and doc.extra["ministry"] == ministry and doc.authors == (ministry,)
        assert doc.extra["jorftext"] == cid and doc.url == url_of(cid) and doc.kind == "juridique"
        assert doc.extra["eli"] == f"https://www.legifrance.gouv.fr/eli/{'decret/2013/8/27' if cid == DECREE else 'arrete/2026/9/18'}/{nor}/jo/texte"
        assert f"nor:{nor}" in doc.extra["legal_ids"]
    ecot = env.doc(ECOT)
    assert ecot.published.date() == date(2026, 9, 20) and ecot.extra["signed"] == "2026-09-18"
    assert ecot.doc_type == "arrêté" and ecot.extra["jo_number"] == "0220"
    assert ecot.content.index("Article 1") < ecot.content.index("Article 2") < ecot.content.index("Fait le")
    assert "deux (2) millions d'euros" in ecot.content and "BpiFrance Assurance Export" in ecot.content
    armk = env.doc(ARMK)
    assert armk.content.index("Arrête :") < armk.content.index("Article 2\n") < armk.content.index("Article 3\n")
    assert "Neurochirurgie | 2" in armk.content
    decree = env.doc(DECREE)
    assert decree.extra["number"] == "2013-776" and decree.extra["legal_id"] == "decret:2013-776"
    assert decree.published.date() == date(2013, 8, 29) and "MOSELLE" in decree.extra["keywords"]


def test_structured_links_join_the_citations_once(dila, jorf_files):
    env = dila()
    env.publish("JORF_20260920-013012.tar.gz", first_delivery(jorf_files))
    env.crawl()
    jusb = env.doc(JUSB)
    keys = [c.key for c in citations.cites(env.catalog, jusb)]
    assert keys.count("loi:2025-391") == 1 and keys.count("decret:2025-734") == 1
    assert "article:16:loi:2025-391" in keys and "article:14:decret:2025-734" in keys
    assert "article:L211-15:code-organisation-judiciaire" in keys
    # the same texts are not cited again under their other names
    for alias in ("jorftext:JORFTEXT000051538879", "jorftext:JORFTEXT000052018801", "article:L211-15",
                  "legitext:LEGITEXT000006071164", "nor:ECOM2415026L"):
        assert alias not in keys
    assert len(keys) == len(set(keys))
    # an arrêté cited by date only is linked by its id: not confused with others of that day
    armk_keys = [c.key for c in citations.cites(env.catalog, env.doc(ARMK))]
    assert "jorftext:JORFTEXT000054310327" in armk_keys and "arrete:2026-06-24" not in armk_keys
    # the 2013 decree applies the laws of 1 June 1924 (APPLICATION links) and cites a decree
    decree_keys = [c.key for c in citations.cites(env.catalog, env.doc(DECREE))]
    assert "jorftext:JORFTEXT000000869866" in decree_keys and "decret:2013-395" in decree_keys


def test_redelivery_updates_removal_removes_and_nothing_is_read_twice(dila, jorf_files):
    env = dila()
    env.publish("JORF_20260920-013012.tar.gz", first_delivery(jorf_files))
    assert env.crawl().new == 4
    assert "Christiane Taubira" not in env.doc(DECREE).content
    # nothing new: the listing is read, no archive again
    again = env.crawl()
    assert (again.new, again.updated, again.unchanged) == (0, 0, 0) and again.ok
    assert len(env.server.hits(LISTING_PATH + "JORF_20260920-013012.tar.gz")) == 1
    # the DILA delivers the decree again, corrected: the same document, updated
    env.publish("JORF_20260921-001530.tar.gz", archive("20260921-001530", [(DECREE, jorf_files[DECREE])]))
    report = env.crawl()
    assert (report.new, report.updated) == (0, 1), report.line()
    assert env.catalog.documents.count() == 4 and "Christiane Taubira" in env.doc(DECREE).content
    assert env.catalog.cursors.get("jo-dila").position == "JORF_20260921-001530.tar.gz"
    # a removal list withdraws a text
    env.publish("JORF_20260922-001530.tar.gz", archive("20260922-001530", [], removed=[ECOT]))
    assert env.crawl().ok
    assert env.doc(ECOT) is None and env.catalog.documents.count() == 3
    assert all(len(env.server.hits(LISTING_PATH + name)) == 1 for name in env.archives)


@pytest.mark.parametrize("broken, message", [
    (b"ceci n'est pas une archive", "pas un fichier tar.gz"),
    ("truncated", "tronquée"),
])
def test_a_broken_archive_is_reported_skipped_and_loses_nothing(dila, jorf_files, broken, message):
    env = dila()
    env.publish("JORF_20260920-013012.tar.gz", first_delivery(jorf_files))
    env.crawl()
    if broken == "truncated":
        whole = gzip.decompress(archive("20260921-001530", [(DECREE, jorf_files[DECREE])] * 3))
        broken = gzip.compress(whole[: len(whole) // 2])
    env.publish("JORF_20260921-001530.tar.gz", broken)
    env.publish("JORF_20260922-001530.tar.gz", archive("20260922-001530", [], removed=[ARMK]))
    report = env.crawl()
    assert report.ok
    assert any("JORF_20260921-001530.tar.gz ignorée" in w and message in w for w in report.warnings), report.warnings
    assert env.catalog.documents.count() == 3 and env.doc(ECOT) is not None   # the next archive was read
    assert "Christiane Taubira" not in env.doc(DECREE).content                # nothing of the broken one
    assert env.catalog.cursors.get("jo-dila").position == "JORF_20260922-001530.tar.gz"


def test_a_billion_laughs_file_is_skipped_and_the_rest_of_its_archive_read(dila, jorf_files):
    env = dila()
    records = [("JORFTEXT000099999999", BILLION_LAUGHS), (ECOT, jorf_files[ECOT])]
    env.publish("JORF_20260920-013012.tar.gz", archive("20260920-013012", records))
    report = env.crawl()
    assert report.ok and report.new == 1
    assert any("JORFTEXT000099999999" in w and "entités" in w for w in report.warnings), report.warnings
    assert env.doc(ECOT) is not None


def test_filters_the_centre_sets(dila, jorf_files):
    env = dila("natures: [décret]\nministries: [justice]")
    env.publish("JORF_20260920-013012.tar.gz", first_delivery(jorf_files))
    env.crawl()
    assert [d.extra["nor"] for d in env.catalog.documents.iter_all()] == ["JUSX1319588D"]


@pytest.mark.parametrize("options, kept", [
    ("keywords: [alsace-moselle]", {"JUSX1319588D"}),                      # a JO keyword (MCS_TXT)
    ("keywords: [Fibre Excellence]", {"ECOT2624231A"}),
    ('query: \'"actions de groupe" -directive\'', set()),
    ('query: \'"actions de groupe" OR title:praticiens\'', {"JUSB2615968A", "ARMK2624825A"}),
    ("query: Suivi des actions de groupe", {"JUSB2615968A"}),               # the name of an alert
    ("ministries: [armées]", {"ARMK2624825A"}),
])
def test_keywords_ministries_and_saved_queries(tmp_path, httpserver, jorf_files, options, kept):
    env = Dila(tmp_path, httpserver, options)
    with (tmp_path / "sources.yaml").open("a", encoding="utf-8") as out:
        out.write('alerts:\n  - {name: "Suivi des actions de groupe", query: \'"actions de groupe"\'}\n')
    env.config = load_config(tmp_path / "sources.yaml")
    try:
        env.publish("JORF_20260920-013012.tar.gz", first_delivery(jorf_files))
        assert env.crawl().ok
        assert {d.extra["nor"] for d in env.catalog.documents.iter_all()} == kept
    finally:
        env.close()


def test_url_defaults_to_the_dila_directory(write_config):
    config = load_config(write_config("""
        sources:
          - {name: jo, kind: dila-jorf, since: 2026-09-01}
        """))
    assert config.source("jo").url == "https://echanges.dila.gouv.fr/OPENDATA/JORF/"
    assert config.source("jo").options["since"] == "2026-09-01"


def test_fibre_excellence_found_with_its_date_on_every_surface(dila, jorf_files):
    from web import create_app

    env = dila()
    env.publish("JORF_20260920-013012.tar.gz", first_delivery(jorf_files))
    env.crawl()
    space = DocumentSpace(env.config)
    space.index_pending()
    space.close()
    client = create_app(env.config, {"TESTING": True}).test_client()
    doc_id = document_id(url_of(ECOT))
    api = client.get("/api/search?q=Fibre+Excellence+Saint-Gaudens").get_json()
    assert [(h["id"], h["published"]) for h in api["results"]] == [(doc_id, "2026-09-20")]
    page = client.get("/search?q=Fibre+Excellence+Saint-Gaudens").get_data(as_text=True)
    assert doc_id in page and "20 septembre 2026" in page and "19 septembre 2026" not in page
    shown = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "ECOT2624231A" in shown and "20 septembre 2026" in shown and "19 septembre 2026" not in shown
    assert "JORF n°0220 du 20 septembre 2026" in shown and "18 septembre 2026</time>" in shown   # signed
    assert 'href="https://www.legifrance.gouv.fr/eli/arrete/2026/9/18/ECOT2624231A/jo/texte"' in shown
    assert f'href="{url_of(ECOT)}"' in shown
    assert client.get(f"/api/documents/{doc_id}").get_json()["published"].startswith("2026-09-20")
    feed = client.get("/search.atom?q=Fibre+Excellence+Saint-Gaudens").get_data(as_text=True)
    assert "<published>2026-09-20T12:00:00-04:00</published>" in feed


def test_an_archive_over_the_size_limit_is_skipped(dila, jorf_files):
    env = dila("max_archive_mb: 1")
    env.publish("JORF_20260920-013012.tar.gz", b"\0" * (1024 * 1024 + 1))
    env.publish("JORF_20260921-001530.tar.gz", archive("20260921-001530", [(ECOT, jorf_files[ECOT])]))
    report = env.crawl()
    assert report.ok and report.new == 1
    assert any("JORF_20260920-013012.tar.gz ignorée" in w and "taille maximale" in w for w in report.warnings)
