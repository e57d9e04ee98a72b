"""Versioned migrations against a real catalog of the previous release
(`fixtures/catalog-v0.sqlite3`, made by `fixtures/make_catalog_v0.py`): nothing lost, each
step once, and a catalog from a newer Veille refused."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType

import pytest

from veille.core.records import Document, document_id
from veille.storage.catalog import Catalog
from veille.storage.db import Database
from veille.storage.digests import DigestItem
from veille.storage.library_files import LibraryFile
from veille.storage.migrations import CURRENT_VERSION, MIGRATIONS, CatalogTooNew, migrate
from veille.storage.snapshots import PageSnapshot
from veille.storage.subscribers import TOPIC_LETTRE
from veille.storage.users import verify_password

FIXTURE = Path(__file__).parent / "fixtures" / "catalog-v0.sqlite3"
# Tables the steps after the first release add, empty in a migrated catalog.
LETTRE_TABLES = ("lettres", "lettre_triage", "lettre_items", "lettre_recipients", "lettre_attempts",
                 "subscribers", "consents")   # step 5: the lettre de veille and its subscribers
LATER_TABLES = {"document_edits": [], "scheduled_jobs": [], "source_cursors": [], "staff_sessions": [],
                "crawl_requests": [], "immediate_periods": [],
                **{t: [] for t in LETTRE_TABLES}}   # made by later steps, empty
STAFF_EMAIL = "equipe@example.org"
STAFF_PASSWORD = "mot de passe de la version zéro"
T0 = datetime(2025, 3, 10, 9, 30, tzinfo=timezone.utc)


def at(day: int, hour: int = 9) -> datetime:
    return T0.replace(day=day, hour=hour)


LOI = Document(
    id=document_id("https://www.legifrance.gouv.fr/loi/2014-173"), source="legifrance",
    title="LOI n° 2014-173 du 21 février 2014 de programmation pour la ville", kind="juridique",
    first_seen=at(1), url="https://www.legifrance.gouv.fr/loi/2014-173",
    published=datetime(2014, 2, 21, tzinfo=timezone.utc), content="La politique de la ville.",
    content_hash="a" * 64, doc_type="loi", themes=("politique de la ville",),
    extra=MappingProxyType({"legal_ids": ["loi:2014-173", "jorf:JORFTEXT000028636804"]}))
NEWS = Document(
    id=document_id("https://www.vie-publique.fr/renovation"), source="vie-publique",
    title="Rénovation urbaine : le nouveau programme (mis à jour)", kind="actualité", first_seen=at(2),
    url="https://www.vie-publique.fr/renovation", summary="Le programme des quartiers.",
    content="Voir la loi n° 2014-173 du 21 février 2014.", published=at(2, 8), updated=at(3),
    content_hash="b" * 64, themes=("habitat et renouvellement urbain", "cohésion sociale"),
    territories=("Fort-de-France",), authors=("Vie publique",),
    extra=MappingProxyType({"legal_refs": ["loi:2014-173", "article:L300-1:code-urbanisme"], "feed": "rss"}))
GUIDE = Document(
    id=document_id("library:Bibliothèque/guides/guide.pdf"), source="Bibliothèque",
    title="Guide des conseils citoyens", kind="bibliothèque", first_seen=at(3),
    path="guides/guide.pdf", content="Page un.\fPage deux.", content_hash="c" * 64,
    stored_file="cc/guide.pdf", page_count=2, doc_type="guide", authors=("ANCT", "CGET"))
EMPTY = Document(
    id=document_id("https://anct.example/scan.pdf"), source="anct", title="Plan scanné",
    kind="publication", first_seen=at(4), url="https://anct.example/scan.pdf",
    status="empty", status_reason="le PDF ne contient que des images")
GONE_ID = document_id("https://anct.example/retire")
# the tables migration steps after the first add to a catalog of the previous release, empty


@pytest.fixture
def old_catalog(tmp_path) -> Path:
    """A copy of the previous release's catalog, where the data directory keeps it."""
    path = tmp_path / "data" / "catalog.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    return path


