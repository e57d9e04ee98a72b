"""Alert and digest pages: staff manage alerts and browse the digest archive; anyone with a
signed link can unsubscribe; each alert has an Atom feed.

Views stay thin: validation is `veille.digest.alerts.parse_alert_form`, SQL is in the
catalog, snippets are sanitised by `veille.digest.compose.snippet_parts`.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, url_for

from veille.core.records import KINDS, VISIBILITY_PUBLIC
from veille.core.facets import ALERT_FILTERS
from veille.core.labels import FREQUENCY_LABELS
from veille.digest.alerts import (ALL_ALERTS, ORIGIN_WEB, AlertRecord, all_alerts,
                                  find_alert, parse_alert_form, subscriptions)
from veille.digest.compose import snippet_parts
from veille.digest.unsubscribe import SECRET_NAME, read_token
from veille.storage.subscribers import TOPIC_LETTRE
from web.auth import csrf_exempt, is_staff, staff_only
from web.state import get_catalog, get_space, veille_config

# Staff pages: alerts management and the digest archive.
bp = Blueprint("alerts", __name__)
bp.before_request(staff_only)
# Reached from e-mails and feed readers, without an account.
public = Blueprint("alerts_public", __name__)

PREVIEW_SIZE = 20
ARCHIVE_PAGE = 50
FEED_SIZE = 50
STATUS_LABELS = {"sent": "envoyé", "failed": "échec, sera réessayé au prochain envoi",
                 "sending": "envoi interrompu", "superseded": "échec, contenu repris dans l'envoi suivant"}
FILTER_LABELS = {"kind": "Nature", "source": "Source", "theme": "Thème", "territory": "Territoire",
                 "doc_type": "Type de document"}


def _alerts() -> list[AlertRecord]:
    return all_alerts(veille_config(), get_catalog())


def _preview(query: str, filters) -> tuple[int, list[dict], str]:
    """Current matches of a query: (total, hits for the template, error message)."""
    from indexer.search.request import SearchRequest

    probe = AlertRecord(key="preview", name="", query=query, filters=filters)
    try:
        results = get_space().search(SearchRequest(q=query, filters=probe.search_filters, sort="date",
                                                   per_page=PREVIEW_SIZE, facets=False,
                                                   include_internal=True))   # a staff page
    except Exception as exc:  # a bad query is shown on the form, not a 500
        return 0, [], f"La recherche a échoué : {exc}"
    hits = [{"hit": hit, "snippet": snippet_parts(hit.snippet, "")[1]} for hit in results.hits]
    return results.total, hits, results.notice


# ---------------------------------------------------------------- staff: alerts


def _following(alert: AlertRecord, unsubscribed: set[tuple[str, str]]) -> tuple[str, ...]:
    """The alert's recipients who have not left it (nor every alert)."""
    return tuple(r for r in alert.recipients
                 if (r, ALL_ALERTS) not in unsubscribed and (r, alert.key) not in unsubscribed)


@bp.get("/alertes")
def index():
    alerts = _alerts()
    catalog = get_catalog()
    unsubscribed = catalog.unsubscriptions.all()
    subs = subscriptions(alerts, unsubscribed)
    recipients = [{"address": address, "alerts": [a.name for a in followed],
                   "last": catalog.digests.period_end(address)} for address, followed in subs.items()]
    following = {a.key: _following(a, unsubscribed) for a in alerts}
    return render_template("alerts/index.html", alerts=alerts, recipients=recipients, following=following,
                           filter_labels=FILTER_LABELS, frequencies=FREQUENCY_LABELS,
                           done=request.args.get("fait", ""))


@bp.get("/alertes/<key>")
def show(key: str):
    alert = find_alert(_alerts(), key)
    if alert is None:
        abort(404)
    total, hits, notice = _preview(alert.query, alert.filters)
    unsubscribed = get_catalog().unsubscriptions.all()
    left = [r for r in alert.recipients if r not in _following(alert, unsubscribed)]
    return render_template("alerts/show.html", alert=alert, total=total, hits=hits, notice=notice,
                           filter_labels=FILTER_LABELS, following=_following(alert, unsubscribed), left=left,
                           frequencies=FREQUENCY_LABELS)


