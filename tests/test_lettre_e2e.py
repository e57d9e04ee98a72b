"""End to end, in Debian's chromium: a documentalist triages three documents, writes a comment,
previews and sends the lettre to a subscriber (through aiosmtpd), then opens its public page.

axe-core (tests/axe/) checks each page on the way — triage, the lettre, the subscription
pages, the public archive — and the e-mail's HTML as the subscriber received it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from tests.axe_check import axe_violations
from tests.test_web_e2e import ARTIFACTS, browser, shot  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def site(web_config, smtp_server):
    """The app on waitress with its mail going to aiosmtpd; yields (url, config, recorder)."""
    import waitress

    from veille.core.config import SmtpConfig
    from web import create_app

    host, port, recorder = smtp_server
    config = replace(web_config, digest=replace(web_config.digest, sender="Veille <veille@example.org>",
                                                smtp=SmtpConfig(host=host, port=port)))
    app = create_app(config)
    srv = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}", config, recorder
    srv.close()
    thread.join(timeout=10)


def assert_accessible(driver, name: str) -> None:
    violations = axe_violations(driver)
    assert violations == [], f"{name}: {violations}"


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def shows(driver, selector: str, expected: str) -> str:
    """The text of `selector` once it holds `expected`. A click that submits a form returns
    before the next page is there: the old page's element may go stale while it is read."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    def read() -> str:
        try:
            text = driver.find_element(By.CSS_SELECTOR, selector).text
        except WebDriverException:   # not there yet, gone stale, or its node left the document
            return ""
        return text if expected in text else ""

    try:
        return wait_for(read)
    except AssertionError:
        raise AssertionError(f"« {expected} » never shown in {selector} of {driver.current_url}") from None


