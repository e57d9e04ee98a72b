"""Staff pages of the lettre de veille: the triage queue « À trier », the issue being prepared
(editorial, rubrique order, previews, test send, schedule, send) and each issue's deliveries.

Views stay thin: the queue and the sending are `veille.digest.lettre_send`, the rendering
`veille.digest.lettre`. Every page works without JavaScript; `static/triage.js` only adds
keyboard use and saving each field as it changes (the same POST the form makes).
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from veille.core.emails import email_problem
from veille.core.facets import FACET_NAMES
from veille.digest.lettre import (
    COMMENT_CHARS,
    EDITORIAL_CHARS,
    render_html,
    render_text,
    rubrique_order,
)
from veille.digest.lettre_queue import STATE_LABELS, STATE_PARAM, STATE_VALUES
from veille.digest.lettre_send import (
    ATTEMPT_LABELS,
    LettreError,
    current_draft,
    draft_queue,
    draft_selection,
    lettre_of,
    send_now,
    send_test,
)
from veille.storage.lettres import LettreFrozen
from veille.storage.subscribers import TOPIC_LETTRE
from veille.storage.triage import DECISIONS, FIELDS
from web.auth import current_staff, staff_only
from web.errors import WebError
from web.params import FACET_LABELS, page_window
from web.present import facet_value_label
from web.state import get_catalog, get_space, veille_config

bp = Blueprint("lettre", __name__)
QUEUE_PAGE = 100        # documents of the triage queue on one page
bp.before_request(staff_only)

MAX_RUBRIQUE = 120
MAX_POSITION = 999
RECIPIENT_LABELS = {"pending": "en attente", "sent": "envoyée", "unsubscribed": "désabonné avant l'envoi",
                    "failed": "abandon après plusieurs échecs"}
STATUS_LABELS = {"draft": "en préparation", "scheduled": "envoi programmé", "sending": "envoi en cours",
                 "sent": "envoyée"}
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox allow-popups "
               "allow-popups-to-escape-sandbox; frame-ancestors 'self'")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _matcher():
    from veille.digest.run import space_matcher

    return space_matcher(get_space(), get_catalog())


def _filters() -> dict[str, list[str]]:
    wanted = {}
    for name in (*FACET_NAMES, STATE_PARAM):
        values = [v for v in request.args.getlist(name) if v.strip()][:20]
        if values:
            wanted[name] = values
    return wanted


def _toggle_url(filters: dict[str, list[str]], name: str, value: str) -> str:
    current = list(filters.get(name, []))
    current = [v for v in current if v != value] if value in current else [*current, value]
    args = [(k, v) for k, vs in filters.items() if k != name for v in vs] + [(name, v) for v in current]
    query = urlencode(args)
    return url_for("lettre.triage") + (f"?{query}" if query else "")


# ---------------------------------------------------------------- triage


@bp.get("/lettre/a-trier")
def triage():
    config, catalog = veille_config(), get_catalog()
    filters = _filters()
    matcher = _matcher() if config.lettre.profile.alerts else None
    draft, queue = draft_queue(config, catalog, matcher, now=_now(), filters=filters)
    facets = []
    for name in FACET_NAMES:
        values = queue.facets.get(name, ())
        if values:
            facets.append({"param": name, "label": FACET_LABELS[name], "values": [
                {"value": v, "label": facet_value_label(name, v), "count": n,
                 "selected": v in filters.get(name, []), "url": _toggle_url(filters, name, v)}
                for v, n in values[:12]]})
    states = [{"label": STATE_LABELS[code], "count": queue.counts.get(code, 0),
               "selected": slug in filters.get(STATE_PARAM, []), "url": _toggle_url(filters, STATE_PARAM, slug)}
              for slug, code in STATE_VALUES.items()]
    rubriques = rubrique_order({e.rubrique for e in queue.entries}, draft.rubriques)
    # a page of the queue at a time: a fortnight of a busy watch is thousands of documents
    pages = max(1, -(-len(queue.entries) // QUEUE_PAGE))
    page = min(max(1, request.args.get("p", 1, type=int) or 1), pages)
    shown = queue.entries[(page - 1) * QUEUE_PAGE:page * QUEUE_PAGE]
    return render_template("lettre/triage.html", draft=draft, queue=queue, shown=shown, facets=facets,
                           states=states, rubriques=rubriques, query=request.query_string.decode(),
                           saved=request.args.get("fait", ""), comment_chars=COMMENT_CHARS,
                           page=page, pages=pages, window=page_window(page, pages),
                           first=(page - 1) * QUEUE_PAGE + 1, page_url=lambda n: _page_url(filters, n))


def _page_url(filters: dict[str, list[str]], page: int) -> str:
    args = [(k, v) for k, vs in filters.items() for v in vs] + ([("p", str(page))] if page > 1 else [])
    return url_for("lettre.triage") + (f"?{urlencode(args)}" if args else "")


def _changes(form, doc_id: str) -> tuple[dict, str]:
    """The fields of `doc_id` the person changed (value differs from the one shown), validated."""
    changes: dict = {}
    for field in FIELDS:
        key = f"{field}-{doc_id}"
        if key not in form:
            continue
        value = form.get(key, "")
        if value == form.get(f"orig-{key}", None):
            continue
        if field == "decision" and value not in DECISIONS:
            return {}, "Décision inconnue."
        if field == "comment":
            value = value.strip()
            if len(value) > COMMENT_CHARS:
                return {}, f"Le commentaire dépasse {COMMENT_CHARS} caractères."
        if field == "rubrique":
            value = " ".join(value.split())
            if len(value) > MAX_RUBRIQUE:
                return {}, f"Le nom de rubrique dépasse {MAX_RUBRIQUE} caractères."
        if field == "position":
            value = value.strip()
            if value and (not value.isdigit() or not 1 <= int(value) <= MAX_POSITION):
                return {}, f"L'ordre est un nombre entre 1 et {MAX_POSITION}."
            value = int(value) if value else None
        changes[field] = value
    return changes, ""


@bp.post("/lettre/a-trier")
def triage_save():
    """The whole form: each document's changed fields, then the bulk action on the ticked ones."""
    config, catalog = veille_config(), get_catalog()
    draft = current_draft(config, catalog, _now())
    by = current_staff().email
    ids = [i for i in request.form.getlist("doc") if i][:500]
    known = catalog.documents.get_many(ids)
    problems = []
    for doc_id in ids:
        if doc_id not in known:
            continue
        changes, problem = _changes(request.form, doc_id)
        if problem:
            problems.append(f"{known[doc_id].title} : {problem}")
            continue
        catalog.triage.save(draft.numero, doc_id, changes, by=by, now=_now())
    bulk = request.form.get("bulk")
    if bulk is not None and bulk in DECISIONS:
        for doc_id in request.form.getlist("select"):
            if doc_id in known:
                catalog.triage.save(draft.numero, doc_id, {"decision": bulk}, by=by, now=_now())
    if problems:
        raise WebError(400, " ; ".join(problems), title="Certains choix n'ont pas été enregistrés")
    back = request.form.get("retour", "")
    return redirect(url_for("lettre.triage") + (f"?{back}&fait=1" if back else "?fait=1"), code=303)


