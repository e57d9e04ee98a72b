"""What the benchmark scripts share: data directories, catalog filling, statistics, memory."""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from veille.storage.catalog import Catalog  # noqa: E402
from veille.core.layout import DataDir  # noqa: E402
from veille.core.records import Document  # noqa: E402
from veille.core.config import Config, load_config  # noqa: E402

from bench.corpus import CACHE_DIR  # noqa: E402


def write_config(data_dir: Path, engine: str) -> Config:
    """A sources.yaml in `data_dir` selecting `engine`, loaded the way the CLI loads it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "sources.yaml"
    path.write_text(f"data_dir: .\nsearch: {{engine: {engine}}}\n", encoding="utf-8")
    return load_config(path)


def fill_catalog(data_dir: Path, docs: Iterable[Document]) -> float:
    """Put documents into the catalog of `data_dir` in one transaction; returns seconds."""
    catalog = Catalog.open(DataDir(data_dir))
    started = time.perf_counter()
    with catalog.transaction():
        for doc in docs:
            catalog.documents.put(doc)
    catalog.close()
    return time.perf_counter() - started


def fresh_data_dir(name: str, engine: str, catalog_file: Path) -> Config:
    """An empty data dir holding a copy of `catalog_file`, configured for `engine`."""
    data_dir = CACHE_DIR / name
    shutil.rmtree(data_dir, ignore_errors=True)
    config = write_config(data_dir, engine)
    shutil.copyfile(catalog_file, config.layout.catalog)
    return config


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(statistics.median(ms), 2) if ms else 0.0,
            "p95_ms": round(percentile(ms, 95), 2), "p99_ms": round(percentile(ms, 99), 2),
            "max_ms": round(max(ms), 2) if ms else 0.0}


def peak_rss_mb() -> float:
    """Peak resident memory of this process: VmHWM, which starts afresh at exec.

    Not getrusage's ru_maxrss: Linux carries it across fork and exec, so a child started
    by a parent holding the whole corpus would report the parent's peak as its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def dir_size_mb(layout: DataDir) -> float:
    """Megabytes of the data directory but the catalog (and its -wal, -shm) and the config."""
    total = sum(p.stat().st_size for p in layout.root.rglob("*")
                if p.is_file() and not p.name.startswith(layout.catalog.name) and p.suffix != ".yaml")
    return round(total / 1e6, 1)


def run_child(script: str, *args: str) -> dict:
    """Run `python bench/<script> ARGS` and return the JSON object it prints last."""
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{script} {' '.join(args)} failed ({proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_json(path: str | None, result: dict) -> None:
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n", encoding="utf-8")


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x FTS5" if baseline else "n/a"