def test_triage_compose_send_and_read_the_lettre(site, browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
    from veille.storage.catalog import Catalog
    from veille.storage.subscribers import TOPIC_LETTRE
    from veille.storage.users import hash_password

    url, config, recorder = site
    catalog = Catalog.open(config.layout)
    catalog.users.add(STAFF_EMAIL, hash_password(STAFF_PASSWORD))

    # a professional subscribes (the public pages first, before anyone logs in)
    browser.get(url + "/abonnement")
    assert_accessible(browser, "abonnement")
    browser.find_element(By.ID, "email").send_keys("pro@example.org")
    browser.find_element(By.ID, "consent").click()
    browser.find_element(By.CSS_SELECTOR, "form.subscribe-form button").click()
    shows(browser, "h1", "Confirmez votre adresse")
    assert_accessible(browser, "abonnement envoyé")
    link = wait_for(lambda: recorder.messages() and recorder.messages()[-1].get_body(("plain",)).get_content())
    confirm = next(line for line in link.splitlines() if "/abonnement/confirmer/" in line).strip()
    browser.get(url + confirm[confirm.index("/abonnement/"):])
    assert_accessible(browser, "confirmation")
    browser.find_element(By.CSS_SELECTOR, "main form button").click()
    shows(browser, "main", "C'est confirmé")
    assert catalog.subscribers.confirmed(TOPIC_LETTRE) == ["pro@example.org"]

    browser.get(url + "/login")
    browser.find_element(By.NAME, "email").send_keys(STAFF_EMAIL)
    browser.find_element(By.NAME, "password").send_keys(STAFF_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    shows(browser, "footer", "Se déconnecter")

    # triage: three documents kept with the keyboard and the mouse, saved as we go
    browser.get(url + "/lettre/a-trier")
    items = browser.find_elements(By.CSS_SELECTOR, "li.triage-item")
    assert len(items) >= 4
    assert_accessible(browser, "à trier")
    shot(browser, "20-a-trier")
    chosen = [item.get_attribute("data-doc") for item in items[:3]]
    items[0].find_element(By.CSS_SELECTOR, "input[type=radio][value=keep]").click()
    browser.execute_script("arguments[0].focus()", items[1])
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys("g").perform()                 # g: garder
    ActionChains(browser).send_keys("j").send_keys("g").perform()  # j: next document, g: garder
    wait_for(lambda: sum(s.decision == "keep" for s in catalog.triage.of(1).values()) == 3)
    assert {d for d, s in catalog.triage.of(1).items() if s.decision == "keep"} == set(chosen)
    comment = items[0].find_element(By.TAG_NAME, "textarea")
    comment.send_keys("À lire avant le comité de pilotage du contrat de ville.")
    browser.find_element(By.CSS_SELECTOR, ".bulk button[value=enregistrer]").click()
    shows(browser, "main", "Vos choix ont été enregistrés.")
    assert catalog.triage.of(1)[chosen[0]].comment == "À lire avant le comité de pilotage du contrat de ville."
    assert_accessible(browser, "à trier enregistré")

    # the lettre: editorial, previews in the browser and as the e-mail
    browser.get(url + "/lettre")
    browser.find_element(By.ID, "editorial").send_keys("Trois lectures pour la semaine.")
    browser.find_element(By.CSS_SELECTOR, "form.lettre-form button").click()
    shows(browser, "main", "La lettre a été enregistrée.")
    assert_accessible(browser, "lettre")
    shot(browser, "21-lettre")
    browser.find_element(By.LINK_TEXT, "Dans le navigateur (page publique)").click()
    shows(browser, "article.lettre", "À lire avant le comité de pilotage")
    assert_accessible(browser, "aperçu")
    browser.get(url + "/lettre/apercu/texte")
    assert "Trois lectures pour la semaine." in browser.find_element(By.TAG_NAME, "body").text

    recorder.envelopes.clear()
    browser.get(url + "/lettre/envoyer")
    assert "1 abonné confirmé" in browser.find_element(By.TAG_NAME, "main").text
    assert_accessible(browser, "envoyer")
    browser.find_element(By.CSS_SELECTOR, "main form button").click()
    shows(browser, "main", "La lettre est partie")
    assert_accessible(browser, "envois")
    (mail,) = recorder.messages()
    assert mail["To"] == "pro@example.org"
    html = mail.get_body(("html",)).get_content()
    assert "À lire avant le comité de pilotage" in html

    # the e-mail's HTML as received, opened as a page
    received = tmp_path / "lettre.html"
    received.write_text(html, encoding="utf-8")
    browser.get(received.as_uri())
    assert_accessible(browser, "e-mail de la lettre")
    shot(browser, "22-courriel")

    # the public archive, logged out
    browser.delete_all_cookies()
    browser.get(url + "/lettres-de-veille")
    assert_accessible(browser, "lettres de veille")
    browser.find_element(By.PARTIAL_LINK_TEXT, "N° 1").click()
    shows(browser, "article.lettre", "Trois lectures pour la semaine.")
    article = browser.find_element(By.CSS_SELECTOR, "article.lettre")
    assert "À lire avant le comité de pilotage" in article.text
    assert len(article.find_elements(By.CSS_SELECTOR, ".lettre-item")) == 3
    assert_accessible(browser, "lettre publique")
    shot(browser, "23-lettre-publique")

    # a phone: nothing cut off horizontally
    browser.set_window_size(390, 900)
    for page in ("/lettres-de-veille/1", "/lettres-de-veille", "/abonnement"):
        browser.get(url + page)
        assert not browser.execute_script(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth"), page
    browser.set_window_size(1280, 1000)
    browser.get(url + "/lettres-de-veille/1")

    # printed to PDF by the browser, the print stylesheet keeps the lettre alone
    import base64
    import io

    from pypdf import PdfReader

    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})["data"])
    (ARTIFACTS / "24-lettre.pdf").write_bytes(pdf)
    printed = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "N° 1" in printed and "À lire avant le comité de pilotage" in printed
    assert "Rechercher" not in printed and "Espace équipe" not in printed and "Toutes les lettres" not in printed
