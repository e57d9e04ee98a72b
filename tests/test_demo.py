"""`veille demo` runs the real pipeline offline: crawl over loopback, library sync, index, search."""

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
from veille.core.config import load_config, replace_data_dir


def test_demo_builds_a_searchable_space(tmp_path, run_cli):
    data = tmp_path / "demo-data"
    result = run_cli("demo", "--no-serve", "--data-dir", str(data), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "crawling 5 bundled sources" in result.stdout
    assert "jo-dila: 4 nouveau(x)" in result.stdout
    # the demo wrote to --data-dir, not to the configured one: open that directory
    config = replace_data_dir(load_config(ROOT / "demo" / "sources.yaml"), data)
    space = DocumentSpace(config)
    try:
        counts = space.stats()
        assert counts["by_kind"]["bibliothèque"] == 6  # every library file, PDFs included
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
