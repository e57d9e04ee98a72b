"""`veille demo` runs the real pipeline offline: crawl over loopback, library sync, index, search;
it keeps its data between runs, says how to make a staff account, and links to its own port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

from indexer.search.request import SearchRequest
from indexer.search.space import DocumentSpace
from tests.conftest import ROOT
from veille.core.config import load_config


def test_demo_builds_a_searchable_space(tmp_path, run_cli):
    data = tmp_path / "demo-data"
    result = run_cli("demo", "--no-serve", "--data-dir", str(data), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "relevé de 5 source(s) fournie(s)" in result.stdout
    assert "jo-dila: 4 nouveau(x)" in result.stdout
    # the demo's own configuration, in its data directory, is printed with the account command
    config = load_config(data / "sources.yaml")
    assert config.data_dir == data.resolve()
    assert f"veille --config {data.resolve() / 'sources.yaml'} user add vous@example.org" in result.stdout
    space = DocumentSpace(config)
    try:
        counts = space.stats()
        assert counts["by_kind"]["bibliothèque"] == 7  # every library file, PDFs and the scan included
        assert counts["by_kind"]["juridique"] >= 5 and counts["by_kind"]["actualité"] == 5
        found = space.search(SearchRequest(q="renovation urbaine"))
        titles = [hit.title for hit in found.hits]
        assert "Rénovation urbaine : point d'étape du NPNRU à Fort-de-France" in titles
        assert "Guide du relogement dans les projets de renouvellement urbain" in titles
        # the library's sidecar gave the PDF its title and type
        pdf = space.search(SearchRequest(q="emploi des jeunes", filters={"doc_type": ("étude",)}))
        assert [h.title for h in pdf.hits] == ["L'emploi des jeunes dans les quartiers prioritaires de Martinique"]
        # the DILA's open data: a text of the delivery, with its publication date
        jo = space.search(SearchRequest(q="Fibre Excellence Saint-Gaudens"))
        assert [(h.source, h.published) for h in jo.hits] == [("jo-dila", "2026-09-20")]
        # the scanned délibération is found by the words of its page image
        from indexer.extract.ocr import missing

        if not missing("fra+eng"):
            scan = space.search(SearchRequest(q='"jardins familiaux" délibéré'))
            assert scan.hits[0].title == ("Délibération du conseil municipal du Lamentin : "
                                          "adhésion au contrat de ville (scan)")
    finally:
        space.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_serves_the_search_page(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "veille", "demo", "--port", str(port),
                             "--data-dir", str(tmp_path / "d")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    try:
        deadline = time.monotonic() + 240
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/search?q=conseil+citoyen", timeout=5) as r:
                    page = r.read().decode("utf-8")
                break
            except OSError:
                time.sleep(0.5)
        assert page is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert "Guide pratique : animer un conseil citoyen" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=schoelcher", timeout=5) as r:
            api = json.load(r)
        assert api["total"] >= 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class DemoProcess:
    """`veille demo` in a child process, until stop(); its output kept."""

    def __init__(self, port: int, data_dir, *extra: str):
        import os
        import tempfile

        self.port = port
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "veille", "demo", "--port", str(port), "--data-dir", str(data_dir), *extra],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)})

    def wait_serving(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login", timeout=5).close()
                return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(self.output())

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> str:
        import signal

        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.output()


def test_demo_stopped_and_started_again_keeps_a_staff_account_and_an_alert(tmp_path, run_cli):
    import re

    from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD, WebSession, free_port

    data = tmp_path / "demo"
    first = DemoProcess(_free_port(), data)
    try:
        first.wait_serving()
        # the demo says where its configuration is and how to add an account: do as it says
        command = re.search(r"^  veille (--config \S+ user add) vous@example\.org$", first.output(), re.M)
        assert command, first.output()
        made = run_cli(*command.group(1).split(), STAFF_EMAIL, "--password-stdin", input=STAFF_PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
        web = WebSession(f"http://127.0.0.1:{first.port}")
        assert "Se déconnecter" in web.post("/login", "/login", {"email": STAFF_EMAIL, "password": STAFF_PASSWORD})[1]
        status, page = web.post("/alertes/nouvelle", "/alertes/nouvelle", {
            "name": "Jardins partagés", "query": "jardins", "recipients": "doc@example.org",
            "action": "enregistrer"})
        assert status == 200 and "L'alerte a été enregistrée" in page
        feed = web.get("/alertes/web-1/atom")
        assert f"http://127.0.0.1:{first.port}/alertes/web-1/atom" in feed     # links on the demo's port
    finally:
        out = first.stop()
    assert first.process.returncode == 0, out
    assert "relevé de 5 source(s) fournie(s)" in out

    second = DemoProcess(free_port(), data)
    try:
        second.wait_serving()
        web = WebSession(f"http://127.0.0.1:{second.port}")
        assert "Se déconnecter" in web.post("/login", "/login", {"email": STAFF_EMAIL, "password": STAFF_PASSWORD})[1]
        assert "Jardins partagés" in web.get("/alertes")
        assert f"http://127.0.0.1:{second.port}/alertes/web-1/atom" in web.get("/alertes/web-1/atom")
        assert "Guide pratique : animer un conseil citoyen" in web.get("/search?q=conseil+citoyen")
    finally:
        out = second.stop()
    assert "données gardées du lancement précédent" in out and "relevé de 5 source" not in out

    # a folder that is not a demo's is left alone
    other = tmp_path / "autre"
    other.mkdir()
    (other / "notes.txt").write_text("à garder", encoding="utf-8")
    refused = run_cli("demo", "--no-serve", "--data-dir", str(other))
    assert refused.returncode == 1 and "n'est pas vide" in refused.stderr
    assert (other / "notes.txt").read_text(encoding="utf-8") == "à garder"

    # --reset starts over: no account, no alert
    reset = run_cli("demo", "--no-serve", "--reset", "--data-dir", str(data), timeout=300)
    assert reset.returncode == 0, reset.stderr
    assert "relevé de 5 source(s) fournie(s)" in reset.stdout
    from veille.storage.catalog import Catalog

    catalog = Catalog.open(load_config(data / "sources.yaml").layout)
    assert catalog.users.all() == [] and catalog.alerts.all() == []
    catalog.close()
