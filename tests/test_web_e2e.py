"""End to end: headless Debian chromium drives a waitress server over an indexed space.

Search, click a facet, open a document, check keyboard access; screenshots go to
test-artifacts/ (git-ignored) for people to look at.
"""

import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from tests.httpserver import httpserver  # noqa: F401 (fixture)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def server(web_config):
    """The app on waitress, on a free port of 127.0.0.1, like `veille serve`."""
    import waitress

    from web import create_app

    app = create_app(web_config)
    srv = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()
    thread.join(timeout=10)
    app.close()


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="veille-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1000",
                 "--lang=fr-FR"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(height + 120, 600), 4000))
    driver.save_screenshot(str(path))
    return path


def test_search_facet_document(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server + "/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert "Rénovation urbaine" in browser.find_element(By.CSS_SELECTOR, "section.recent").text
    shot(browser, "01-accueil")

    # keyboard: the first Tab reaches the skip link
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("class") == "skip"

    box = browser.find_element(By.ID, "q")
    box.send_keys("logement", Keys.ENTER)
    count = browser.find_element(By.CSS_SELECTOR, ".result-bar .count").text
    assert count == "Résultats 1 à 10 sur 13"
    help_panel = browser.find_element(By.CSS_SELECTOR, "details.help")
    help_panel.find_element(By.TAG_NAME, "summary").click()
    assert "expression exacte" in help_panel.text
    shot(browser, "02-resultats")

    facet = [a for a in browser.find_elements(By.CSS_SELECTOR, "#facet-kind ~ ul a")
             if a.text.startswith("Actualité")][0]
    facet.click()
    assert "kind=actualit%C3%A9" in browser.current_url
    selected = browser.find_element(By.CSS_SELECTOR, "#facet-kind ~ ul a.selected")
    assert "Actualité" in selected.text and "✓" in selected.text
    results = browser.find_elements(By.CSS_SELECTOR, "li.result h3 a")
    assert [r.text for r in results] == ['Titre piégé <script>alert("x")</script><img src=x onerror=alert(1)>']
    assert browser.execute_script("return window.__xss === undefined && document.images.length === 0")
    shot(browser, "03-facette")

    browser.back()
    browser.find_element(By.CSS_SELECTOR, "li.result h3 a").click()
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading.startswith("Logement social, étude")
    assert browser.find_element(By.CSS_SELECTOR, ".notice-meta").text
    shot(browser, "04-document")

    # narrow screen: one column, nothing cut off horizontally
    document_url = browser.current_url
    browser.set_window_size(390, 900)
    for url in (server + "/search?q=logement", document_url, server + "/bibliotheque"):
        browser.get(url)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth")
        assert not overflow, url
    browser.get(server + "/search?q=logement")
    shot(browser, "05-mobile")

    browser.set_window_size(1280, 1000)
    browser.get(server + "/search?q=xylophone")
    assert "Aucun document ne correspond" in browser.find_element(By.CSS_SELECTOR, ".empty").text
    assert browser.find_elements(By.CSS_SELECTOR, ".empty li.result")     # recent documents offered
    shot(browser, "06-aucun-resultat")
    browser.get(server + "/search?q=r%C3%A9novation+urbaine")
    browser.find_element(By.CSS_SELECTOR, "li.result h3 a").click()
    assert "2014-173" in browser.find_element(By.ID, "cite").find_element(By.XPATH, "..").text
    shot(browser, "07-document-cite")
    browser.find_element(By.LINK_TEXT, "copie locale").click()
    assert "cité par" in browser.find_element(By.ID, "cite-par").text.lower()
    shot(browser, "08-loi-cite-par")
    browser.get(server + "/bibliotheque")
    browser.find_element(By.CSS_SELECTOR, "ul.folders a").click()
    browser.find_element(By.PARTIAL_LINK_TEXT, "fiches").click()
    assert "jardins partagés" in browser.find_element(By.CSS_SELECTOR, "table.files").text
    shot(browser, "09-bibliotheque")


def test_staff_see_internal_documents_with_a_badge_and_a_filter(server, browser, web_config):
    from datetime import datetime, timezone

    from selenium.webdriver.common.by import By

    from indexer.search.space import DocumentSpace
    from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
    from veille.core.records import Document
    from veille.storage.users import hash_password

    space = DocumentSpace(web_config)
    space.catalog.documents.put(Document(
        id="interne-copil", title="Compte rendu interne du COPIL logement", source="vie-publique",
        kind="actualité", first_seen=datetime(2025, 3, 1, tzinfo=timezone.utc), visibility="interne",
        content="Relevé de décisions du comité de pilotage sur le logement social."))
    space.catalog.users.add(STAFF_EMAIL, hash_password(STAFF_PASSWORD))
    space.index_pending()
    space.close()

    browser.get(server + "/search?q=COPIL")
    assert "Compte rendu interne" not in browser.page_source          # not for the public
    assert not browser.find_elements(By.ID, "facet-visibility")

    browser.get(server + "/login")
    browser.find_element(By.NAME, "email").send_keys(STAFF_EMAIL)
    browser.find_element(By.NAME, "password").send_keys(STAFF_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    assert "Se déconnecter" in browser.find_element(By.TAG_NAME, "body").text
    browser.get(server + "/search?q=COPIL+logement")
    result = browser.find_element(By.CSS_SELECTOR, "li.result")
    assert "Compte rendu interne du COPIL logement" in result.text
    assert result.find_element(By.CSS_SELECTOR, ".badge.internal").text == "Interne"
    shot(browser, "10-interne-badge")

    browser.get(server + "/search?q=logement")
    internal = [a for a in browser.find_elements(By.CSS_SELECTOR, "#facet-visibility ~ ul a")
                if a.text.startswith("Interne")][0]
    internal.click()
    assert "visibility=interne" in browser.current_url
    titles = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "li.result h3")]
    assert titles and all("Interne" in t for t in titles)
    shot(browser, "11-interne-filtre")