def _known_values() -> dict[str, list[str]]:
    """Theme, territory and document-type values present in the index, to suggest in the form
    (a filter matches exact values only)."""
    from indexer.search.request import SearchRequest

    try:
        facets = get_space().search(SearchRequest(per_page=1, highlight=False, include_internal=True)).facets
    except Exception:  # suggestions are a convenience: the form works without them
        return {}
    return {name: [value for value, _ in facets.get(name, ())]
            for name in ("theme", "territory", "doc_type")}


def _form_page(alert_id: int | None, status: int = 200, **context):
    config = veille_config()
    sources = [(s.name, s.title) for s in config.sources] + [(f.name, f.name) for f in config.library]
    return render_template("alerts/form.html", alert_id=alert_id, kinds=KINDS, sources=sources,
                           filter_names=ALERT_FILTERS, filter_labels=FILTER_LABELS, frequencies=FREQUENCY_LABELS,
                           known=_known_values(), **context), status


def _search_values(args) -> dict[str, str]:
    """The alert form prefilled from a search (« Créer une alerte à partir de cette recherche »):
    `q` and the search page's facet parameters."""
    query = " ".join(args.get("q", "").split())[:500]
    values = {"query": query, "name": query[:200]} if query else {}
    for name in ALERT_FILTERS:
        chosen = [v.strip() for v in args.getlist(name) if v.strip()][:20]
        if chosen:
            values[f"filter_{name}"] = chosen[0] if name in ("kind", "source") else ", ".join(chosen)
    return values


def _form_values(alert: AlertRecord | None) -> dict[str, str]:
    if alert is None:
        return _search_values(request.args)
    values = {"name": alert.name, "query": alert.query, "recipients": "\n".join(alert.recipients),
              "frequency": alert.frequency}
    values.update({f"filter_{k}": ", ".join(v) for k, v in alert.filters.items()})
    return values


@bp.route("/alertes/nouvelle", methods=["GET", "POST"])
def create():
    return _edit(None)


@bp.route("/alertes/<int:alert_id>/modifier", methods=["GET", "POST"])
def edit(alert_id: int):
    return _edit(alert_id)


def _edit(alert_id: int | None):
    catalog = get_catalog()
    current = None
    if alert_id is not None:
        current = next((a for a in _alerts() if a.origin == ORIGIN_WEB and a.id == alert_id), None)
        if current is None:
            abort(404)
    if request.method == "GET":
        return _form_page(alert_id, values=_form_values(current), errors={})
    taken = [a.name for a in _alerts() if a.id != alert_id or a.origin != ORIGIN_WEB]
    form = parse_alert_form(request.form, taken_names=taken)
    values = dict(request.form)
    if request.form.get("action") == "apercu":
        preview = _preview(form.query, form.filters) if form.query else None
        errors = {k: v for k, v in form.errors.items() if k == "query"}
        return _form_page(alert_id, values=values, errors=errors, preview=preview)
    if form.errors:
        return _form_page(alert_id, 400, values=values, errors=form.errors)
    try:
        saved = catalog.alerts.save(form.name, form.query, form.filters, form.recipients, alert_id=alert_id,
                                    frequency=form.frequency)
    except ValueError:  # the name was taken between the check and the write
        return _form_page(alert_id, 400, values=values, errors={"name": "Une autre alerte porte déjà ce nom."})
    return redirect(url_for("alerts.index", fait="enregistree") + f"#web-{saved}", code=303)


@bp.route("/alertes/<int:alert_id>/supprimer", methods=["GET", "POST"])
def delete(alert_id: int):
    """GET (and a POST without `confirmer`) asks for confirmation; only the confirmed POST deletes."""
    alert = next((a for a in _alerts() if a.origin == ORIGIN_WEB and a.id == alert_id), None)
    if alert is None:
        abort(404)
    if request.method == "GET" or request.form.get("confirmer") != "oui":
        return render_template("alerts/delete.html", alert=alert)
    if not get_catalog().alerts.delete(alert_id):
        abort(404)
    return redirect(url_for("alerts.index", fait="supprimee"), code=303)


