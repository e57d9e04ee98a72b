"""The FTS5 baseline served over HTTP, for bench/web.py: the same mix, the same clients.

    python bench/fts5_server.py DATABASE PORT

A WSGI app on waitress (eight threads, as `veille serve`): `/search?i=N&page=P` runs query
N of the mix (`bench.queries.QUERIES`) on page P through `bench.fts5.search` — total, ten
hits with snippets, six facets — and answers a small HTML page of them; `/add?start=S&n=K`
adds corpus documents S..S+K-1 in one transaction (the incremental commit). One SQLite
connection per server thread.
"""

from __future__ import annotations

import html
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus, fts5  # noqa: E402
from bench.queries import QUERIES  # noqa: E402


def make_app(path: Path, seed: int = corpus.DEFAULT_SEED):
    local = threading.local()

    def db():
        if not hasattr(local, "db"):
            local.db = fts5.open_db(path)
        return local.db

    def page(found: dict) -> bytes:
        hits = "".join(f"<li><a href='/documents/{html.escape(h[0])}'>{html.escape(h[1])}</a>"
                       f" {html.escape(h[2])} {h[3]}<p>{h[4]}</p></li>" for h in found["hits"])
        facets = "".join(f"<h3>{name}</h3><ul>" + "".join(
            f"<li><a href='?{html.escape(name)}={html.escape(str(v))}'>{html.escape(str(v))}</a> {c}</li>"
            for v, c in values) + "</ul>" for name, values in found["facets"].items())
        return (f"<!doctype html><html lang='fr'><title>Recherche</title><p>{found['total']} "
                f"documents</p><ol>{hits}</ol>{facets}</html>").encode("utf-8")

    def app(environ, start_response):
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if environ["PATH_INFO"] == "/search":
                body = page(fts5.search(db(), QUERIES[int(args["i"])], page=int(args.get("page", 1))))
            elif environ["PATH_INFO"] == "/add":
                start, n = int(args["start"]), int(args["n"])
                fts5.add(db(), corpus.generate(n, seed, start=start))
                body = b"ok"
            else:
                start_response("404 Not Found", [("Content-Length", "0")])
                return [b""]
        except (KeyError, ValueError, IndexError) as exc:
            body = str(exc).encode()
            start_response("400 Bad Request", [("Content-Length", str(len(body)))])
            return [body]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return app


def main(argv: list[str]) -> int:
    import waitress

    path, port = Path(argv[0]), int(argv[1])
    waitress.serve(make_app(path), host="127.0.0.1", port=port, threads=8, ident="fts5")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