def test_staff_upload_a_pdf_find_it_edit_its_themes_and_the_change_survives_indexing(
        server, browser, web_config, run_cli):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.conftest import ROOT, STAFF_EMAIL, STAFF_PASSWORD
    from veille.storage.catalog import Catalog
    from veille.storage.users import hash_password

    catalog = Catalog.open(web_config.layout)
    catalog.users.add(STAFF_EMAIL, hash_password(STAFF_PASSWORD))
    catalog.close()
    pdf = ROOT / "demo" / "library" / "guide-npnru-relogement.pdf"

    browser.get(server + "/login")
    browser.find_element(By.NAME, "email").send_keys(STAFF_EMAIL)
    browser.find_element(By.NAME, "password").send_keys(STAFF_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    WebDriverWait(browser, 30).until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "Se déconnecter"))
    browser.get(server + "/bibliotheque")
    shot(browser, "12-bibliotheque-equipe")
    browser.find_element(By.LINK_TEXT, "Déposer des fichiers").click()
    assert "Déposer des fichiers" in browser.find_element(By.TAG_NAME, "h1").text
    assert "ou déposez-les ici" in browser.find_element(By.CSS_SELECTOR, ".drop-zone label").text   # script ran

    browser.find_element(By.ID, "files").send_keys(str(pdf))
    assert "guide-npnru-relogement.pdf" in browser.find_element(By.CSS_SELECTOR, "ul.chosen").text
    browser.find_element(By.ID, "title").send_keys("Relogement et NPNRU : le guide du centre")
    browser.find_elements(By.CSS_SELECTOR, "input[name=authors]")[0].send_keys("Centre de ressources")
    browser.find_elements(By.CSS_SELECTOR, "input[name=themes]")[0].send_keys("Habitat et renouvellement urbain")
    browser.find_element(By.ID, "doc_type").send_keys("guide")
    browser.find_element(By.ID, "published").send_keys("12052023")   # a date field: the day, the month, the year
    shot(browser, "13-depot-formulaire")
    browser.execute_script("window.__sameWindow = true")
    browser.find_element(By.CSS_SELECTOR, "form.upload-form button[type=submit]").click()
    results = WebDriverWait(browser, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, "ul.upload-results")))
    assert "ajouté : guide-npnru-relogement.pdf" in results.text
    assert browser.execute_script("return window.__sameWindow === true")   # sent by the script, with progress
    shot(browser, "14-depot-resultat")

    # found by a word of its text, at once
    browser.get(server + "/search?q=relogement")
    first = browser.find_element(By.CSS_SELECTOR, "li.result h3 a")
    assert first.text == "Relogement et NPNRU : le guide du centre"
    first.click()
    WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "article.document")))
    doc_url = browser.current_url
    assert "Habitat et renouvellement urbain" in browser.find_element(By.CSS_SELECTOR, ".notice-meta").text

    # edit its themes
    browser.find_element(By.LINK_TEXT, "Modifier la notice").click()
    WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "form.notice-form")))
    themes = browser.find_elements(By.CSS_SELECTOR, "input[name=themes]")
    for field in themes:
        field.clear()
    themes[0].send_keys("Santé")
    themes[1].send_keys("Participation des habitants")
    shot(browser, "15-notice-modifier")
    browser.find_element(By.CSS_SELECTOR, "form.notice-form button[type=submit]").click()
    WebDriverWait(browser, 30).until(EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "Notice enregistrée."))
    meta = browser.find_element(By.CSS_SELECTOR, ".notice-meta").text
    assert "Santé" in meta and "Participation des habitants" in meta and "Habitat et renouvellement" not in meta

    # `veille index` syncs the library again: the staff's themes hold
    done = run_cli("--config", str(web_config.path), "index")
    assert done.returncode == 0, done.stderr
    assert "Bibliothèque" in done.stderr           # the folder was synced
    browser.get(doc_url)
    meta = browser.find_element(By.CSS_SELECTOR, ".notice-meta").text
    assert "Santé" in meta and "Participation des habitants" in meta and "Habitat et renouvellement" not in meta
    browser.get(server + "/search?q=relogement&theme=Sant%C3%A9")
    assert browser.find_element(By.CSS_SELECTOR, "li.result h3 a").text == "Relogement et NPNRU : le guide du centre"
    shot(browser, "16-notice-apres-index")
