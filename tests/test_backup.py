"""`veille backup` / `veille restore`: one archive of the data directory, restored and searched."""

from __future__ import annotations

import io
import json
import stat
import tarfile
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from veille.storage.catalog import Catalog
from indexer.search.request import SearchRequest
from veille.core.records import Document, document_id
from indexer.search.space import DocumentSpace
from veille.ops.backup import BackupError, backup, restore
from veille.core.config import load_config
from veille.core.secret_key import load_secret_key
from veille.storage.users import hash_password

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


def make_doc(i: int, word: str = "rénovation") -> Document:
    url = f"https://example.org/doc-{i}"
    return Document(id=document_id(url), title=f"Document {i} sur la {word} urbaine", source="test",
                    kind="actualité", first_seen=NOW, url=url, content=f"Texte {i} : {word} des quartiers.",
                    extra={})


@pytest.fixture
def configs(tmp_path, monkeypatch):
    """Two configurations: the live one and a fresh machine's, each with its own data dir."""
    monkeypatch.delenv("VEILLE_SECRET_KEY", raising=False)
    live = tmp_path / "live"
    fresh = tmp_path / "fresh"
    for root in (live, fresh):
        root.mkdir()
        (root / "sources.yaml").write_text("data_dir: data\n", encoding="utf-8")
    return load_config(live / "sources.yaml"), load_config(fresh / "sources.yaml")


def populate(config, count: int = 5) -> None:
    catalog = Catalog.open(config.layout)
    for i in range(count):
        catalog.documents.put(make_doc(i))
    catalog.alerts.save("Rénovation", "rénovation", {}, ["doc@example.org"])
    catalog.users.add("equipe@example.org", hash_password("un mot de passe assez long"))
    catalog.close()
    space = DocumentSpace(config)
    space.index_pending()
    space.close()
    load_secret_key(config.layout.secret_key)
    stored = config.data_dir / "files" / "ab"
    stored.mkdir(parents=True)
    (stored / "guide.pdf").write_bytes(b"%PDF-1.4 stored copy")


def search_ids(config, q: str) -> set[str]:
    space = DocumentSpace(config)
    try:
        results = space.search(SearchRequest(q=q, per_page=100_000, facets=False))
        assert results.total == len(results.hits)
        return {hit.id for hit in results.hits}
    finally:
        space.close()


def test_backup_then_restore_into_a_fresh_directory_and_search(configs, tmp_path):
    live, fresh = configs
    populate(live)
    report = backup(live, tmp_path / "b.tar.gz")
    assert report.files >= 4 and report.databases == 1
    assert stat.S_IMODE((tmp_path / "b.tar.gz").stat().st_mode) == 0o600

    restore(fresh, tmp_path / "b.tar.gz")
    expected = {make_doc(i).id for i in range(5)}
    assert search_ids(fresh, "renovation") == expected          # accents folded, index works
    catalog = Catalog.open(fresh.layout)
    assert catalog.documents.count() == 5 and catalog.queue.pending_count() == 0
    assert [a.name for a in catalog.alerts.all()] == ["Rénovation"]
    assert catalog.users.get("equipe@example.org") is not None
    secret = fresh.data_dir / "secret_key"
    assert secret.read_text() == (live.data_dir / "secret_key").read_text()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.layout.catalog.stat().st_mode) == 0o600   # password hashes
    assert (fresh.data_dir / "files" / "ab" / "guide.pdf").read_bytes() == b"%PDF-1.4 stored copy"
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        assert not [name for name in tar.getnames() if name.endswith(("-wal", "-shm"))]


def test_restore_refuses_a_non_empty_directory_unless_forced(configs, tmp_path):
    live, fresh = configs
    populate(live)
    backup(live, tmp_path / "b.tar.gz")
    Catalog.open(live.layout).documents.put(make_doc(99))   # changed since the backup
    with pytest.raises(BackupError, match="n'est pas vide"):
        restore(live, tmp_path / "b.tar.gz")
    report = restore(live, tmp_path / "b.tar.gz", force=True)
    assert report.set_aside is not None and (report.set_aside / "catalog.sqlite3").exists()
    assert Catalog.open(live.layout).documents.get(make_doc(99).id) is None