def raw(path: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, as SQLite holds it."""
    tables = [name for (name,) in raw(path, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                           " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {table: sorted(raw(path, f"SELECT * FROM {table}"), key=repr) for table in tables}


def test_the_fixture_is_a_catalog_of_the_previous_release():
    db = sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in tables - {"sqlite_sequence"}:
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] > 0, table
    finally:
        db.close()
    assert FIXTURE.stat().st_size < 64 * 1024


def test_previous_release_catalog_is_migrated_with_nothing_lost(old_catalog):
    before = dump(old_catalog)
    catalog = Catalog(old_catalog)
    assert raw(old_catalog, "PRAGMA user_version") == [(CURRENT_VERSION,)]
    after = dump(old_catalog)
    for table, rows in before.items():          # every row of every table, untouched; the
        width = len(rows[0]) if rows else 0     # columns later steps add come after, at
        assert [row[:width] for row in after[table]] == rows, table   # their defaults
    assert {row[-1] for row in raw(old_catalog, "SELECT * FROM documents")} == {"public"}
    assert {t: after[t] for t in LATER_TABLES} == LATER_TABLES
    # alerts were all weekly, and every digest the weekly one, with no source
    assert raw(old_catalog, "SELECT DISTINCT frequency FROM alerts") == [("weekly",)]
    assert raw(old_catalog, "SELECT DISTINCT kind, source FROM digests") == [("weekly", None)]

    assert catalog.documents.count() == 4
    assert catalog.documents.get_many([LOI.id, NEWS.id, GUIDE.id, EMPTY.id]) == {
        d.id: d for d in (LOI, NEWS, GUIDE, EMPTY)}
    assert catalog.documents.get(GONE_ID) is None
    assert catalog.documents.find_by_url(NEWS.url) == NEWS

    assert {d.id for d in catalog.queue.pending()} == {NEWS.id, EMPTY.id}
    assert catalog.queue.revisions() == {LOI.id: 1, GUIDE.id: 1, EMPTY.id: 1, NEWS.id: 2}
    assert catalog.queue.deletions() == [GONE_ID]

    assert catalog.legal_keys.documents(["loi:2014-173"], "self") == {"loi:2014-173": [LOI.id]}
    assert catalog.legal_keys.documents(["loi:2014-173"], "cites") == {"loi:2014-173": [NEWS.id]}
    assert catalog.legal_keys.documents_like(["article:%:code-urbanisme"], "cites") == [NEWS.id]

    anct, vie = catalog.runs.recent()
    assert (anct.source, anct.http_status, anct.error, anct.warning, anct.finished) == (
        "anct", 503, "le serveur ne répond pas (503)", "2 éléments ignorés", at(6, 8))
    assert (vie.source, vie.new, vie.updated, vie.unchanged, vie.started) == ("vie-publique", 1, 1, 3, at(5, 7))
    assert set(catalog.runs.last_per_source()) == {"anct", "vie-publique"}
    assert catalog.runs.last_successful_crawl() == at(5, 8)

    assert catalog.source_state.get("vie-publique").last_success == at(5, 8)
    failing = catalog.source_state.get("anct")
    assert (failing.consecutive_failures, failing.last_error_code, failing.backoff_until) == (1, "http_5xx", at(7))

    assert catalog.snapshots.get("prefecture") == PageSnapshot(
        source="prefecture", url="https://www.martinique.gouv.fr/Actualites", content_hash="d" * 64,
        text="Appel à projets clos.", seen=at(5))
    assert catalog.validators.get("https://www.vie-publique.fr/rss.xml") == (
        '"etag-1"', "Mon, 10 Mar 2025 09:00:00 GMT")
    assert catalog.validators.get("https://anct.example/rss.xml") == (None, "Tue, 11 Mar 2025 09:00:00 GMT")

    assert catalog.library_files.library_names() == ["Archives", "Bibliothèque"]
    assert catalog.library_files.of_library("Bibliothèque") == {"guides/guide.pdf": LibraryFile(
        library="Bibliothèque", path="guides/guide.pdf", size=2048, mtime_ns=1_741_600_000_000_000_000,
        sha256="c" * 64, doc_id=GUIDE.id)}

    [alert] = catalog.alerts.all()
    assert (alert.name, alert.query, dict(alert.filters), alert.recipients) == (
        "Rénovation", "rénovation urbaine", {"themes": ("habitat et renouvellement urbain",)},
        ("doc@example.org", "élu@example.org"))

    digest = catalog.digests.get("digest-0001")
    assert (digest.status, digest.attempts, digest.sent, digest.documents) == ("sent", 1, at(10, 10), 1)
    assert digest.raw == b"Subject: Veille\r\n\r\n\xc3\xa9t\xc3\xa9\x00\xff"
    assert digest.html == "<p>Rénovation</p>"
    assert catalog.digests.items_of("digest-0001") == [DigestItem(
        alert="web:1", doc_id=NEWS.id, title="Rénovation urbaine : le nouveau programme",
        link="https://veille.example.org/d/x", date=at(2, 8), summary="Le programme des quartiers.")]
    assert catalog.digests.period_end("doc@example.org") == at(10)
    assert [i.doc_id for i in catalog.digests.feed_items("web:1")] == [NEWS.id]

    assert catalog.unsubscriptions.all() == {("élu@example.org", "web:1")}
    [(secret,)] = raw(old_catalog, "SELECT value FROM secrets WHERE name = 'unsubscribe'")
    assert catalog.secrets.get("unsubscribe") == secret   # old unsubscribe links stay valid

    user = catalog.users.get(STAFF_EMAIL)
    assert user.last_login == at(11)
    assert verify_password(user.password_hash, STAFF_PASSWORD)
    assert catalog.users.authenticate(STAFF_EMAIL, STAFF_PASSWORD) == user
    catalog.close()


def test_migrated_catalog_takes_new_writes(old_catalog):
    catalog = Catalog(old_catalog)
    assert catalog.documents.put(NEWS) == "unchanged"
    assert catalog.documents.put(replace(NEWS, title="Encore modifié")) == "updated"
    assert catalog.queue.revisions()[NEWS.id] == 3
    assert catalog.documents.put(Document(id=GONE_ID, title="Revenu", source="anct", kind="actualité",
                                          first_seen=at(12))) == "new"
    assert catalog.queue.deletions() == []
    catalog.close()


def test_catalog_from_before_revisions_gets_the_column(old_catalog):
    db = sqlite3.connect(old_catalog)
    db.execute("ALTER TABLE documents DROP COLUMN revision")
    db.commit()
    db.close()
    catalog = Catalog(old_catalog)
    assert raw(old_catalog, "PRAGMA user_version") == [(CURRENT_VERSION,)]
    assert catalog.queue.revisions() == {LOI.id: 0, GUIDE.id: 0, EMPTY.id: 0, NEWS.id: 0}
    assert catalog.documents.get(NEWS.id) == NEWS
    assert catalog.documents.put(replace(NEWS, title="Modifié")) == "updated"
    assert catalog.queue.revisions()[NEWS.id] == 1
    catalog.close()


def test_catalog_missing_later_tables_gets_them(old_catalog):
    db = sqlite3.connect(old_catalog)
    db.executescript("DROP TABLE staff_users; DROP TABLE secrets;")
    db.close()
    before = dump(old_catalog)
    catalog = Catalog(old_catalog)
    after = dump(old_catalog)
    widened = {"documents": 1, "alerts": 1, "digests": 2}   # columns later steps add, at the end
    assert {t: r for t, r in after.items() if t not in widened} == {
        **{t: r for t, r in before.items() if t not in widened}, "staff_users": [], "secrets": [],
        **LATER_TABLES}
    for table, added in widened.items():
        assert [row[:-added] for row in after[table]] == before[table], table
    assert catalog.users.all() == []
    assert catalog.users.add(STAFF_EMAIL, "hash")
    catalog.close()


def test_migrating_twice_is_a_no_op(old_catalog):
    Catalog(old_catalog).close()
    before = dump(old_catalog)
    database = Database(old_catalog)
    statements: list[str] = []
    database.connection().set_trace_callback(statements.append)
    assert migrate(database) == CURRENT_VERSION
    assert statements == ["PRAGMA user_version"]      # read, nothing written
    database.close()
    Catalog(old_catalog).close()
    assert dump(old_catalog) == before
    assert raw(old_catalog, "PRAGMA user_version") == [(CURRENT_VERSION,)]


def test_new_catalog_starts_at_the_current_version(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    assert raw(tmp_path / "catalog.sqlite3", "PRAGMA user_version") == [(CURRENT_VERSION,)]
    assert set(dump(tmp_path / "catalog.sqlite3")) == set(dump(FIXTURE)) | set(LATER_TABLES)
    catalog.close()


def test_a_version_1_catalog_gets_the_source_cursors(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE source_cursors; PRAGMA user_version = 1;")
    db.close()
    catalog = Catalog(path)
    assert raw(path, "PRAGMA user_version") == [(CURRENT_VERSION,)]
    assert catalog.cursors.get("jo") is None
    catalog.cursors.set("jo", "JORF_20260920-013012.tar.gz", T0)
    catalog.cursors.set("jo", "JORF_20260921-001530.tar.gz", at(11))
    assert catalog.cursors.get("jo").position == "JORF_20260921-001530.tar.gz"
    assert catalog.cursors.get("jo").updated == at(11)
    catalog.close()


def test_a_catalog_at_version_1_gets_the_scheduler_table(old_catalog):
    database = Database(old_catalog)
    migrate(database)
    database.connection().execute("DROP TABLE scheduled_jobs")
    database.connection().execute("PRAGMA user_version = 1")
    before = dump(old_catalog)
    assert migrate(database) == 1
    database.close()
    assert raw(old_catalog, "PRAGMA user_version") == [(CURRENT_VERSION,)]
    assert dump(old_catalog) == {**before, "scheduled_jobs": []}
    catalog = Catalog(old_catalog)
    assert catalog.schedule.all() == {}
    catalog.close()


def test_a_catalog_at_version_4_gets_the_lettre_tables(old_catalog):
    database = Database(old_catalog)
    migrate(database)
    database.connection().executescript(
        "".join(f"DROP TABLE {t};" for t in (*LETTRE_TABLES, "staff_sessions")) + "PRAGMA user_version = 4;")
    before = dump(old_catalog)
    assert migrate(database) == 4
    database.close()
    assert raw(old_catalog, "PRAGMA user_version") == [(CURRENT_VERSION,)]
    assert dump(old_catalog) == {**before, **{t: [] for t in LETTRE_TABLES}, "staff_sessions": []}
    catalog = Catalog(old_catalog)
    assert catalog.lettres.last_frozen() is None
    assert catalog.subscribers.confirmed(TOPIC_LETTRE) == []
    catalog.close()


def test_a_catalog_at_version_5_gets_the_staff_sessions(old_catalog):
    database = Database(old_catalog)
    migrate(database)
    database.connection().execute("DROP TABLE staff_sessions")
    database.connection().execute("PRAGMA user_version = 5")
    before = dump(old_catalog)
    assert migrate(database) == 5
    database.close()
    assert raw(old_catalog, "PRAGMA user_version") == [(CURRENT_VERSION,)]
    assert dump(old_catalog) == {**before, "staff_sessions": []}


def test_steps_are_in_increasing_order():
    versions = [step.version for step in MIGRATIONS]
    assert versions == sorted(set(versions)) and versions[0] == 1


def test_catalog_of_a_newer_veille_is_refused(old_catalog):
    db = sqlite3.connect(old_catalog)
    db.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    db.execute("DROP TABLE staff_users")    # what a newer release might have done
    db.commit()
    db.close()
    before = dump(old_catalog)
    with pytest.raises(CatalogTooNew) as refused:
        Catalog(old_catalog)
    message = str(refused.value)
    assert "version plus récente de Veille" in message and f"schéma {CURRENT_VERSION + 1}" in message
    assert "mettez Veille à jour" in message
    assert dump(old_catalog) == before            # left as it was: no table added back
    assert raw(old_catalog, "PRAGMA user_version") == [(CURRENT_VERSION + 1,)]


def test_cli_reports_a_newer_catalog_in_one_line(old_catalog, write_config, run_cli):
    db = sqlite3.connect(old_catalog)
    db.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    db.commit()
    db.close()
    config = write_config("data_dir: data\n")
    result = run_cli("--config", str(config), "user", "list")
    assert result.returncode != 0
    assert "version plus récente de Veille" in result.stderr
    assert "Traceback" not in result.stderr
