"""The watched sources, for the centre's team (a blueprint of its own, so that access rules
wrap it whole): their state (from watch.status, as for `veille sources`), and their
management: add a feed or a listing page after trying it, change a source's title, schedule,
tags and visibility, pause or resume it, « Relever maintenant ».

Every change is written to `sources.yaml` in place (veille.core.config_write: comments and
order kept, validated as `veille check` would, atomically); the running scheduler and the
other web workers notice the new file within seconds. A crawl asked for now is a row of the
catalog the scheduler serves (veille.jobs.watcher), whichever process runs it.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from veille.core.config import ConfigError, Source
from veille.core.config_write import append_source, edit_config, unique_name, update_source
from veille.core.records import VISIBILITIES
from veille.jobs.scheduler import next_run_times
from watch.preview import preview_source
from watch.status import source_statuses
from web.auth import current_staff, staff_only
from web.errors import WebError
from web.source_form import (ADDABLE_KINDS, NATURES, SCHEDULES, errors_from_problems, form_values,
                             parse_new_source, parse_source_changes)
from web.state import app_state, get_catalog, veille_config

bp = Blueprint("sources", __name__)
bp.before_request(staff_only)   # sources, their credentials and their state are for staff

PUBLIC_FIELDS = ("name", "title", "kind", "url", "schedule", "enabled", "state", "documents",
                 "last_run", "last_success", "consecutive_failures", "next_run")
NEW_FIELDS = ("title", "kind", "url", "schedule", "tags", "nature", "visibility", "select_item", "select_link",
              "select_title", "select_date", "select_summary", "next")
CHANGE_FIELDS = ("title", "schedule", "tags", "nature", "visibility")
DONE = {"ajoutee": "La source a été ajoutée ; son premier relevé commence dans quelques secondes.",
        "modifiee": "La source a été modifiée.",
        "en-pause": "La source est en pause : elle n'est plus relevée.",
        "reprise": "La source est relevée de nouveau.",
        "demande": "Relevé demandé : il commence dans quelques secondes."}


def statuses():
    config, catalog = veille_config(), get_catalog()
    return source_statuses(config, catalog, next_run_times(config, catalog))


def status_json(status, staff: bool) -> dict:
    """Everything for staff; for the public, no error texts (they may name internal hosts)."""
    data = status.as_json()
    return data if staff else {key: data[key] for key in PUBLIC_FIELDS}


def configured_source(name: str) -> Source:
    try:
        return veille_config().source(name)
    except KeyError:
        abort(404)


def done(what: str, name: str):
    return redirect(url_for("sources.index", fait=what) + f"#source-{name}", code=303)


@bp.get("/sources")
def index():
    rows = statuses()
    return render_template("sources.html", statuses=rows, requests=get_catalog().crawl_requests.all(),
                           failing=sum(1 for s in rows if s.state in ("failing", "backoff")),
                           done=DONE.get(request.args.get("fait", "")),
                           no_scheduler=app_state().scheduler is None)


def _form_page(template: str, status: int = 200, **context):
    return render_template(template, kinds=ADDABLE_KINDS, natures=NATURES, schedules=SCHEDULES,
                           visibilities=VISIBILITIES, **context), status


@bp.route("/sources/nouvelle", methods=["GET", "POST"])
def create():
    if request.method == "GET":
        return _form_page("sources_form.html", values={"kind": "feed", "schedule": "6h"}, errors={})
    config = veille_config()
    values = dict(request.form)
    name = unique_name(request.form.get("title", ""), (s.name for s in config.sources))
    form = parse_new_source(request.form, name)
    if form.errors:
        return _form_page("sources_form.html", 400, values=values, errors=form.errors)
    trying = request.form.get("action") == "essayer"
    try:
        _, candidate = edit_config(config.path, lambda document: append_source(document, form.values),
                                   write=not trying)
    except ConfigError as exc:
        return _form_page("sources_form.html", 400, values=values,
                          errors=errors_from_problems(exc.problems, NEW_FIELDS))
    if trying:   # what the first crawl would collect; nothing saved
        preview = preview_source(candidate, candidate.source(name))
        return _form_page("sources_form.html", values=values, errors={}, preview=preview)
    return done("ajoutee", name)


@bp.route("/sources/<name>/modifier", methods=["GET", "POST"])
def edit(name: str):
    source = configured_source(name)
    if request.method == "GET":
        return _form_page("sources_form.html", source=source, values=form_values(source), errors={})
    form = parse_source_changes(request.form)
    if form.errors:
        return _form_page("sources_form.html", 400, source=source, values=dict(request.form), errors=form.errors)
    try:
        edit_config(veille_config().path, lambda document: update_source(document, name, form.values))
    except ConfigError as exc:
        return _form_page("sources_form.html", 400, source=source, values=dict(request.form),
                          errors=errors_from_problems(exc.problems, CHANGE_FIELDS))
    return done("modifiee", name)


def change_source(name: str, values: dict) -> None:
    configured_source(name)
    try:
        edit_config(veille_config().path, lambda document: update_source(document, name, values))
    except ConfigError as exc:   # the file was broken by hand meanwhile: say what `veille check` says
        raise WebError(409, "sources.yaml n'a pas été modifié : " + " ; ".join(exc.problems),
                       title="Configuration à corriger") from None


@bp.post("/sources/<name>/pause")
def pause(name: str):
    change_source(name, {"enabled": False})
    return done("en-pause", name)


@bp.post("/sources/<name>/reprise")
def resume(name: str):
    change_source(name, {"enabled": None})   # without `enabled`, the default (true) applies
    return done("reprise", name)


@bp.post("/sources/<name>/relever")
def crawl_now(name: str):
    configured_source(name)
    get_catalog().crawl_requests.add(name, by=current_staff().email)
    return done("demande", name)