def _tar_with(tmp_path: Path, name: str, entries: list[tarfile.TarInfo], manifest: dict | None = None) -> Path:
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        if manifest is not None:
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo("MANIFEST.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in entries:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


@pytest.mark.parametrize("entry", ["../evil", "/etc/evil", "data/../../evil", "data/link"])
def test_restore_refuses_archives_that_write_outside(configs, tmp_path, entry):
    _, fresh = configs
    info = tarfile.TarInfo(entry)
    if entry == "data/link":
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    else:
        info.size = 1
    archive = _tar_with(tmp_path, "evil.tar.gz", [info], {"format": "veille-backup/1", "files": {}})
    with pytest.raises(BackupError, match="chemin dangereux|liens et périphériques|entrée inattendue"):
        restore(fresh, archive)
    assert not (tmp_path / "evil").exists() and not fresh.data_dir.exists()


def test_restore_refuses_a_damaged_archive_and_keeps_the_data(configs, tmp_path):
    live, fresh = configs
    populate(live)
    backup(live, tmp_path / "b.tar.gz")
    # rewrite the archive with one byte of the catalog flipped
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(tmp_path / "b.tar.gz") as src, tarfile.open(damaged, "w:gz") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name == "data/catalog.sqlite3":
                data = data[:200] + bytes([data[200] ^ 0xFF]) + data[201:]
            out.addfile(member, io.BytesIO(data) if data is not None else None)
    populate(fresh, count=2)
    with pytest.raises(BackupError, match="somme de contrôle"):
        restore(fresh, damaged, force=True)
    assert Catalog.open(fresh.layout).documents.count() == 2      # untouched
    assert not list(fresh.data_dir.parent.glob(".data.restore-*"))
    with pytest.raises(BackupError, match="pas de MANIFEST.json valable"):
        restore(fresh, _tar_with(tmp_path, "plain.tar.gz", []), force=True)
    (tmp_path / "garbage.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(BackupError, match="impossible de lire l'archive"):
        restore(fresh, tmp_path / "garbage.tar.gz", force=True)


def test_backup_refuses_to_write_inside_the_data_directory(configs):
    live, _ = configs
    populate(live)
    with pytest.raises(BackupError, match="est dans le dossier de données"):
        backup(live, live.data_dir / "b.tar.gz")


@pytest.mark.slow
def test_backup_while_documents_are_added_and_indexed_stays_consistent(configs, tmp_path):
    """Every document the restored catalog calls indexed is found by the restored index."""
    live, fresh = configs
    populate(live, count=3)
    stop = threading.Event()
    errors = []

    def writer():
        space = DocumentSpace(live)
        try:
            i = 100
            while not stop.is_set():
                for _ in range(5):
                    space.catalog.documents.put(make_doc(i))
                    i += 1
                space.index_pending()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            space.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for n in range(3):
            backup(live, tmp_path / f"b{n}.tar.gz")
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert Catalog.open(live.layout).documents.count() > 8   # the writer did run alongside
    for n in range(3):
        target = load_config(fresh.path)
        restore(target, tmp_path / f"b{n}.tar.gz", force=True)
        catalog = Catalog.open(target.layout)
        indexed = {d.id for d in catalog.documents.iter_all()} - {d.id for d in catalog.queue.pending(limit=10_000)}
        catalog.close()
        assert indexed <= search_ids(target, "renovation")


def test_cli_backup_and_restore(run_cli, configs, tmp_path):
    live, fresh = configs
    populate(live)
    made = run_cli("--config", str(live.path), "backup", str(tmp_path / "cli.tar.gz"))
    assert made.returncode == 0, made.stderr
    assert "sauvegarde écrite dans" in made.stdout
    restored = run_cli("--config", str(fresh.path), "restore", str(tmp_path / "cli.tar.gz"))
    assert restored.returncode == 0, restored.stderr
    assert "5 document(s) dans le catalogue" in restored.stdout
    # a fresh machine without the live key cannot authenticate the archive, and says so
    assert "sauvegarde non authentifiée" in restored.stderr and "VEILLE_SECRET_KEY" in restored.stderr
    found = run_cli("--config", str(fresh.path), "search", "rénovation", "--json")
    assert json.loads(found.stdout)["total"] == 5
    again = run_cli("--config", str(fresh.path), "restore", str(tmp_path / "cli.tar.gz"))
    assert again.returncode == 1 and "n'est pas vide" in again.stderr and "--force" in again.stderr


# ---------------------------------------------------------------- authentication


class _Payload:
    """Unpickling this creates the marker file: the code a crafted archive would run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _rewrite(archive: Path, out: Path, change) -> None:
    """Copy `archive` with `change(name, data) -> data` applied, recomputing the manifest's
    sums as an attacker would (they come from the archive itself); the signature is kept."""
    import hashlib

    with tarfile.open(archive) as src:
        members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
    changed = [(m, change(m.name, data) if data is not None else None) for m, data in members]
    manifest = json.loads(dict((m.name, d) for m, d in changed)["MANIFEST.json"])
    for member, data in changed:
        if member.name.startswith("data/") and data is not None:
            manifest["files"][member.name[len("data/"):]] = {
                "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    with tarfile.open(out, "w:gz") as tar:
        for member, data in changed:
            if member.name == "MANIFEST.json":
                data = json.dumps(manifest).encode()
            if data is not None:
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if data is not None else None)


def _whoosh_configs(configs):
    live, fresh = configs
    for config in (live, fresh):
        config.path.write_text("data_dir: data\nsearch: {engine: whoosh}\n", encoding="utf-8")
    return load_config(live.path), load_config(fresh.path)


def test_a_crafted_index_in_an_unsigned_archive_is_never_opened(configs, tmp_path):
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    live, fresh = _whoosh_configs(configs)
    populate(live)
    backup(live, tmp_path / "b.tar.gz")
    marker = tmp_path / "payload-ran"
    # the attacker's index: Whoosh's table of contents is a pickle
    index_dir = live.layout.search / (live.layout.search_current.read_text().strip())
    storage = FileStorage(str(index_dir))
    toc = TOC.read(storage, "MAIN")
    for old in index_dir.glob("_MAIN_*.toc"):
        old.unlink()
    TOC(toc.schema, [_Payload(marker)], toc.generation).write(storage, "MAIN")
    crafted = {f"data/{p.relative_to(live.data_dir).as_posix()}": p.read_bytes()
               for p in index_dir.glob("*.toc")}
    _rewrite(tmp_path / "b.tar.gz", tmp_path / "crafted.tar.gz",
             lambda name, data: crafted.get(name, data))
    # the live instance's own key does not sign the altered manifest
    report = restore(live, tmp_path / "crafted.tar.gz", force=True)
    assert not marker.exists()
    assert not report.authenticated and report.rebuilt
    assert search_ids(live, "renovation") == {make_doc(i).id for i in range(5)}
    assert not marker.exists()
    # an untouched archive restored by the instance that made it is trusted as it is
    (live.layout.search / live.layout.search_current.read_text().strip() / "trusted").write_text("")
    report = restore(live, tmp_path / "b.tar.gz", force=True)
    assert report.authenticated and not report.rebuilt


def test_an_unsigned_archive_loses_its_job_store_and_a_catalog_with_triggers_is_refused(
        configs, tmp_path, monkeypatch):
    import sqlite3

    live, fresh = configs
    populate(live)
    live.layout.old_jobstore.write_bytes(b"")
    db = sqlite3.connect(live.layout.old_jobstore)
    db.execute("CREATE TABLE apscheduler_jobs (id TEXT, job_state BLOB)")
    db.commit()
    db.close()
    backup(live, tmp_path / "b.tar.gz")
    # another machine, without this instance's key: restored, but nothing executable kept
    report = restore(fresh, tmp_path / "b.tar.gz")
    assert not report.authenticated and report.rebuilt
    assert not fresh.layout.old_jobstore.exists()
    assert search_ids(fresh, "renovation") == {make_doc(i).id for i in range(5)}
    # with the key given in the environment, the same archive is authenticated
    other = tmp_path / "other"
    other.mkdir()
    (other / "sources.yaml").write_text("data_dir: data\n", encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setenv("VEILLE_SECRET_KEY", (live.data_dir / "secret_key").read_text().strip())
        report = restore(load_config(other / "sources.yaml"), tmp_path / "b.tar.gz")
    assert report.authenticated and (other / "data" / "scheduler.sqlite3").exists()

    def add_trigger(name, data):
        if name != "data/catalog.sqlite3":
            return data
        path = tmp_path / "catalog-copy.sqlite3"
        path.write_bytes(data)
        db = sqlite3.connect(path)
        db.execute("CREATE TRIGGER t AFTER INSERT ON documents BEGIN DELETE FROM staff_users; END")
        db.commit()
        db.close()
        return path.read_bytes()

    _rewrite(tmp_path / "b.tar.gz", tmp_path / "trigger.tar.gz", add_trigger)
    with pytest.raises(BackupError, match="non authentifiée et catalogue suspect"):
        restore(fresh, tmp_path / "trigger.tar.gz", force=True)
    assert Catalog.open(fresh.layout).documents.count() == 5     # the data in place is kept