# ---------------------------------------------------------------- every page: axe-core, phones


def login_in_browser(browser, server: str, email: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/login")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    # the page the click opens, not the login page it leaves
    WebDriverWait(browser, 30).until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "Se déconnecter"))


def overflows(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth > document.documentElement.clientWidth")


def staff_pages_data(config) -> dict[str, str]:
    """An alert, a digest in the archive and an unsubscribe link, so their pages have rows."""
    from datetime import datetime, timedelta, timezone

    from veille.digest.unsubscribe import SECRET_NAME, make_token
    from veille.storage.catalog import Catalog
    from veille.storage.digests import DigestItem, DigestRecord

    catalog = Catalog.open(config.layout)
    alert_id = catalog.alerts.save("Logement social en Martinique", "logement social", {"kind": ("publication",)},
                                   ["documentation.centre-de-ressources@example.org"])
    now = datetime.now(timezone.utc).replace(microsecond=0)
    catalog.digests.add(DigestRecord(
        id="d" * 32, recipient="documentation.centre-de-ressources@example.org",
        period_start=now - timedelta(days=7), period_end=now, created=now, status="failed",
        message_id="<digest-x@example.org>", subject="Veille : 3 nouveaux documents (du 1er au 7 mars 2025)",
        documents=3, html="<p>Lettre</p>", raw=b"Subject: x\r\n\r\nx", error="envoi impossible par 127.0.0.1:25"),
        [DigestItem(alert=f"web-{alert_id}", doc_id="x", title="Logement social, étude 01",
                    link="http://veille.example.org/documents/x", date=now)])
    token = make_token(catalog.secrets.get(SECRET_NAME), "documentation.centre-de-ressources@example.org")
    catalog.close()
    return {"alert": str(alert_id), "digest": "d" * 32, "token": token}


def test_every_page_passes_axe_and_fits_a_phone(server, browser, web_config):
    from urllib.parse import quote

    from selenium.webdriver.common.by import By

    from tests.axe_check import axe_violations, describe
    from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
    from veille.storage.catalog import Catalog
    from veille.storage.users import hash_password

    data = staff_pages_data(web_config)
    catalog = Catalog.open(web_config.layout)
    catalog.users.add(STAFF_EMAIL, hash_password(STAFF_PASSWORD))
    ids = {d.title: d.id for d in catalog.documents.iter_all()}
    catalog.close()
    documents = [f"/documents/{ids[title]}" for title in (
        "Guide des conseils citoyens", "Actualités de la préfecture (modifiée)",
        "Rénovation urbaine : le nouveau programme", "Fiche d'expérience : jardins partagés")]
    folder = "/bibliotheque/" + quote("Bibliothèque")
    public = ["/", "/search?q=logement", "/search?q=xylophone", "/search?q=logement&kind=publication&from=2020-01-01",
              *documents, "/bibliotheque", folder, folder + "?dossier=fiches", "/login", "/nulle-part",
              f"/desabonnement/{data['token']}", "/desabonnement/faux"]
    staff = ["/alertes", "/alertes/nouvelle", f"/alertes/web-{data['alert']}",
             f"/alertes/{data['alert']}/modifier", "/lettres", f"/lettres/{data['digest']}", "/sources",
             "/search?q=logement", documents[0]]
    # the tables that used to widen a phone's page to 500-800 px
    phone_tables = {folder + "?dossier=fiches": "table.files", "/alertes": "table.alerts",
                    "/lettres": "table.alerts", "/sources": "table.sources"}

    def check(urls, who):
        problems = []
        for width in (1280, 390):
            browser.set_window_size(width, 900)
            for url in urls:
                browser.get(server + url)
                violations = axe_violations(browser)
                if violations:
                    problems.append(describe(f"{who} {width}px {url}", violations))
                if width == 390 and overflows(browser):
                    problems.append(f"{who}: {url} is wider than a phone")
                table = phone_tables.get(url)
                if width == 390 and table and browser.find_element(By.CSS_SELECTOR, table).size["width"] > 390:
                    problems.append(f"{who}: the table of {url} is wider than a phone")
        assert not problems, "\n".join(problems)

    check(public, "public")
    browser.set_window_size(390, 900)
    shot(browser, "12-telephone-bibliotheque")
    login_in_browser(browser, server, STAFF_EMAIL, STAFF_PASSWORD)
    check(staff, "équipe")
    browser.get(server + "/alertes")
    shot(browser, "13-telephone-alertes")
    browser.get(server + "/lettres")
    shot(browser, "14-telephone-lettres")



def test_the_axe_check_finds_what_it_looks_for(browser):
    """The harness itself: a page with known faults gives their rules."""
    from tests.axe_check import axe_violations

    browser.get("data:text/html;charset=utf-8,<html><body><img src='x.png'><a href='/x'></a></body></html>")
    found = {violation["id"] for violation in axe_violations(browser)}
    assert {"image-alt", "link-name", "html-has-lang"} <= found


# ---------------------------------------------------------------- sources from the web, with `veille run`


@pytest.fixture
def running_service(tmp_path, httpserver):
    """`veille run` in a child process over a config with one feed, a staff account made;
    yields (base URL, config path)."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    import time
    import urllib.request

    from tests.conftest import FIXTURES, ROOT, STAFF_EMAIL, STAFF_PASSWORD, free_port
    from veille.core.config import load_config
    from veille.storage.catalog import Catalog
    from veille.storage.users import hash_password

    feed = (FIXTURES / "watch" / "actualites.rss").read_bytes()
    httpserver.add("/rss.xml", feed, content_type="application/rss+xml")
    items = "".join(
        f"<item><title>{title}</title><link>/avis/{n}</link><guid>avis-{n}</guid>"
        f"<description>{text}</description></item>"
        for n, (title, text) in enumerate([
            ("Avis : lancement du nouveau programme en Martinique", "Appel à projets pour les quartiers."),
            ("Avis : fermeture de la mairie annexe", "La mairie annexe de Volga-Plage est fermée vendredi."),
            ("Avis : consultation sur le contrat de ville", "Les habitants sont invités à donner leur avis.")]))
    httpserver.add("/avis.xml", f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                   f"<title>Avis de la préfecture</title><link>https://prefecture.example/</link>{items}"
                   "</channel></rss>", content_type="application/rss+xml")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        # the centre's sources
        data_dir: data
        http: {{delay_per_host: 0, retries: 0, timeout: 3, allow_private_networks: true}}
        sources:
          - {{name: agence, title: "Agence — actualités", kind: feed, url: "{httpserver.url('/rss.xml')}", schedule: 1d}}
        """), encoding="utf-8")
    catalog = Catalog.open(load_config(path).layout)
    catalog.users.add(STAFF_EMAIL, hash_password(STAFF_PASSWORD))
    catalog.close()
    port = free_port()
    log = open(tmp_path / "run.log", "w")   # a file, not a pipe nobody reads while it logs
    process = subprocess.Popen([sys.executable, "-m", "veille", "--config", str(path), "run", "--port", str(port)],
                               cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/login", timeout=2).close()
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield base, path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_a_source_added_from_the_sources_page_is_crawled_and_found(running_service, browser, httpserver):
    import time

    from selenium.webdriver.common.by import By

    from tests.axe_check import axe_violations, describe
    from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
    from veille.core.config import load_config

    base, path = running_service
    login_in_browser(browser, base, STAFF_EMAIL, STAFF_PASSWORD)
    menu = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "nav.site-nav a")]
    assert menu == ["Accueil", "Recherche", "Bibliothèque", "Lettres de veille", "À trier", "Lettre", "Abonnés",
                    "Alertes", "Envois des alertes", "Sources"]
    browser.find_element(By.LINK_TEXT, "Sources").click()
    browser.find_element(By.LINK_TEXT, "Ajouter une source").click()
    browser.find_element(By.ID, "title").send_keys("Avis de la préfecture")
    browser.find_element(By.ID, "url").send_keys(httpserver.url("/avis.xml"))
    schedule = browser.find_element(By.ID, "schedule")
    schedule.clear()
    schedule.send_keys("1d")
    browser.find_element(By.CSS_SELECTOR, 'button[value="essayer"]').click()
    preview = browser.find_element(By.CSS_SELECTOR, "section.preview")
    assert "3 documents" in preview.text and "Avis : lancement du nouveau programme en Martinique" in preview.text
    assert axe_violations(browser) == [], describe(browser.current_url, axe_violations(browser))
    assert "avis" not in path.read_text(encoding="utf-8")          # tried, not saved
    shot(browser, "15-source-essai")

    browser.find_element(By.CSS_SELECTOR, 'button[value="enregistrer"]').click()
    assert "La source a été ajoutée" in browser.find_element(By.CSS_SELECTOR, "p.notice").text
    assert load_config(path).source("avis-de-la-prefecture").url == httpserver.url("/avis.xml")
    assert "# the centre's sources" in path.read_text(encoding="utf-8")
    row = browser.find_element(By.ID, "source-avis-de-la-prefecture")
    row.find_element(By.CSS_SELECTOR, "form[action$='/relever'] button").click()
    assert "Relevé demandé" in browser.find_element(By.CSS_SELECTOR, "p.notice").text

    deadline = time.monotonic() + 90
    found = ""
    while time.monotonic() < deadline:
        browser.get(base + "/search?q=avis+lancement")
        found = browser.find_element(By.TAG_NAME, "main").text
        if "Avis : lancement du nouveau programme en Martinique" in found:
            break
        time.sleep(1)
    assert "Avis : lancement du nouveau programme en Martinique" in found
    assert len(httpserver.hits("/avis.xml")) >= 2      # its first crawl, then the one asked for

    browser.get(base + "/sources")
    row = browser.find_element(By.ID, "source-avis-de-la-prefecture")
    assert "en service" in row.text and "3" in row.find_element(By.CSS_SELECTOR, "td.num").text
    browser.set_window_size(390, 900)
    for url in ("/sources", "/sources/nouvelle", "/sources/avis-de-la-prefecture/modifier"):
        browser.get(base + url)
        assert not overflows(browser), url
        assert axe_violations(browser) == [], describe(url, axe_violations(browser))
    browser.get(base + "/sources")
    shot(browser, "16-telephone-sources")