# ---------------------------------------------------------------- staff: digest archive


@bp.get("/lettres")
def archive():
    catalog = get_catalog()
    page = max(1, request.args.get("page", 1, type=int))
    digests = catalog.digests.latest(limit=ARCHIVE_PAGE, offset=(page - 1) * ARCHIVE_PAGE)
    pages = max(1, -(-catalog.digests.count() // ARCHIVE_PAGE))
    return render_template("alerts/archive.html", digests=digests, page=page, pages=pages,
                           labels=STATUS_LABELS)


@bp.get("/lettres/<digest_id>")
def digest(digest_id: str):
    record = get_catalog().digests.get(digest_id)
    if record is None:
        abort(404)
    alerts = {a.key: a.name for a in _alerts()}
    items = get_catalog().digests.items_of(digest_id)
    return render_template("alerts/digest.html", digest=record, labels=STATUS_LABELS,
                           alerts=alerts, items=items)


@bp.get("/lettres/<digest_id>/contenu")
def digest_body(digest_id: str):
    """The e-mail's HTML as sent, shown in a sandboxed frame: no scripts, no outside requests."""
    record = get_catalog().digests.get(digest_id)
    if record is None:
        abort(404)
    response = make_response(record.html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox allow-popups "
        "allow-popups-to-escape-sandbox; frame-ancestors 'self'")
    return response


# ---------------------------------------------------------------- public: feeds, unsubscribe


@public.get("/alertes/<key>/atom")
def feed(key: str):
    alert = find_alert(_alerts(), key)
    if alert is None:
        abort(404)
    catalog = get_catalog()
    items = catalog.digests.feed_items(alert.key, limit=FEED_SIZE)
    if not is_staff():   # what was internal then, or became so since, stays out
        visible = catalog.documents.visibilities(i.doc_id for i in items)
        items = [i for i in items if visible.get(i.doc_id) == VISIBILITY_PUBLIC]
    updated = max((i.date for i in items), default=datetime(2000, 1, 1, tzinfo=timezone.utc))
    base = veille_config().web.base_url.rstrip("/")
    body = render_template("alerts/feed.xml", alert=alert, items=items, updated=updated, base=base,
                           self_url=base + url_for("alerts_public.feed", key=alert.key))
    return Response(body, mimetype="application/atom+xml")


def _unsubscription(token: str):
    return read_token(get_catalog().secrets.get(SECRET_NAME), token)


@public.get("/desabonnement/<token>")
def unsubscribe_form(token: str):
    """A confirmation page: mail scanners follow links, so GET never unsubscribes."""
    wanted = _unsubscription(token)
    if wanted is None:
        return render_template("alerts/unsubscribe.html", invalid=True), 400
    return render_template("alerts/unsubscribe.html", wanted=wanted, alert_name=_alert_name(wanted.alert),
                           lettre=wanted.alert == TOPIC_LETTRE, token=token, done=False)


@public.post("/desabonnement/<token>")
@csrf_exempt  # mail clients post here without our form; the signed token is the authority
def unsubscribe(token: str):
    """The form's button, and RFC 8058 one-click (List-Unsubscribe-Post) from mail clients."""
    wanted = _unsubscription(token)
    if wanted is None:
        return render_template("alerts/unsubscribe.html", invalid=True), 400
    if wanted.alert == TOPIC_LETTRE:
        get_catalog().subscribers.unsubscribe(wanted.recipient, TOPIC_LETTRE, now=datetime.now(timezone.utc),
                                              detail="lien de désabonnement d'un courriel d'alertes")
    else:
        get_catalog().unsubscriptions.add(wanted.recipient, wanted.alert)
    return render_template("alerts/unsubscribe.html", wanted=wanted, alert_name=_alert_name(wanted.alert),
                           lettre=wanted.alert == TOPIC_LETTRE, token=token, done=True)


def _alert_name(key: str) -> str:
    if key in (ALL_ALERTS, TOPIC_LETTRE):
        return ""
    alert = find_alert(_alerts(), key)
    return alert.name if alert else key
