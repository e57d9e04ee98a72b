"""`veille serve --workers N` and `veille run --workers N`: the web UI from N processes
(gunicorn), each with its own DocumentSpace, the scheduler in one process only, everything
stopped cleanly by SIGTERM. Real subprocesses and real HTTP requests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, STAFF_EMAIL, STAFF_PASSWORD, free_port
from tests.httpserver import httpserver  # noqa: F401 (fixture)
from tests.test_run import feed_config, wait_for
from veille.cli import main
from veille.ops.serve import serve, worker_app


def _get(url: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.fixture
def veille_process():
    """`start(config_path, *args, cwd=...)` runs `python -m veille` in a real process; any
    still running at the end of the test is killed."""
    started: list[subprocess.Popen] = []

    def start(config_path, *args, cwd):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen([sys.executable, "-m", "veille", "--config", str(config_path), *args],
                                   cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _sigterm(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=60)


@pytest.mark.slow
def test_serve_with_workers_answers_from_separate_processes_and_stops_on_sigterm(web_config,
                                                                                veille_process):
    port = free_port()
    process = veille_process(web_config.path, "serve", "--port", str(port), "--workers", "2",
                             cwd=web_config.path.parent)
    status, page = wait_for(lambda: _get(f"http://127.0.0.1:{port}/search?q=logement"))
    assert status == 200
    assert "Étude numéro 1" in page          # the workers search the indexed fixture documents
    workers = wait_for(lambda: len(_children(process.pid)) == 2 and _children(process.pid))
    for worker in workers:                  # each worker runs the app: its own process
        assert Path(f"/proc/{worker}").exists() and worker != process.pid
    for _ in range(10):                     # fresh connections, whichever worker takes them
        assert _get(f"http://127.0.0.1:{port}/search?q=logement")[0] == 200
    out, err = _sigterm(process)
    assert process.returncode == 0, err
    assert "2 processus" in out
    assert not [w for w in workers if Path(f"/proc/{w}").exists()], "a worker outlived the server"


@pytest.mark.parametrize("count", ["0", "65", "deux"])
def test_serve_refuses_a_bad_worker_count(web_config, count, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(web_config.path), "serve", "--workers", count])
    assert exit_info.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_the_scheduler_is_never_forked_into_workers(web_config):
    # the scheduler (crawls, the digest) must run in one process: serve() refuses before
    # binding anything
    with pytest.raises(ValueError, match="one process"):
        serve(web_config, port=free_port(), scheduler=object(), workers=2)


def test_each_worker_allows_its_share_of_failed_logins(web_config, login_staff):
    # two processes, each counting alone: 3 failures each, so at most 6 for the site (5 with
    # one process), where a login from a third try on would otherwise get 5 more per process
    app = worker_app(web_config, workers=2)
    staff = login_staff(app)                  # creates the account (and logs in once)
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    wrong = {"csrf_token": token, "email": STAFF_EMAIL, "password": "not the password at all"}
    assert [client.post("/login", data=wrong).status_code for _ in range(3)] == [401] * 3
    blocked = client.post("/login", data={**wrong, "password": STAFF_PASSWORD})
    assert blocked.status_code == 429
    assert staff.get("/sources").status_code == 200   # sessions already open are not affected


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:   # 503 still carries the report
        return json.loads(exc.read())
    except OSError:
        return None


@pytest.mark.slow
def test_run_with_workers_keeps_the_scheduler_in_its_own_process(tmp_path, httpserver, veille_process):
    path = feed_config(tmp_path, httpserver)
    port = free_port()
    process = veille_process(path, "run", "--port", str(port), "--workers", "2", cwd=tmp_path)
    # the crawl (in `veille run`'s process) feeds the index the web workers search
    status, page = wait_for(lambda: (found := _get(f"http://127.0.0.1:{port}/search?q=")) and
                            "Aucun document" not in found[1] and found)
    assert status == 200
    health = wait_for(lambda: _health(port))
    assert health["scheduler"] == {"running": True}      # reported by every worker
    (server,) = _children(process.pid)                   # `veille serve --workers 2`...
    web = [server, *wait_for(lambda: len(_children(server)) == 2 and _children(server))]
    out, err = _sigterm(process)
    assert process.returncode == 0, err
    assert "1 source(s) planifiée(s)" in out and "2 processus" in out
    assert len(httpserver.hits("/rss.xml")) == 1              # crawled once, not once per worker
    assert not [pid for pid in web if Path(f"/proc/{pid}").exists()], "a web process outlived run"
