"""`veille index` syncs the library; its files are then found by title, text and file name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "extract" / "samples"


def test_index_then_search_library_files(tmp_path, write_config, run_cli):
    library = tmp_path / "bibliotheque"
    library.mkdir()
    shutil.copy(SAMPLES / "rapport-renovation.pdf", library / "rapport-renovation.pdf")
    shutil.copy(SAMPLES / "numerise.pdf", library / "Diagnostic_Tombolo_1998.pdf")
    shutil.copy(SAMPLES / "fiche-experience.odt", library / "fiche.odt")
    config = write_config("""
        data_dir: data
        library:
          - {name: Bibliothèque, path: bibliotheque}
    """)
    result = run_cli("--config", str(config), "index")
    assert result.returncode == 0, result.stderr
    assert "bibliothèque : 3 nouveau(x)" in result.stderr and "1 sans texte lisible" in result.stderr

    def search(query):
        out = run_cli("--config", str(config), "search", query, "--json")
        assert out.returncode == 0, out.stderr
        return [hit["title"] for hit in json.loads(out.stdout)["results"]]

    assert "Rénovation urbaine à Schœlcher : bilan 2023" in search("Schoelcher")
    assert "Rénovation urbaine à Schœlcher : bilan 2023" in search("financement")   # ﬁ in the PDF
    assert "Scan 0042" in search("Diagnostic_Tombolo_1998")        # no text: found by file name
    assert "Fiche d'expérience : jardins partagés à Sainte-Marie" in search("jardins")

    stats = run_cli("--config", str(config), "stats", "--json")
    assert json.loads(stats.stdout)["documents"] == 3
    again = run_cli("--config", str(config), "index")
    assert "0 nouveau(x)" in again.stderr and "3 inchangé(s)" in again.stderr
