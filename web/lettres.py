"""The public archive of the lettre de veille: every issue sent, its page, an Atom feed.

Only frozen issues appear, as they were sent, less any document that is not public now
(one made internal after sending disappears from the page and the feed).
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, abort, render_template, url_for

from veille.core.records import VISIBILITY_PUBLIC
from veille.digest.lettre import build_lettre
from web.state import get_catalog, veille_config

bp = Blueprint("lettres", __name__)

FEED_SIZE = 20


def _public_lettre(record):
    """The issue as anyone may read it, or None when it is not published (not sent yet)."""
    config, catalog = veille_config(), get_catalog()
    items = catalog.lettres.items(record.numero)
    visible = catalog.documents.visibilities(i.doc_id for i in items)
    items = [i for i in items if visible.get(i.doc_id) == VISIBILITY_PUBLIC]
    return build_lettre(items, title=config.lettre.title, numero=record.numero, date=record.frozen,
                        editorial=record.editorial, base_url=config.web.base_url, tz=config.tz)


@bp.get("/lettres-de-veille")
def index():
    records = get_catalog().lettres.frozen_list(limit=500)
    lettres = [_public_lettre(r) for r in records]
    return render_template("lettres/index.html", lettres=lettres, title=veille_config().lettre.title)


@bp.get("/lettres-de-veille/<int:numero>")
def show(numero: int):
    record = get_catalog().lettres.get(numero)
    if record is None or record.frozen is None:
        abort(404)
    return render_template("lettres/show.html", lettre=_public_lettre(record))


@bp.get("/lettres-de-veille.atom")
def feed():
    config = veille_config()
    lettres = [_public_lettre(r) for r in get_catalog().lettres.frozen_list(limit=FEED_SIZE)]
    base = config.web.base_url.rstrip("/")
    updated = max((l.date for l in lettres), default=datetime(2000, 1, 1, tzinfo=timezone.utc))
    body = render_template("lettres/feed.xml", lettres=lettres, updated=updated, base=base,
                           title=config.lettre.title, self_url=base + url_for("lettres.feed"),
                           page_url=base + url_for("lettres.index"))
    return Response(body, mimetype="application/atom+xml")
