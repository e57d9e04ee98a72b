"""Every page's cost as the collection grows: CPU per request of each page kind on a cached space.

    python bench/pages.py --docs 1000000 --engine tantivy --json bench/results/pages-tantivy-1m.json

Runs through Flask's test client on the space bench/prepare.py built (no HTTP, no threads:
the figure is the application's own work). Each page is asked once cold, then `--rounds`
times; the median CPU time (`time.process_time`, Rust threads included) and wall time are
kept. Pages whose answer is cached by the search space (a repeated search) are asked with a
new page number each round, so the engines answer every time. Staff pages are read with a
bench account the run adds to the space's catalog. A page whose cost grows with the number of
documents shows up as a line that rises from 10k to 1M in the report.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus  # noqa: E402
from bench.common import load_config  # noqa: E402
from bench.prepare import space_dir  # noqa: E402

STAFF_EMAIL = "bench@example.org"
STAFF_PASSWORD = "mot de passe du banc d'essai"

# (label, path, staff); "{page}" takes a new page number each round, "{doc}" a document id
PAGES = (
    ("accueil", "/", False),
    ("recherche vide", "/search?q=&page={page}", False),
    ("recherche", "/search?q=logement+social&page={page}", False),
    ("recherche, 3 filtres", "/search?q=ville&theme=Habitat+et+renouvellement+urbain&year=2024&page={page}", False),
    ("flux Atom", "/search.atom?q=ville&page={page}", False),
    ("API", "/api/search?q=contrat+de+ville&page={page}", False),
    ("document", "/documents/{doc}", False),
    ("bibliothèque", "/bibliotheque", False),
    ("lettres de veille", "/lettres-de-veille", False),
    ("sources (équipe)", "/sources", True),
    ("à trier (équipe)", "/lettre/a-trier", True),
    ("alertes (équipe)", "/alertes", True),
)


def _timed(client, url: str) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    response.get_data()
    return time.process_time() - cpu, time.perf_counter() - wall, response.status_code


def measure(config_path: Path, rounds: int) -> dict:
    from veille.storage.catalog import Catalog
    from veille.storage.users import hash_password
    from web import create_app

    config = load_config(config_path)
    catalog = Catalog.open(config.layout)       # brings an older cached catalog to the schema
    if catalog.users.get(STAFF_EMAIL) is None:
        catalog.users.add(STAFF_EMAIL, hash_password(STAFF_PASSWORD))
    doc_ids = [row[0] for row in catalog.db.connection().execute(
        "SELECT id FROM documents WHERE rowid IN (1, 1000, 5000, 9000, 9999)")]
    catalog.close()

    app = create_app(config, {"TESTING": True})
    anonymous, staff = app.test_client(), app.test_client()
    form = staff.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    if staff.post("/login", data={"csrf_token": token, "email": STAFF_EMAIL,
                                  "password": STAFF_PASSWORD}).status_code != 302:
        raise SystemExit("the bench account could not log in")
    figures = {}
    try:
        for label, path, as_staff in PAGES:
            client = staff if as_staff else anonymous
            urls = [path.format(page=page, doc=doc_ids[page % len(doc_ids)]) for page in range(1, rounds + 2)]
            cold_cpu, cold_wall, status = _timed(client, urls[0])
            if status != 200:
                raise SystemExit(f"{urls[0]}: HTTP {status}")
            cpus, walls = zip(*[_timed(client, url)[:2] for url in urls[1:]])
            figures[label] = {"cpu_p50_ms": round(statistics.median(cpus) * 1000, 2),
                              "wall_p50_ms": round(statistics.median(walls) * 1000, 2),
                              "cold_wall_ms": round(cold_wall * 1000, 2)}
            print(f"{label:22} {figures[label]}  load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        app.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--engine", default="tantivy", choices=("whoosh", "tantivy"))
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    config_path = space_dir(args.docs, args.engine, args.seed) / "sources.yaml"
    if not config_path.exists():
        parser.error(f"{config_path} is missing: run bench/prepare.py --docs {args.docs} "
                     f"--engine {args.engine} first")
    result = {"benchmark": "pages", "docs": args.docs, "engine": args.engine,
              "pages": measure(config_path, args.rounds), "load_average": os.getloadavg()[0],
              "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
