"""Alert and digest pages through Flask's test client: staff CRUD, archive, Atom, unsubscribe."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from veille.storage.catalog import Catalog
from veille.core.records import KIND_NEWS, Document
from veille.core.config import load_config
from veille.digest.run import run_digest
from veille.digest.unsubscribe import SECRET_NAME, make_token
from web import create_app

from tests.test_digest_run import MONDAY

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def app_env(write_config, smtp_server, login_staff):
    host, port, recorder = smtp_server
    config = load_config(write_config(f"""
        data_dir: data
        alerts:
          - {{name: Rénovation urbaine, query: rénovation, recipients: [doc@example.org]}}
        digest: {{smtp: {{host: {host}, port: {port}}}, from: veille@example.org}}
        web: {{base_url: "https://veille.example.org"}}
        """))
    app = create_app(config, test_config={"TESTING": True})
    app.staff_client = lambda: login_staff(app)  # alerts and archive are staff pages
    return app, config, Catalog.open(config.layout), recorder


def test_alert_list_shows_yaml_alerts_read_only(app_env):
    app, _, catalog, _ = app_env
    catalog.alerts.save("Eau potable", "eau", {"theme": ("Eau",)}, ["eau@example.org"])
    page = app.staff_client().get("/alertes").get_data(as_text=True)
    assert "Rénovation urbaine" in page and "sources.yaml (lecture seule)" in page
    assert "Eau potable" in page and "Thème : Eau" in page
    assert page.count("Modifier") == 1          # only the web alert can be edited
    assert "/alertes/yaml-renovation-urbaine/atom" in page


def test_create_edit_delete_alert(app_env):
    app, _, catalog, _ = app_env
    client = app.staff_client()
    assert client.get("/alertes/nouvelle").status_code == 200
    response = client.post("/alertes/nouvelle", data={
        "name": "Logement social", "query": "logement social", "recipients": "a@example.org\nB@example.org",
        "filter_kind": "actualité", "filter_territory": "Martinique, Guadeloupe", "action": "enregistrer"})
    assert response.status_code == 303
    (saved,) = catalog.alerts.all()
    assert saved.recipients == ("a@example.org", "b@example.org")
    assert dict(saved.filters) == {"kind": ("actualité",), "territory": ("Martinique", "Guadeloupe")}

    form = client.get(f"/alertes/{saved.id}/modifier").get_data(as_text=True)
    assert "Martinique, Guadeloupe" in form and 'value="actualité" selected' in form
    response = client.post(f"/alertes/{saved.id}/modifier", data={
        "name": "Logement", "query": "logement", "recipients": "a@example.org", "action": "enregistrer"})
    assert response.status_code == 303
    assert catalog.alerts.get(saved.id).name == "Logement" and not catalog.alerts.get(saved.id).filters

    # deleting asks first: the link, and a post without the confirmation, only show the question
    page = client.get(f"/alertes/{saved.id}/supprimer").get_data(as_text=True)
    assert "Supprimer l'alerte « Logement » ?" in page and 'name="confirmer" value="oui"' in page
    assert client.post(f"/alertes/{saved.id}/supprimer").status_code == 200
    assert catalog.alerts.get(saved.id) is not None
    assert client.post(f"/alertes/{saved.id}/supprimer", data={"confirmer": "oui"}).status_code == 303
    assert catalog.alerts.all() == []
    assert client.post(f"/alertes/{saved.id}/supprimer", data={"confirmer": "oui"}).status_code == 404


def test_new_alert_form_is_prefilled_from_a_search(app_env):
    app, _, _, _ = app_env
    client = app.staff_client()
    form = client.get("/alertes/nouvelle?q=logement+social&kind=actualit%C3%A9&theme=habitat&theme=eau")
    page = form.get_data(as_text=True)
    assert 'id="query" name="query" value="logement social"' in page
    assert 'id="name" name="name" value="logement social"' in page
    assert 'value="actualité" selected' in page and 'value="habitat, eau"' in page


def test_unsubscribed_recipients_are_not_shown_among_an_alerts_recipients(app_env):
    app, _, catalog, _ = app_env
    catalog.alerts.save("Eau potable", "eau", {}, ["reste@example.org", "parti@example.org"])
    key = f"web-{catalog.alerts.all()[0].id}"
    catalog.unsubscriptions.add("parti@example.org", key)
    catalog.unsubscriptions.add("doc@example.org", "*")
    client = app.staff_client()
    index = client.get("/alertes").get_data(as_text=True)
    show = client.get(f"/alertes/{key}").get_data(as_text=True)
    assert "reste@example.org" in index and "parti@example.org" not in index and "doc@example.org" not in index
    assert "reste@example.org" in show and "parti@example.org" not in show and "1 désabonné" in show


def test_invalid_alert_form_keeps_input_and_explains(app_env):
    app, _, catalog, _ = app_env
    response = app.staff_client().post("/alertes/nouvelle", data={
        "name": "Rénovation urbaine", "query": "", "recipients": "pas une adresse", "action": "enregistrer"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Une autre alerte porte déjà ce nom." in page      # the YAML alert's name is taken
    assert "Indiquez les mots recherchés." in page and "Adresse e-mail invalide" in page
    assert 'value="Rénovation urbaine"' in page
    assert catalog.alerts.all() == []


def test_yaml_alerts_cannot_be_edited_through_the_web(app_env):
    app, *_ = app_env
    client = app.staff_client()
    assert client.get("/alertes/yaml-renovation-urbaine/modifier").status_code == 404
    assert client.post("/alertes/1/supprimer").status_code == 404


def test_archive_digest_page_and_atom_feed(app_env, digest_matcher):
    app, config, catalog, recorder = app_env
    catalog.documents.put(Document(id="doc1", title="Rénovation <b>du</b> bourg", source="s", kind=KIND_NEWS,
                         first_seen=MONDAY - timedelta(days=1), summary="Un résumé"))
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    client = app.staff_client()
    (record,) = catalog.digests.latest()
    archive = client.get("/lettres").get_data(as_text=True)
    assert "doc@example.org" in archive and "envoyé" in archive and f"/lettres/{record.id}" in archive
    page = client.get(f"/lettres/{record.id}").get_data(as_text=True)
    assert "Rénovation &lt;b&gt;du&lt;/b&gt; bourg" in page and "<iframe" in page
    body = client.get(f"/lettres/{record.id}/contenu")
    assert "sandbox" in body.headers["Content-Security-Policy"]
    assert body.get_data(as_text=True) == record.html
    assert client.get("/lettres/nope").status_code == 404

    feed = client.get("/alertes/yaml-renovation-urbaine/atom")
    assert feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Rénovation <b>du</b> bourg"]
    assert entries[0].find(f"{ATOM}link").get("href") == "https://veille.example.org/documents/doc1"
    assert client.get("/alertes/inconnue/atom").status_code == 404


def test_unsubscribe_link_confirm_then_post(app_env, digest_matcher):
    app, config, catalog, recorder = app_env
    client = app.test_client()
    token = make_token(catalog.secrets.get(SECRET_NAME), "doc@example.org", "yaml-renovation-urbaine")
    page = client.get(f"/desabonnement/{token}")
    assert page.status_code == 200 and "Rénovation urbaine" in page.get_data(as_text=True)
    assert catalog.unsubscriptions.all() == set()             # GET alone never unsubscribes
    tampered = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    assert client.get(f"/desabonnement/{tampered}").status_code == 400
    assert client.post(f"/desabonnement/{tampered}").status_code == 400
    assert catalog.unsubscriptions.all() == set()
    done = client.post(f"/desabonnement/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "C'est fait" in done.get_data(as_text=True)
    assert catalog.unsubscriptions.all() == {("doc@example.org", "yaml-renovation-urbaine")}

    catalog.documents.put(Document(id="doc1", title="Rénovation", source="s", kind=KIND_NEWS,
                         first_seen=MONDAY - timedelta(days=1)))
    report = run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    assert report.outcomes == () and recorder.envelopes == []   # no longer receives anything


def test_one_click_unsubscribe_from_the_mail_header(app_env, digest_matcher):
    app, config, catalog, recorder = app_env
    catalog.documents.put(Document(id="doc1", title="Rénovation", source="s", kind=KIND_NEWS,
                         first_seen=MONDAY - timedelta(days=1)))
    run_digest(config, catalog, digest_matcher(config, catalog), now=MONDAY)
    link = recorder.messages()[0]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://veille.example.org")
    response = app.test_client().post(path, data="List-Unsubscribe=One-Click",
                                      content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert catalog.unsubscriptions.all() == {("doc@example.org", "*")}


def test_alert_and_archive_pages_are_for_staff_only(app_env):
    app, *_ = app_env
    anonymous = app.test_client()
    for path in ("/alertes", "/alertes/nouvelle", "/alertes/yaml-renovation-urbaine", "/lettres",
                 "/lettres/x", "/lettres/x/contenu"):
        response = anonymous.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert anonymous.post("/alertes/nouvelle", data={"name": "x", "query": "y"}).status_code == 400
    assert anonymous.get("/alertes/yaml-renovation-urbaine/atom").status_code == 200  # feeds stay public


def test_preview_shows_current_matches_without_saving(app_env, digest_matcher):
    app, config, catalog, _ = app_env
    catalog.documents.put(Document(id="doc1", title="Rénovation du quartier <script>x</script>", source="s",
                         kind=KIND_NEWS, first_seen=MONDAY, content="La rénovation avance."))
    catalog.documents.put(Document(id="doc2", title="Eau potable", source="s", kind=KIND_NEWS, first_seen=MONDAY))
    digest_matcher(config, catalog)            # indexes the catalog
    client = app.staff_client()
    page = client.post("/alertes/nouvelle", data={"name": "Essai", "query": "rénovation", "recipients": "",
                                                   "action": "apercu"}).get_data(as_text=True)
    assert "Aperçu" in page and "1 document correspond aujourd" in page
    assert "Rénovation du quartier &lt;script&gt;" in page and "<script>x" not in page
    assert "/documents/doc1" in page and "Eau potable" not in page
    assert 'value="Essai"' in page and catalog.alerts.all() == []
    catalog.documents.put(Document(id="doc3", title="Habitat", source="s", kind=KIND_NEWS, first_seen=MONDAY,
                         themes=("habitat et renouvellement urbain",)))
    digest_matcher(config, catalog)
    form = client.get("/alertes/nouvelle").get_data(as_text=True)
    assert '<datalist id="known_theme"><option value="habitat et renouvellement urbain">' in form
    shown = client.get("/alertes/yaml-renovation-urbaine").get_data(as_text=True)
    assert "/documents/doc1" in shown and "sources.yaml" in shown
    assert client.get("/alertes/inconnue").status_code == 404
