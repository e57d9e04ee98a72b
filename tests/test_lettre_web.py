"""The lettre's pages through Flask's test client: triage, compose, previews, send, public
archive and feed, subscription with double opt-in, one-click unsubscribe, staff subscribers."""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from veille.core.config import load_config
from veille.core.records import KIND_LEGAL, KIND_NEWS, Document
from veille.storage.catalog import Catalog
from veille.storage.subscribers import TOPIC_LETTRE
from web import create_app

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def site(write_config, smtp_server, login_staff):
    host, port, recorder = smtp_server
    config = load_config(write_config(f"""
        data_dir: data
        sources:
          - {{name: vie-publique, title: "Vie publique", kind: feed, url: "https://www.vie-publique.fr/rss.xml"}}
        digest: {{smtp: {{host: {host}, port: {port}}}, from: "Veille <veille@example.org>"}}
        lettre: {{profile: {{alerts: false}}}}
        web: {{base_url: "https://veille.example.org"}}
        """))
    catalog = Catalog.open(config.layout)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for i, (doc_id, title, kind, visibility) in enumerate([
            ("contrat", "Contrats de ville : la circulaire", KIND_NEWS, "public"),
            ("decret", "Décret relatif aux quartiers prioritaires", KIND_LEGAL, "public"),
            ("copil", "Compte rendu interne du COPIL", KIND_NEWS, "interne"),
            ("jardins", "Jardins partagés <script>alert(1)</script>", KIND_NEWS, "public")]):
        catalog.documents.put(Document(id=doc_id, title=title, source="vie-publique", kind=kind,
                                       first_seen=now - timedelta(hours=i + 1), visibility=visibility,
                                       url=f"https://www.vie-publique.fr/{doc_id}", themes=("politique de la ville",),
                                       extra={"nor": "TREL2501234D"} if kind == KIND_LEGAL else {}))
    app = create_app(config, {"TESTING": True})
    return app, config, catalog, recorder, lambda *email: login_staff(app, *email)


