"""A read-only data directory and a full disk: reported in one clear line, index intact.

The data directory lives on a small tmpfs mounted for the test (needs root and permission
to mount; skipped otherwise), so "read-only" and "no space left" are the real thing, as
the kernel reports them, not a simulation in our own code.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from veille.storage.catalog import Catalog
from indexer.search.request import SearchRequest
from veille.core.records import Document, document_id
from indexer.search.space import DocumentSpace
from veille.core.config import load_config
from web import create_app

pytestmark = pytest.mark.slow

WORD = "renouvellement"


def _mount(target: Path, *options: str) -> bool:
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(target)],
                            capture_output=True, text=True)
    return result.returncode == 0


@pytest.fixture
def tmpfs(tmp_path):
    """mount(size) -> a fresh tmpfs of that size under tmp_path; unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        target = tmp_path / f"fs{len(mounted)}"
        target.mkdir()
        if not _mount(target, f"size={size}", "mode=0755"):
            pytest.skip("this machine does not allow mounting a tmpfs")
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def remount(target: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(target)], check=True, capture_output=True)


def add_documents(config, start: int, count: int, size: int = 200) -> None:
    catalog = Catalog.open(config.layout)
    now = datetime(2025, 3, 10, tzinfo=timezone.utc)
    with catalog.transaction():
        for i in range(start, start + count):
            url = f"https://example.org/{i}"
            catalog.documents.put(Document(id=document_id(url), title=f"Document {i} {WORD}", source="test",
                                 kind="actualité", first_seen=now, url=url,
                                 content=f"{WORD} {i} " + "x" * size, extra={}))
    catalog.close()


def found(config) -> int:
    space = DocumentSpace(config)
    try:
        return space.search(SearchRequest(q=WORD, per_page=1, facets=False)).total
    finally:
        space.close()


def write_config_on(write_config, fs: Path, engine: str = "tantivy"):
    return write_config(f"data_dir: {fs / 'data'}\nsearch: {{engine: {engine}}}\n")


def test_read_only_data_directory_is_reported_and_nothing_is_damaged(tmpfs, write_config, run_cli, login_staff):
    fs = tmpfs("64m")
    path = write_config_on(write_config, fs)
    config = load_config(path)
    add_documents(config, 0, 50)
    assert run_cli("--config", str(path), "index").returncode == 0
    add_documents(config, 50, 50)                       # pending when the disk turns read-only

    app = create_app(config, {"TESTING": True})         # the service was running
    staff = login_staff(app)
    app.close()                                         # a file open for writing would keep it rw

    remount(fs, "ro")
    try:
        for args in (["index"], ["index", "--rebuild"], ["user", "add", "a@b.fr", "--password-stdin"]):
            result = run_cli("--config", str(path), *args, input="un mot de passe assez long\n")
            assert result.returncode == 1, (args, result.stderr)
            assert "lecture seule" in result.stderr and "Traceback" not in result.stderr, result.stderr
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        health = app.test_client().get("/healthz")
        assert health.status_code == 503 and "dossier de données : écriture impossible" in health.json["problems"]
        saved = staff.post("/alertes/nouvelle", data={"name": "Eau", "query": "eau",
                                                      "recipients": "doc@example.org"})
        assert saved.status_code == 503, saved.get_data(as_text=True)
        assert "lecture seule" in saved.get_data(as_text=True)
        # the catalog cannot even be opened now (its WAL files cannot be made): a French page
        searched = app.test_client().get("/search?q=renouvellement")
        assert searched.status_code == 503 and "lecture seule" in searched.get_data(as_text=True)
    finally:
        remount(fs, "rw")
        app.close()
    assert found(config) == 50                           # the index opens, as it was
    assert run_cli("--config", str(path), "index").returncode == 0
    assert found(config) == 100


@pytest.mark.parametrize("engine", ["tantivy", "whoosh"])
def test_full_disk_is_reported_and_the_index_survives(tmpfs, write_config, run_cli, engine):
    fs = tmpfs("24m")
    path = write_config_on(write_config, fs, engine)
    config = load_config(path)
    add_documents(config, 0, 100)
    assert run_cli("--config", str(path), "index").returncode == 0
    add_documents(config, 100, 400, size=4000)          # pending: needs room to index
    ballast = fs / "ballast"
    with open(ballast, "wb", buffering=0) as out:       # fill the disk to the last block
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                out.write(b"\0" * 512)
        except OSError:
            pass

    result = run_cli("--config", str(path), "index")
    assert result.returncode == 1, result.stderr
    assert "plus de place sur le disque" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr

    ballast.unlink()
    assert found(config) == 100                          # the last good commit, intact
    assert run_cli("--config", str(path), "index").returncode == 0, result.stderr
    assert found(config) == 500