@bp.post("/lettre/a-trier/<doc_id>")
def triage_field(doc_id: str):
    """One document's fields, as the page's script saves them when they change (JSON answer)."""
    config, catalog = veille_config(), get_catalog()
    if catalog.documents.get(doc_id) is None:
        return jsonify({"ok": False, "error": "Document inconnu."}), 404
    changes, problem = _changes(request.form, doc_id)
    if problem:
        return jsonify({"ok": False, "error": problem}), 400
    draft = current_draft(config, catalog, _now())
    catalog.triage.save(draft.numero, doc_id, changes, by=current_staff().email, now=_now())
    return jsonify({"ok": True, "saved": sorted(changes)})


# ---------------------------------------------------------------- the issue being prepared


def _draft_context(draft=None):
    config, catalog = veille_config(), get_catalog()
    draft = draft or current_draft(config, catalog, _now())
    selection = draft_selection(config, catalog, draft)
    lettre = lettre_of(config, draft, selection.items, date=draft.scheduled or _now())
    return draft, selection, lettre


@bp.get("/lettre")
def compose():
    config, catalog = veille_config(), get_catalog()
    draft, selection, lettre = _draft_context()
    order = rubrique_order([i.rubrique for i in selection.items], draft.rubriques)
    scheduled_local = draft.scheduled.astimezone(config.tz).strftime("%Y-%m-%dT%H:%M") if draft.scheduled else ""
    return render_template("lettre/compose.html", draft=draft, selection=selection, lettre=lettre,
                           order=order, subscribers=len(catalog.subscribers.confirmed(TOPIC_LETTRE)),
                           issues=catalog.lettres.frozen_list(limit=20), statuses=STATUS_LABELS,
                           scheduled_local=scheduled_local, editorial_chars=EDITORIAL_CHARS,
                           test_address=current_staff().email, done=request.args.get("fait", ""),
                           error=request.args.get("erreur", ""), attempts=[
                               a for a in catalog.lettres.attempts(draft.numero) if a.test][-5:],
                           attempt_labels=ATTEMPT_LABELS)