def csrf(client, url):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def test_staff_only_pages_send_visitors_to_the_login(site):
    app, *_ = site
    client = app.test_client()
    for url in ("/lettre", "/lettre/a-trier", "/lettre/apercu", "/lettre/apercu/courriel", "/abonnes",
                "/lettre/envoyer"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_triage_save_by_form_and_by_field_then_compose_preview_and_send(site):
    app, config, catalog, recorder, staff = site
    client = staff()
    page = client.get("/lettre/a-trier").get_data(as_text=True)
    assert "À trier pour la lettre n° 1" in page and "Compte rendu interne du COPIL" in page
    assert "<script>alert(1)</script>" not in page and "Jardins partagés &lt;script&gt;" in page
    assert "Interne — jamais dans la lettre" in page and 'src="/static/triage.js"' in page
    # the form saves only what changed: two people's choices on one document both stay
    client.post("/lettre/a-trier", data={"doc": ["contrat"], "decision-contrat": "keep", "orig-decision-contrat": "",
                                         "comment-contrat": "", "orig-comment-contrat": ""})
    other = staff("autre@centre.org")
    other.post("/lettre/a-trier", data={"doc": ["contrat"], "decision-contrat": "", "orig-decision-contrat": "",
                                        "comment-contrat": "Signée en 2025.", "orig-comment-contrat": ""})
    state = catalog.triage.of(1)["contrat"]
    assert (state.decision, state.comment) == ("keep", "Signée en 2025.")
    # bulk action on the ticked ones, and the script's one-field save (JSON)
    response = client.post("/lettre/a-trier", data={"doc": ["decret", "copil", "jardins"], "select": ["decret", "copil"],
                                                    "bulk": "keep"})
    assert response.status_code == 303
    response = client.post("/lettre/a-trier/jardins", data={"decision-jardins": "aside", "orig-decision-jardins": ""})
    assert response.get_json() == {"ok": True, "saved": ["decision"]}
    bad = client.post("/lettre/a-trier/jardins", data={"position-jardins": "beaucoup", "orig-position-jardins": ""})
    assert bad.status_code == 400 and "nombre" in bad.get_json()["error"]
    filtered = client.get("/lettre/a-trier?etat=garde").get_data(as_text=True)
    assert "Contrats de ville" in filtered and "Jardins partagés" not in filtered

    client.post("/lettre", data={"editorial": "Bonne lecture.", "rubriques": "Politique de la ville\nTextes officiels"})
    compose = client.get("/lettre").get_data(as_text=True)
    assert "Bonne lecture." in compose and "Compte rendu interne du COPIL" in compose   # named in the warning
    assert "laissés hors de la lettre" in compose
    preview = client.get("/lettre/apercu").get_data(as_text=True)
    assert "Signée en 2025." in preview and "COPIL" not in preview.split("<article", 1)[1]
    mail_html = client.get("/lettre/apercu/courriel")
    assert "sandbox" in mail_html.headers["Content-Security-Policy"]
    assert "Contrats de ville" in mail_html.get_data(as_text=True) and "COPIL" not in mail_html.get_data(as_text=True)
    text = client.get("/lettre/apercu/texte")
    assert text.mimetype == "text/plain" and "NOR : TREL2501234D" in text.get_data(as_text=True)

    assert client.post("/lettre/essai", data={"address": "essai@centre.org"}).status_code == 303
    assert recorder.messages()[-1]["Subject"].startswith("[Essai] Lettre de veille n° 1")
    catalog.subscribers.add_confirmed("ana@example.org", TOPIC_LETTRE, now=datetime.now(timezone.utc),
                                      origin="staff", detail="test", nonce="")
    confirm = client.get("/lettre/envoyer").get_data(as_text=True)
    assert "1 abonné confirmé" in confirm
    response = client.post("/lettre/envoyer")
    assert response.status_code == 303 and "/lettre/1/envois" in response.headers["Location"]
    deliveries = client.get("/lettre/1/envois").get_data(as_text=True)
    assert "ana@example.org" in deliveries and "remise au serveur" in deliveries and "(essai)" in deliveries
    assert [m["To"] for m in recorder.messages()][-1] == "ana@example.org"
    # the one-click unsubscribe of RFC 8058, with the URL read from the raw bytes received
    raw = recorder.envelopes[-1].original_content
    url = re.search(rb"\r\nList-Unsubscribe: <https://veille\.example\.org(/desabonnement/[\w.-]+)>\r\n", raw).group(1)
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    one_click = app.test_client().post(url.decode(), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and catalog.subscribers.confirmed(TOPIC_LETTRE) == []

    public = app.test_client()
    archive = public.get("/lettres-de-veille").get_data(as_text=True)
    assert "N° 1 —" in archive
    page = public.get("/lettres-de-veille/1").get_data(as_text=True)
    assert "Contrats de ville" in page and "Signée en 2025." in page and "COPIL" not in page
    assert 'href="/static/print.css" media="print"' in page
    assert public.get("/lettres-de-veille/2").status_code == 404        # the next one is a draft
    feed = ET.fromstring(public.get("/lettres-de-veille.atom").data)
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}id").text == "https://veille.example.org/lettres-de-veille/1"
    # a document made internal after sending leaves the public page
    from dataclasses import replace

    catalog.documents.put(replace(catalog.documents.get("contrat"), visibility="interne"))
    assert "Contrats de ville" not in public.get("/lettres-de-veille/1").get_data(as_text=True)
    assert "Contrats de ville" not in public.get("/lettres-de-veille.atom").get_data(as_text=True)


def test_subscribe_confirm_one_click_unsubscribe(site):
    app, config, catalog, recorder, _ = site
    client = app.test_client()
    token = csrf(client, "/abonnement")
    refused = client.post("/abonnement", data={"csrf_token": token, "email": "pas une adresse"})
    assert refused.status_code == 400 and "adresse e-mail valide" in refused.get_data(as_text=True)
    assert "Cochez la case" in refused.get_data(as_text=True) and recorder.envelopes == []
    sent = client.post("/abonnement", data={"csrf_token": token, "email": "Ana@Example.org", "consent": "oui"})
    assert sent.status_code == 200 and "ana@example.org" in sent.get_data(as_text=True)
    assert catalog.subscribers.confirmed(TOPIC_LETTRE) == []              # nothing before confirmation
    mail = recorder.messages()[-1]
    link = re.search(r"https://veille\.example\.org(/abonnement/confirmer/\S+)",
                     mail.get_body(("plain",)).get_content()).group(1)
    page = client.get(link)                                                # a scanner opening it confirms nothing
    assert page.status_code == 200 and catalog.subscribers.confirmed(TOPIC_LETTRE) == []
    done = client.post(link, data={"csrf_token": token})
    assert done.status_code == 200 and "C'est confirmé" in done.get_data(as_text=True)
    assert catalog.subscribers.confirmed(TOPIC_LETTRE) == ["ana@example.org"]
    assert client.post(link, data={"csrf_token": token}).status_code == 400    # used once
    consent = catalog.subscribers.consents("ana@example.org")
    assert [c.event for c in consent] == ["request", "confirm"] and "J'accepte" in consent[0].detail

    # one-click (RFC 8058): a mail client posts to the List-Unsubscribe URL, without our form
    from veille.digest.lettre_send import unsubscribe_link

    url = unsubscribe_link(config, catalog, "ana@example.org").removeprefix("https://veille.example.org")
    response = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "la lettre de veille" in response.get_data(as_text=True)
    assert catalog.subscribers.confirmed(TOPIC_LETTRE) == []
    assert catalog.subscribers.consents("ana@example.org")[-1].event == "unsubscribe"


def test_unsubscribe_from_the_web_and_a_search_followed_by_email(site):
    app, config, catalog, recorder, _ = site
    catalog.subscribers.add_confirmed("ben@example.org", TOPIC_LETTRE, now=datetime.now(timezone.utc),
                                      origin="staff", detail="test", nonce="")
    client = app.test_client()
    token = csrf(client, "/abonnement")
    left = client.post("/abonnement/desabonnement", data={"csrf_token": token, "email": "ben@example.org"})
    assert "ne recevra plus rien" in left.get_data(as_text=True)
    assert catalog.subscribers.confirmed(TOPIC_LETTRE) == []

    form = client.get("/abonnement/recherche?q=logement+social&theme=habitat").get_data(as_text=True)
    assert "Suivre la recherche « logement social »" in form and "habitat" in form
    client.post("/abonnement/recherche", data={"csrf_token": token, "q": "logement social", "theme": "habitat",
                                               "email": "cleo@example.org"})
    assert catalog.alerts.all() == []                                     # not before confirmation
    link = re.search(r"/abonnement/confirmer/\S+", recorder.messages()[-1].get_body(("plain",)).get_content()).group(0)
    client.post(link, data={"csrf_token": token})
    (alert,) = catalog.alerts.all()
    assert alert.query == "logement social" and dict(alert.filters) == {"theme": ("habitat",)}
    assert alert.recipients == ("cleo@example.org",)


def test_staff_add_import_and_remove_subscribers(site):
    app, config, catalog, recorder, staff = site
    client = staff()
    csv_file = (io.BytesIO("email\ndan@example.org\nfaux\n".encode()), "abonnes.csv")
    page = client.post("/abonnes", data={"csv": csv_file, "consent": "oui", "proof": "bulletins papier du 12 mars"},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "1 ajouté" in page and "ligne 3" in page
    assert catalog.subscribers.confirmed(TOPIC_LETTRE) == ["dan@example.org"]
    assert "bulletins papier" in catalog.subscribers.consents("dan@example.org")[0].detail
    page = client.post("/abonnes", data={"addresses": "eve@example.org"}).get_data(as_text=True)
    assert "1 invité" in page and recorder.messages()[-1]["To"] == "eve@example.org"
    assert catalog.subscribers.get("eve@example.org", TOPIC_LETTRE).status == "pending"
    listing = client.get("/abonnes").get_data(as_text=True)
    assert "dan@example.org" in listing and "en attente de confirmation" in listing
    client.post("/abonnes/retirer", data={"email": "dan@example.org", "topic": TOPIC_LETTRE})
    assert catalog.subscribers.confirmed(TOPIC_LETTRE) == []
    history = client.get("/abonnes?historique=dan@example.org").get_data(as_text=True)
    assert "désabonnement" in history and "retiré par equipe@example.org" in history


def test_refusals_are_french_error_pages_that_keep_everything(site):
    app, config, catalog, recorder, staff = site
    client = staff()
    # nothing kept yet: the lettre does not go, and the page says why
    refused = client.post("/lettre/envoyer")
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and "La lettre n'est pas partie" in page and "aucun document gardé" in page
    assert catalog.lettres.last_frozen() is None and recorder.envelopes == []
    # one field refused, the others of the same form saved
    refused = client.post("/lettre/a-trier", data={
        "doc": ["contrat", "decret"], "decision-contrat": "keep", "orig-decision-contrat": "",
        "position-decret": "beaucoup", "orig-position-decret": ""})
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and "Certains choix n'ont pas été enregistrés" in page
    assert "Décret relatif aux quartiers prioritaires" in page
    assert catalog.triage.of(1)["contrat"].decision == "keep"
    # an empty search cannot be followed
    visitor = app.test_client()
    token = csrf(visitor, "/abonnement")
    refused = visitor.post("/abonnement/recherche", data={"csrf_token": token, "email": "ana@example.org"})
    assert refused.status_code == 400 and "Une recherche vide ne peut pas être suivie." in html.unescape(refused.get_data(as_text=True))
    assert catalog.subscribers.get("ana@example.org", TOPIC_LETTRE) is None and recorder.envelopes == []


def test_subscription_requests_are_limited_per_client_address(site):
    from web.throttle import SUBSCRIPTIONS_PER_HOUR

    app, _, _, recorder, _ = site
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    token = csrf(client, "/abonnement")
    for i in range(SUBSCRIPTIONS_PER_HOUR):
        sent = client.post("/abonnement", data={"csrf_token": token, "email": f"p{i}@example.org", "consent": "oui"})
        assert sent.status_code == 200
    refused = client.post("/abonnement", data={"csrf_token": token, "email": "victime@example.org", "consent": "oui"})
    assert refused.status_code == 429
    assert "Trop de demandes d'abonnement" in html.unescape(refused.get_data(as_text=True))
    assert int(refused.headers["Retry-After"]) > 60
    assert len(recorder.envelopes) == SUBSCRIPTIONS_PER_HOUR          # no mail for the refused one
    neighbour = app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "203.0.113.10"
    token = csrf(neighbour, "/abonnement")
    assert neighbour.post("/abonnement", data={"csrf_token": token, "email": "autre@example.org",
                                              "consent": "oui"}).status_code == 200


def test_a_long_queue_is_triaged_a_page_at_a_time(site):
    from web.lettre import QUEUE_PAGE

    app, config, catalog, recorder, staff = site
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with catalog.transaction():
        for i in range(QUEUE_PAGE + 20):
            catalog.documents.put(Document(id=f"flux{i:03d}", title=f"Avis de la préfecture n° {i}",
                                           source="vie-publique", kind=KIND_NEWS, url=f"https://example.org/{i}",
                                           first_seen=now - timedelta(minutes=i + 1)))
    client = staff()
    total = QUEUE_PAGE + 24
    first = client.get("/lettre/a-trier?source=vie-publique").get_data(as_text=True)
    assert first.count('class="triage-item') == QUEUE_PAGE
    assert f"Documents 1 à {QUEUE_PAGE} sur {total}." in first
    assert 'href="/lettre/a-trier?source=vie-publique&amp;p=2"' in first      # the filters kept
    second = client.get("/lettre/a-trier?source=vie-publique&p=2").get_data(as_text=True)
    assert second.count('class="triage-item') == 24
    assert f"Documents {QUEUE_PAGE + 1} à {total} sur {total}." in second
    assert client.get("/lettre/a-trier?p=99").status_code == 200              # past the end: the last page
