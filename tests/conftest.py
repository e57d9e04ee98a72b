"""Shared fixtures: configuration files on tmp_path, the shared corpus, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_corpus_dir() -> Path | None:
    """`../shared/corpus` beside the checkout (or $VEILLE_SHARED_CORPUS); None when absent."""
    env = os.environ.get("VEILLE_SHARED_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "corpus")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture
def shared_corpus() -> Path:
    corpus = shared_corpus_dir()
    if corpus is None:
        pytest.skip("../shared/corpus is not beside this checkout")
    return corpus


@pytest.fixture
def write_config(tmp_path):
    """Write a sources.yaml (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "sources.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_cli():
    """Run `python -m veille ARGS` from this checkout; returns CompletedProcess (text)."""

    def run(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120,
            input: str | None = None):
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        return subprocess.run([sys.executable, "-m", "veille", *args], cwd=cwd or ROOT, input=input,
                              env=full_env, capture_output=True, text=True, timeout=timeout)

    return run


class SmtpRecorder:
    """aiosmtpd handler keeping every message it accepts; can refuse the next N messages, or
    stop answering at the Nth (`hang_at`, to kill a client in the middle of SMTP)."""

    def __init__(self):
        import threading

        self.envelopes = []
        self.refuse_next = 0
        self.hang_at: int | None = None
        self.hanging = threading.Event()
        self._received = 0

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self._received += 1
        if self.hang_at == self._received:
            self.hanging.set()
            await asyncio.sleep(60)        # the client is killed meanwhile: nothing is accepted
            return "451 4.4.2 Timeout"
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return "451 4.3.0 Temporary failure, try again later"
        self.envelopes.append(envelope)
        return "250 2.0.0 OK"

    def messages(self):
        """The accepted messages, parsed (headers decoded) with the modern email policy."""
        import email
        from email import policy

        return [email.message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]


class WebSession:
    """A session on the web UI over real HTTP: cookies kept, each form's CSRF token sent."""

    def __init__(self, base: str):
        import http.cookiejar
        import urllib.request

        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.read().decode("utf-8")

    def post(self, path: str, form_page: str, data: dict) -> tuple[int, str]:
        import re
        import urllib.parse
        import urllib.request

        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(form_page)).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, **data}).encode()
        with self.opener.open(urllib.request.Request(self.base + path, data=body), timeout=30) as response:
            return response.status, response.read().decode("utf-8")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd); yields (host, port, recorder)."""
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.hostname, controller.port, recorder
    finally:
        controller.stop()


# ------------------------------------------------------------------ web: staff sessions

STAFF_EMAIL = "equipe@example.org"
STAFF_PASSWORD = "mot de passe de test assez long"


@pytest.fixture
def login_staff():
    """`login_staff(app)` -> a test client logged in through the real login form as a staff
    member (the account is created if needed); it sends the session's CSRF token with every
    request, as the pages' forms do."""
    import re

    def login(app, email: str = STAFF_EMAIL):
        from veille.storage.catalog import Catalog
        from veille.storage.users import hash_password
        from web.auth import CSRF_FIELD

        catalog = Catalog.open(app.state.config.layout)
        if catalog.users.get(email) is None:
            catalog.users.add(email, hash_password(STAFF_PASSWORD))
        catalog.close()
        client = app.test_client()
        form = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        response = client.post("/login", data={"csrf_token": token, "email": email,
                                               "password": STAFF_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        with client.session_transaction() as session:
            client.environ_base["HTTP_X_CSRF_TOKEN"] = session[CSRF_FIELD]
        return client

    return login


# ------------------------------------------------------------------ web: an indexed space

WEB_CONFIG = """
data_dir: data
timezone: America/Martinique
library:
  - {name: Bibliothèque, path: library/, visibility: public}
sources:
  - {name: vie-publique, title: "Vie publique — actualités", kind: feed, url: "https://www.vie-publique.fr/rss.xml"}
  - {name: anct, title: "Agence nationale de la cohésion des territoires", kind: feed, url: "https://agence-cohesion-territoires.gouv.fr/rss.xml"}
  - {name: prefecture, title: "Préfecture de la Martinique", kind: change, url: "https://www.martinique.gouv.fr/Actualites"}
web: {base_url: "http://veille.example.org"}
"""

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def web_documents(now):
    """Fixture documents for the web tests: kinds, sources, themes, years, a PDF, a library
    file, a changed page, and hostile text in every displayed field."""
    from datetime import datetime, timedelta, timezone

    from indexer.enrich.legal import enrich_legal
    from veille.core.records import Document, document_id

    def doc(key, **fields):
        fields.setdefault("first_seen", now - timedelta(days=1))
        return enrich_legal(Document(id=document_id(key), **fields))   # as the crawler does

    docs = [
        doc("https://www.vie-publique.fr/renovation", title="Rénovation urbaine : le nouveau programme",
            source="vie-publique", kind="actualité", url="https://www.vie-publique.fr/renovation",
            published=now - timedelta(days=2), summary="Le programme de rénovation urbaine des quartiers.",
            content="La rénovation urbaine des quartiers prioritaires de Fort-de-France avance.\n\n"
                    "Le contrat de ville est signé. Voir la loi n° 2014-173 du 21 février 2014.",
            themes=("habitat et renouvellement urbain",), territories=("Fort-de-France",),
            doc_type="communiqué"),
        doc("https://anct.example/guide.pdf", title="Guide des conseils citoyens",
            source="anct", kind="publication", url="https://agence-cohesion-territoires.gouv.fr/guide.pdf",
            published=now.replace(year=now.year - 2), stored_file="ab/guide.pdf", page_count=3,
            content="Page un : participation des habitants.\fPage deux : conseils citoyens.\fPage trois.",
            themes=("participation des habitants",), territories=("Martinique",), doc_type="guide"),
        doc("https://www.martinique.gouv.fr/Actualites", title="Actualités de la préfecture (modifiée)",
            source="prefecture", kind="page modifiée", url="https://www.martinique.gouv.fr/Actualites",
            published=now - timedelta(days=3), content="Nouvel appel à projets politique de la ville.",
            extra={"diff": "--- avant\n+++ après\n@@ -1 +1 @@\n-Ancien appel <b>clos</b>\n+Nouvel appel à projets"},
            themes=("cohésion sociale",)),
        doc("library:Bibliothèque/fiches/fiche-jardins.txt", title="Fiche d'expérience : jardins partagés",
            source="Bibliothèque", kind="bibliothèque", path="fiches/fiche-jardins.txt",
            published=now.replace(year=now.year - 1), content="Les jardins partagés du Lamentin.",
            themes=("cohésion sociale",), territories=("Le Lamentin",), doc_type="fiche d'expérience",
            authors=("Centre de ressources",)),
        doc("https://evil.example/x", title=f"Titre piégé {HOSTILE}", source="vie-publique",
            kind="actualité", url="javascript:alert(document.cookie)",
            summary=f"Résumé {HOSTILE}", content=f"Texte piégé {HOSTILE} logement",
            themes=(f"thème {HOSTILE}",), doc_type=HOSTILE, authors=(HOSTILE,),
            first_seen=now - timedelta(days=30), published=now - timedelta(days=30)),
    ]
    docs.append(doc("https://www.legifrance.gouv.fr/loi/jo/2014/2/21/2014-173",
                    title="LOI n° 2014-173 du 21 février 2014 de programmation pour la ville et la cohésion urbaine",
                    source="vie-publique", kind="juridique",
                    url="https://www.legifrance.gouv.fr/loi/jo/2014/2/21/2014-173",
                    published=datetime(2014, 2, 21, tzinfo=timezone.utc),
                    first_seen=now - timedelta(days=60),
                    content="La politique de la ville est une politique de cohésion urbaine."))
    for i in range(12):
        docs.append(doc(f"https://anct.example/logement-{i}", title=f"Logement social, étude {i:02d}",
                        source="anct", kind="publication", url=f"https://anct.example/logement-{i}",
                        published=now - timedelta(days=40 + 30 * i),
                        first_seen=now - timedelta(days=40 + 30 * i),
                        content=f"Étude numéro {i} sur le logement social en Martinique.",
                        themes=("habitat et renouvellement urbain",), doc_type="étude"))
    return docs


@pytest.fixture
def web_config(tmp_path):
    """A configuration on tmp_path with the web fixture documents catalogued and indexed."""
    from datetime import datetime, timezone

    from veille.storage.catalog import Catalog
    from veille.core.config import load_config

    DocumentSpace = pytest.importorskip(
        "indexer.search.space", reason="indexer.search.space (DocumentSpace) has not landed yet").DocumentSpace

    (tmp_path / "sources.yaml").write_text(textwrap.dedent(WEB_CONFIG), encoding="utf-8")
    (tmp_path / "library" / "fiches").mkdir(parents=True)
    (tmp_path / "library" / "fiches" / "fiche-jardins.txt").write_text(
        "Les jardins partagés du Lamentin.", encoding="utf-8")
    (tmp_path / "library" / "notes.txt").write_text("Notes du centre.", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside the library", encoding="utf-8")
    (tmp_path / "data" / "files" / "ab").mkdir(parents=True)
    (tmp_path / "data" / "files" / "ab" / "guide.pdf").write_bytes((FIXTURES / "web" / "guide.pdf").read_bytes())
    config = load_config(tmp_path / "sources.yaml")
    catalog = Catalog.open(config.layout)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for doc in web_documents(now):
        catalog.documents.put(doc)
    space = DocumentSpace(config)
    space.index_pending()
    if hasattr(space, "close"):
        space.close()
    catalog.close()
    return config


@pytest.fixture
def web_client(web_config):
    from web import create_app

    app = create_app(web_config, {"TESTING": True})
    yield app.test_client()
    app.close()


@pytest.fixture
def digest_matcher():
    """`matcher(config, catalog)`: index what is pending, then match alerts with the real search."""
    from indexer.search.space import DocumentSpace
    from veille.digest.run import space_matcher

    spaces: dict = {}

    def matcher(config, catalog):
        space = spaces.get(config.data_dir)
        if space is None:
            space = spaces[config.data_dir] = DocumentSpace(config)
        space.index_pending()
        return space_matcher(space, catalog)

    yield matcher
    for space in spaces.values():
        space.close()
