"""``/dashboard``: the call flow diagram, the call log, per-menu outcomes, failed logins and locks.

Only for whoever holds ``IVR_ADMIN_TOKEN``. Without that setting the dashboard is off (403). With
it, a request needs the token, given in one of these ways (else 401):

- the header ``Authorization: Bearer <token>`` (scripts, ``curl``);
- the sign-in form at ``/dashboard`` (or ``/dashboard?token=<token>`` once), which sets an
  HttpOnly, SameSite=Strict cookie holding a keyed hash of the token (not the token) for 12 hours
  and drops the token from the address. Changing the token signs every browser out.

Routes: ``GET /dashboard`` (HTML), ``GET /dashboard/calls.json`` (the same call log as JSON),
``GET /dashboard/menu.svg`` (the diagram), ``POST /dashboard/login``, ``POST /dashboard/logout``.

Nothing unmasked leaves here: callers are masked by the webhooks (``+86138****5678``), keys of ID
numbers and passwords by the engine (``••••••``), and both are masked again before display in
case a row was written by something else. Accounts show their masked ID number only.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for)
from markupsafe import Markup
from werkzeug.exceptions import BadRequest

from ivr.hotline import reports
from ivr.hotline.calls import parse_now
from ivr.hotline.flow_versions import version_rows
from ivr.web.security import admin
from ivr.web.security.headers import protect

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


# -- access: ivr.web.security.admin (token, sign-in back-off, cookie, CSRF) ----------------------------
protect(bp, referrer="no-referrer")


def _refused(refusal: admin.Refusal):
    """The sign-in page for a refused request (403: the dashboard is off)."""
    response = Response(render_template("dashboard_login.html", disabled=refusal.status == 403, error=refusal.error),
                        status=refusal.status, mimetype="text/html")
    if refusal.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ivr dashboard"'
    if refusal.retry_after:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@bp.before_request
def _guard():
    if admin.token() is None:
        return _refused(admin.Refusal(403))
    if request.endpoint in ("dashboard.login", "dashboard.logout"):
        return None
    given = request.args.get("token")
    if given is not None:   # signs in, then drops the token from the address
        refused = admin.attempt(given)
        if refused is not None:
            return _refused(refused)
        args = {k: v for k, v in request.args.items() if k != "token"}
        return admin.set_cookie(redirect(url_for(request.endpoint, **(request.view_args or {}), **args)),
                                admin.token())
    refused = admin.check()
    return None if refused is None else _refused(refused)


def _forged() -> admin.Refusal | None:
    """None when the form carries this browser's CSRF token, else why not (400)."""
    try:
        admin.check_csrf()
    except BadRequest as exc:
        return admin.Refusal(400, exc.description)
    return None


@bp.post("/login")
def login():
    refused = _forged() or admin.attempt(request.form.get("token", ""))
    if refused is not None:
        return _refused(refused)
    return admin.set_cookie(redirect(url_for("dashboard.home"), code=303), admin.token())


@bp.post("/logout")
def logout():
    refused = _forged()
    if refused is not None:
        return _refused(refused)
    return admin.delete_cookie(redirect(url_for("dashboard.home"), code=303))


def _model():
    return current_app.extensions["ivr_hotline"].engine.model


def diagram() -> tuple[str, object]:
    """The SVG of the current menu version and its graph (drawn again when the version changes)."""
    from ivr.web import graph

    key = current_app.extensions.setdefault("ivr_dashboard_diagram", {})
    version = current_app.extensions["ivr_hotline"].versions.current().id
    if key.get("version") != version:
        key.clear()
        key["version"] = version
    if "svg" not in key:
        built = graph.build(_model())
        key["graph"] = built
        key["svg"] = graph.to_svg(built, id_prefix="flow-")
    return key["svg"], key["graph"]


def _limit() -> int:
    try:
        value = int(request.args.get("limit", DEFAULT_LIMIT))
    except ValueError:
        value = DEFAULT_LIMIT
    return min(max(value, 1), MAX_LIMIT)


def _local(iso: str | None, zone: ZoneInfo) -> str:
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


# -- routes --------------------------------------------------------------------------------------
@bp.get("", strict_slashes=False)
def home():
    hotline = current_app.extensions["ivr_hotline"]
    model = hotline.engine.model
    zone = ZoneInfo(model.agent.hours.timezone)
    now = parse_now(current_app.config.get("NOW"))
    limit = _limit()
    cfg = current_app.config
    with hotline.db.Session() as session:
        calls = reports.recent_calls(session, limit)
        counts, counted = reports.menu_counts(session, list(model.menus))
        outcomes = reports.outcome_totals(session)
        security = reports.account_security(
            session, now, caller_window_minutes=cfg.get("CALLER_WINDOW_MINUTES", 60),
            caller_max_failures=cfg.get("CALLER_MAX_FAILURES", 10))
        total = reports.call_count(session)
        versions = version_rows(session, hotline.versions.current().id)
    for version in versions:
        version["loaded_local"] = _local(version["loaded_at"], zone)
    for call in calls:
        call["started_local"] = _local(call["started_at"], zone)
        call["ended_local"] = _local(call["ended_at"], zone)
    for account in security["accounts"]:
        account["locked_local"] = _local(account["locked_until"], zone)
    svg, built = diagram()
    return render_template(
        "dashboard.html", calls=calls, limit=limit, total=total, counts=counts, counted=counted,
        outcomes=outcomes, security=security, svg=Markup(svg), graph=built, timezone=model.agent.hours.timezone,
        outcome_names=reports.OUTCOMES, versions=versions)


@bp.get("/calls.json")
def calls_json():
    hotline = current_app.extensions["ivr_hotline"]
    with hotline.db.Session() as session:
        calls = reports.recent_calls(session, _limit())
        versions = version_rows(session, hotline.versions.current().id)
    return jsonify(calls=calls, versions=versions)


@bp.get("/menu.svg")
def menu_svg():
    svg, _ = diagram()
    return Response(svg, mimetype="image/svg+xml")
