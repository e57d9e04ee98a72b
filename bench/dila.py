"""DILA JORF benchmark: texts per second from a delivery of 1,000 texts.

    python bench/dila.py --texts 1000 --json bench/results/dila-1000.json

The delivery is synthesised from the real files' structure (`../shared/corpus/legal/
dila-jorf-opendata/`, or `--corpus`): text *i* is the real text *i* mod 4 with its own
JORFTEXT id, NOR and title, and the real articles of that text with their own JORFARTI ids,
all in the DILA's layout (`<stamp>/jorf/global/texte/version/JORF/TEXT/...`). Two figures:
- parse: `read_archive` alone, the archive streamed from memory;
- crawl: `crawl_source` of a `dila-jorf` source from a loopback server: the listing, the
  download into a temporary file, the parse, one document per text, enrichment (themes,
  territories, legal references and links) and the catalog writes, into an empty catalog.
Bounded: at most 20,000 texts.
"""

from __future__ import annotations

import argparse
import functools
import io
import re
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import peak_rss_mb, write_json  # noqa: E402
from veille.core.config import load_config  # noqa: E402
from veille.storage.catalog import Catalog  # noqa: E402
from watch.crawler import crawl_source  # noqa: E402
from watch.fetcher import Fetcher  # noqa: E402
from watch.sources.jorf_archive import read_archive, write_archive  # noqa: E402

STAMP = "20260920-013012"
NAME = f"JORF_{STAMP}.tar.gz"
MAX_TEXTS = 20_000
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def synthetic_delivery(corpus: Path, count: int) -> tuple[bytes, int]:
    """(archive bytes, number of articles) of `count` texts made from the real ones."""
    folder = corpus / "legal" / "dila-jorf-opendata"
    texts = {p.stem: p.read_bytes() for p in sorted((folder / "texte").glob("*.xml"))}
    articles: dict[str, list[bytes]] = {}
    for path in sorted((folder / "article").glob("*.xml")):
        data = path.read_bytes()
        cid = re.search(rb'<TEXTE cid="(JORFTEXT\d{12})"', data).group(1).decode()
        articles.setdefault(cid, []).append(data)
    templates = sorted(texts)
    records, n_articles = [], 0
    for i in range(count):
        cid = templates[i % len(templates)]
        new_cid = f"JORFTEXT{900000000000 + i:012d}"
        nor = f"BENC{26_00000 + i:07d}A"
        text = texts[cid].replace(cid.encode(), new_cid.encode())
        text = re.sub(rb"<NOR>[A-Z0-9]+</NOR>", f"<NOR>{nor}</NOR>".encode(), text)
        text = text.replace(b"</TITREFULL>", f" (texte de mesure {i})</TITREFULL>".encode())
        records.append((new_cid, text))
        for j, article in enumerate(articles.get(cid, ())):
            old_id = re.search(rb"<ID>(JORFARTI\d{12})</ID>", article).group(1)
            new_id = f"JORFARTI{800000000000 + i * 10 + j:012d}"
            records.append((new_id, article.replace(old_id, new_id.encode()).replace(cid.encode(), new_cid.encode())))
            n_articles += 1
    out = io.BytesIO()
    write_archive(out, STAMP, records)
    return out.getvalue(), n_articles


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, archive: bytes, *args, **kwargs):
        self.archive = archive
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802
        if self.path.endswith(NAME):
            body, kind = self.archive, "application/gzip"
        else:
            body, kind = f'<a href="{NAME}">{NAME}</a>'.encode(), "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    count = min(args.texts, MAX_TEXTS)
    archive, n_articles = synthetic_delivery(args.corpus, count)

    started, cpu = time.perf_counter(), time.process_time()
    delivery = read_archive(io.BytesIO(archive), NAME)
    parse_s, parse_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert len(delivery.texts) == count and not delivery.problems and not delivery.broken

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, archive))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="veille-bench-dila-"))
    try:
        (work / "sources.yaml").write_text(
            "data_dir: data\nhttp: {delay_per_host: 0, allow_private_networks: true}\n"
            f"sources:\n  - {{name: jo, kind: dila-jorf, url: 'http://127.0.0.1:{server.server_address[1]}/', "
            "tags: [juridique]}\n", encoding="utf-8")
        config = load_config(work / "sources.yaml")
        catalog = Catalog.open(config.layout)
        with Fetcher(config.http, catalog.validators) as fetcher:
            started, cpu = time.perf_counter(), time.process_time()
            report = crawl_source(config, config.source("jo"), catalog, fetcher,
                                  now=datetime.now(timezone.utc).replace(microsecond=0))
            crawl_s, crawl_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert report.ok and report.new == count, report.line()
        catalog.close()
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    result = {"texts": count, "articles": n_articles, "archive_bytes": len(archive),
              "parse_s": round(parse_s, 3), "parse_cpu_s": round(parse_cpu, 3),
              "parse_texts_per_s": round(count / parse_s, 1),
              "crawl_s": round(crawl_s, 3), "crawl_cpu_s": round(crawl_cpu, 3),
              "crawl_texts_per_s": round(count / crawl_s, 1), "peak_rss_mb": peak_rss_mb()}
    print(f"{count} texts, {n_articles} articles, archive {len(archive) / 1024:.0f} KiB")
    print(f"parse only: {parse_s:.2f} s ({count / parse_s:.0f} texts/s, CPU {parse_cpu:.2f} s)")
    print(f"crawl (download, parse, enrich, catalog): {crawl_s:.2f} s ({count / crawl_s:.0f} texts/s, "
          f"CPU {crawl_cpu:.2f} s)")
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