@bp.post("/lettre")
def compose_save():
    config, catalog = veille_config(), get_catalog()
    draft = current_draft(config, catalog, _now())
    editorial = request.form.get("editorial", "").replace("\r\n", "\n").strip()
    if len(editorial) > EDITORIAL_CHARS:
        return redirect(url_for("lettre.compose", erreur="edito"), code=303)
    order = [" ".join(line.split()) for line in request.form.get("rubriques", "").splitlines() if line.strip()][:100]
    try:
        catalog.lettres.update(draft.numero, now=_now(), editorial=editorial, rubriques=order)
    except LettreFrozen:
        return redirect(url_for("lettre.compose", erreur="partie"), code=303)
    return redirect(url_for("lettre.compose", fait="enregistree"), code=303)


@bp.get("/lettre/apercu")
def preview():
    draft, selection, lettre = _draft_context()
    return render_template("lettre/preview.html", lettre=lettre, draft=draft, selection=selection)


@bp.get("/lettre/apercu/courriel")
def preview_html():
    """The e-mail's HTML as a subscriber would get it, for a sandboxed frame or a new tab."""
    _, _, lettre = _draft_context()
    response = make_response(render_html(lettre))
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


@bp.get("/lettre/apercu/texte")
def preview_text():
    _, _, lettre = _draft_context()
    response = make_response(render_text(lettre))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


@bp.post("/lettre/essai")
def test_send():
    config, catalog = veille_config(), get_catalog()
    address = request.form.get("address", "").strip().lower()
    if email_problem(address) or len(address) > 254:
        return redirect(url_for("lettre.compose", erreur="adresse"), code=303)
    try:
        outcome = send_test(config, catalog, address, now=_now())
    except LettreError as exc:
        raise WebError(400, str(exc), title="Envoi d'essai impossible")
    return redirect(url_for("lettre.compose", fait="essai" if outcome.status == "sent" else "essai-echec"),
                    code=303)


@bp.post("/lettre/programmer")
def schedule():
    config, catalog = veille_config(), get_catalog()
    draft = current_draft(config, catalog, _now())
    when = None
    if request.form.get("action") != "annuler":
        try:
            local = datetime.strptime(request.form.get("when", ""), "%Y-%m-%dT%H:%M")
        except ValueError:
            return redirect(url_for("lettre.compose", erreur="date"), code=303)
        when = local.replace(tzinfo=config.tz).astimezone(timezone.utc)
        if when <= _now():
            return redirect(url_for("lettre.compose", erreur="passe"), code=303)
    try:
        catalog.lettres.schedule(draft.numero, when, now=_now())
    except LettreFrozen:
        return redirect(url_for("lettre.compose", erreur="partie"), code=303)
    return redirect(url_for("lettre.compose", fait="programmee" if when else "deprogrammee"), code=303)


@bp.route("/lettre/envoyer", methods=["GET", "POST"])
def send():
    """GET asks for confirmation (how many subscribers); POST freezes and sends."""
    config, catalog = veille_config(), get_catalog()
    if request.method == "GET":
        draft, selection, lettre = _draft_context()
        return render_template("lettre/send.html", draft=draft, selection=selection, lettre=lettre,
                               subscribers=len(catalog.subscribers.confirmed(TOPIC_LETTRE)))
    try:
        report = send_now(config, catalog, now=_now())
    except LettreError as exc:
        raise WebError(400, str(exc), title="La lettre n'est pas partie")
    return redirect(url_for("lettre.deliveries", numero=report.numero, fait="envoyee"), code=303)


@bp.get("/lettre/<int:numero>/envois")
def deliveries(numero: int):
    """The staff archive of one issue: each recipient, and one row per attempt with its reason."""
    catalog = get_catalog()
    record = catalog.lettres.get(numero)
    if record is None:
        abort(404)
    return render_template("lettre/deliveries.html", record=record, recipients=catalog.lettres.recipients(numero),
                           attempts=catalog.lettres.attempts(numero), recipient_labels=RECIPIENT_LABELS,
                           attempt_labels=ATTEMPT_LABELS, statuses=STATUS_LABELS,
                           done=request.args.get("fait", ""))
