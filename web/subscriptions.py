"""Subscribing: the public form (`/abonnement`) with double opt-in, a search followed by e-mail
from the search page, leaving from the web; and the staff page of subscribers (`/abonnes`).

Answers never tell whether an address is already subscribed: the same message follows
every request, so the form cannot be used to learn who reads the lettre.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, redirect, render_template, request, url_for

from veille.core.facets import ALERT_FILTERS
from veille.digest.deliver import DeliveryError
from veille.digest.subscribe import (confirm_subscription, parse_import, pending_request, request_subscription,
                                     search_topic, topic_label, valid_address)
from veille.storage.subscribers import PENDING, TOPIC_LETTRE
from web.auth import current_staff, staff_required
from web.errors import WebError
from web.state import get_catalog, veille_config

bp = Blueprint("subscriptions", __name__)

RESEND_AFTER = timedelta(minutes=2)     # one confirmation mail per address and topic in this time
STATUS_LABELS = {"pending": "en attente de confirmation", "confirmed": "confirmé", "unsubscribed": "désabonné",
                 "expired": "demande expirée"}
EVENT_LABELS = {"request": "demande", "confirm": "confirmation", "import": "import par l'équipe",
                "staff": "ajout par l'équipe", "unsubscribe": "désabonnement", "expire": "expiration"}
ORIGIN_LABELS = {"form": "formulaire", "import": "import", "staff": "équipe"}


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _client() -> str:
    return f"depuis {request.remote_addr or 'adresse inconnue'}"


def _request(address: str, topic: str, details=None, origin: str = "form", detail: str = "") -> bool:
    """Ask for a confirmation unless one just went; False when SMTP failed."""
    catalog = get_catalog()
    known = catalog.subscribers.get(address, topic)
    if known is not None and known.status == PENDING and known.requested > _now() - RESEND_AFTER:
        return True
    try:
        request_subscription(veille_config(), catalog, address, topic=topic, now=_now(), details=details,
                             origin=origin, detail=detail)
    except DeliveryError:
        return False
    return True


# ---------------------------------------------------------------- public


@bp.get("/abonnement")
def form():
    return render_template("abonnement/form.html", title=veille_config().lettre.title, values={}, errors={})


@bp.post("/abonnement")
def subscribe():
    title = veille_config().lettre.title
    address = valid_address(request.form.get("email", ""))
    errors = {}
    if address is None:
        errors["email"] = "Indiquez une adresse e-mail valide, par exemple nom@exemple.fr."
    if request.form.get("consent") != "oui":
        errors["consent"] = "Cochez la case pour accepter de recevoir la lettre."
    if errors:
        return render_template("abonnement/form.html", title=title, values=request.form, errors=errors), 400
    detail = (f"formulaire /abonnement {_client()} : « J'accepte de recevoir la {title.lower()} "
              "par e-mail ; je peux me désabonner à tout moment »")
    if not _request(address, TOPIC_LETTRE, detail=detail):
        return render_template("abonnement/sent.html", failed=True), 503
    return render_template("abonnement/sent.html", address=address, failed=False)


def _search(values) -> tuple[str, dict[str, list[str]]]:
    query = " ".join(values.get("q", "").split())[:500]
    filters = {name: sorted({v.strip() for v in values.getlist(name) if v.strip()})[:20]
               for name in ALERT_FILTERS}
    return query, {k: v for k, v in filters.items() if v}


@bp.get("/abonnement/recherche")
def search_form():
    """Follow a search by e-mail (linked from the search page): the address, then a confirmation."""
    query, filters = _search(request.args)
    if not (query or filters):
        return redirect(url_for("search.results"))
    return render_template("abonnement/search.html", query=query, filters=filters, errors={}, values={})


@bp.post("/abonnement/recherche")
def subscribe_search():
    """A professional follows a search by e-mail: an alert on it, once confirmed."""
    query, filters = _search(request.form)
    if not (query or filters):
        raise WebError(400, "Une recherche vide ne peut pas être suivie.", title="Abonnement impossible")
    address = valid_address(request.form.get("email", ""))
    if address is None:
        return render_template("abonnement/search.html", query=query, filters=filters, values=request.form,
                               errors={"email": "Indiquez une adresse e-mail valide, par exemple nom@exemple.fr."}), 400
    details = {"query": query, "filters": filters}
    detail = f"page de recherche {_client()} : suivre par e-mail la recherche « {query} »"
    if not _request(address, search_topic(query, filters), details=details, detail=detail):
        return render_template("abonnement/sent.html", failed=True), 503
    return render_template("abonnement/sent.html", address=address, failed=False, search=query)


@bp.get("/abonnement/confirmer/<token>")
def confirm_form(token: str):
    """A page with a button: mail scanners open links, so only the POST confirms."""
    pending = pending_request(get_catalog(), token)
    what = topic_label(pending.topic, pending.details) if pending else ""
    return render_template("abonnement/confirm.html", pending=pending, what=what, token=token,
                           done=False), (200 if pending else 400)


@bp.post("/abonnement/confirmer/<token>")
def confirm(token: str):
    catalog = get_catalog()
    pending = pending_request(catalog, token)
    confirmed = confirm_subscription(veille_config(), catalog, token, now=_now(),
                                     detail=f"lien de confirmation {_client()}")
    what = topic_label(confirmed.topic, confirmed.details) if confirmed else ""
    return render_template("abonnement/confirm.html", pending=pending, confirmed=confirmed, what=what,
                           token=token, done=True), (200 if confirmed else 400)


@bp.post("/abonnement/desabonnement")
def unsubscribe():
    """Leave the lettre from the web, in one click; the answer is the same for any address."""
    address = valid_address(request.form.get("email", ""))
    if address is None:
        return render_template("abonnement/form.html", title=veille_config().lettre.title, values={},
                               errors={"leave": "Indiquez une adresse e-mail valide."}), 400
    get_catalog().subscribers.unsubscribe(address, TOPIC_LETTRE, now=_now(),
                                          detail=f"formulaire de désabonnement {_client()}")
    return render_template("abonnement/left.html", address=address)


# ---------------------------------------------------------------- staff


@bp.get("/abonnes")
@staff_required
def staff_index():
    catalog = get_catalog()
    subscribers = catalog.subscribers.all()
    email = request.args.get("historique", "")
    return render_template("abonnement/staff.html", subscribers=subscribers, statuses=STATUS_LABELS,
                           origins=ORIGIN_LABELS, topic_label=topic_label,
                           confirmed=len(catalog.subscribers.confirmed(TOPIC_LETTRE)),
                           history=catalog.subscribers.consents(email) if email else None, email=email,
                           events=EVENT_LABELS, report=None)


@bp.post("/abonnes")
@staff_required
def staff_add():
    """Add addresses typed or imported from a CSV file: confirmed at once when the centre
    already holds their consent (said by a ticked box, recorded), else invited to confirm."""
    catalog = get_catalog()
    staff = current_staff().email
    problems: list[str] = []
    addresses: list[str] = []
    upload = request.files.get("csv")
    if upload is not None and upload.filename:
        found, problems = parse_import(upload.read(1024 * 1024 + 1))
        addresses += found
        origin = "import"
    else:
        origin = "staff"
    for part in request.form.get("addresses", "").replace(",", "\n").replace(";", "\n").splitlines():
        if part.strip():
            address = valid_address(part)
            if address is None:
                problems.append(f"« {part.strip()[:80]} » n'est pas une adresse e-mail")
            elif address not in addresses:
                addresses.append(address)
    consent = request.form.get("consent") == "oui"
    proof = " ".join(request.form.get("proof", "").split())[:300]
    if consent and not proof:
        problems.append("Dites comment le consentement a été recueilli (par exemple : « bulletin papier, "
                        "réunion du 12 mars »).")
        addresses = []
    added = invited = already = failed = 0
    for address in addresses:
        if consent:
            if catalog.subscribers.add_confirmed(address, TOPIC_LETTRE, now=_now(), origin=origin, nonce="",
                                                 detail=f"ajouté par {staff} ; consentement : {proof}"):
                added += 1
            else:
                already += 1
        elif catalog.subscribers.is_confirmed(address, TOPIC_LETTRE):
            already += 1
        elif _request(address, TOPIC_LETTRE, origin=origin, detail=f"invitation envoyée par {staff}"):
            invited += 1
        else:
            failed += 1
    report = {"added": added, "invited": invited, "already": already, "failed": failed, "problems": problems}
    return render_template("abonnement/staff.html", subscribers=catalog.subscribers.all(), statuses=STATUS_LABELS,
                           origins=ORIGIN_LABELS, topic_label=topic_label,
                           confirmed=len(catalog.subscribers.confirmed(TOPIC_LETTRE)), history=None, email="",
                           events=EVENT_LABELS, report=report), (400 if problems and not addresses else 200)


@bp.post("/abonnes/retirer")
@staff_required
def staff_remove():
    address = valid_address(request.form.get("email", ""))
    topic = request.form.get("topic", TOPIC_LETTRE)
    if address is not None:
        get_catalog().subscribers.unsubscribe(address, topic, now=_now(),
                                              detail=f"retiré par {current_staff().email}")
    return redirect(url_for("subscriptions.staff_index"), code=303)

