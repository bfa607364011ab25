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
from collections import Counter
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for)
from markupsafe import Markup
from sqlalchemy import func, or_, select
from werkzeug.exceptions import BadRequest, TooManyRequests

from ivr.accounts.idnumber import mask_id
from ivr.accounts.models import Account, CallerFailure, UnknownIdFailure
from ivr.hotline.calls import mask_phone, parse_now
from ivr.hotline.flow_versions import version_rows
from ivr.hotline.models import Call
from ivr.web import admin

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
STATS_CALLS = 1000            # per-menu counts cover this many latest calls
OUTCOMES = ("success", "invalid", "timeout", "transfer",
            # speech menus (issue 15): options said and matched, said and not matched, and
            # low-confidence matches the caller was asked to confirm
            "speech_match", "speech_nomatch", "speech_confirm")
OUTCOME_LABELS = {
    None: "in progress", "completed": "completed", "agent": "agent", "voicemail": "voicemail",
    "timeout": "timeout hang-up", "error": "error", "loop_guard": "loop guard", "abandoned": "caller hung up",
    "busy": "busy", "failed": "failed", "no-answer": "no answer", "canceled": "canceled",
}
MASK = "•"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


# -- access (ivr.web.admin: token, sign-in throttle, CSRF) -----------------------------------------
def _refused(status: int, error: str | None = None, retry_after: int | None = None):
    response = Response(render_template("dashboard_login.html", disabled=status == 403, error=error), status=status,
                        mimetype="text/html")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ivr dashboard"'
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _attempt(given: str | None):
    """None when ``given`` is the token, else the refusal (401, or 429 while backing off)."""
    try:
        if admin.try_token(given):
            return None
    except TooManyRequests as exc:
        return _refused(429, exc.description, exc.retry_after)
    return _refused(401, "That token is not right.")


@bp.before_request
def _guard():
    token = admin.token()
    if token is None:
        return _refused(403)
    if request.endpoint in ("dashboard.login", "dashboard.logout"):
        return None
    given = request.args.get("token")
    if given is not None:
        refused = _attempt(given)
        if refused is not None:
            return refused
        args = {k: v for k, v in request.args.items() if k != "token"}
        return admin.set_cookie(redirect(url_for(request.endpoint, **(request.view_args or {}), **args)), token)
    try:
        if admin.is_admin():   # a bearer token counts like a sign-in
            return None
    except TooManyRequests as exc:
        return _refused(429, exc.description, exc.retry_after)
    return _refused(401, "That token is not right." if admin.bearer() is not None else None)


@bp.after_request
def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/login")
def login():
    try:
        admin.check_csrf()
    except BadRequest as exc:
        return _refused(400, exc.description)
    refused = _attempt(request.form.get("token", ""))
    if refused is not None:
        return refused
    return admin.set_cookie(redirect(url_for("dashboard.home"), code=303), admin.token())


@bp.post("/logout")
def logout():
    try:
        admin.check_csrf()
    except BadRequest as exc:
        return _refused(400, exc.description)
    return admin.delete_cookie(redirect(url_for("dashboard.home"), code=303))


# -- data ----------------------------------------------------------------------------------------
def mask_keys(keys) -> list[str]:
    """Keys as logged; anything longer than one key (an ID number, a password) as dots."""
    out = []
    for entry in keys or []:
        entry = str(entry)
        out.append(MASK * len(entry) if len(entry) > 1 and any(c.isdigit() for c in entry) else entry)
    return out


def mask_heard(heard) -> list[dict]:
    """What callers said, as the engine logged it (sensitive places already dots); a number read
    out is masked again here, in case a row was written by something else."""
    from ivr.engine.speech import spoken_digits

    out = []
    for entry in (heard or [])[:200]:
        if not isinstance(entry, dict):
            continue
        said = str(entry.get("said", ""))[:80]
        digits = spoken_digits(said, allow_x=True)
        if (digits and len(digits) > 1) or sum(c.isdigit() for c in said) > 1:
            said = MASK * len(said)
        out.append({"menu": str(entry.get("menu", "")), "said": said, "result": str(entry.get("result", "")),
                    "confidence": entry.get("confidence") if isinstance(entry.get("confidence"), (int, float)) else None})
    return out


def _masked_id(value) -> str:
    value = str(value or "")
    return mask_id(value) if value else ""


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def call_row(call: Call) -> dict:
    state = call.state or {}
    started, ended = _aware(call.started_at), _aware(call.ended_at)
    duration, measured = call.duration, "twilio"
    if duration is None and ended is not None and started is not None:
        duration, measured = max(0, round((ended - started).total_seconds())), "log"
    return {
        "call_sid": call.call_sid,
        "started_at": started.isoformat() if started else None,
        "ended_at": ended.isoformat() if ended else None,
        "caller": mask_phone(call.caller),
        "language": call.language,
        "path": [str(m) for m in state.get("path", [])],
        "keys": mask_keys(state.get("keys")),
        "said": mask_heard(state.get("heard")),
        "outcome": call.outcome,
        "outcome_label": OUTCOME_LABELS.get(call.outcome, call.outcome),
        "duration": duration,
        "duration_from": measured if duration is not None else None,
        "masked_id": _masked_id((state.get("data") or {}).get("masked_id")),
        "error_code": call.error_code,
        "steps": call.steps,
        "menu_version": call.menu_version or "",
    }


def recent_calls(session, limit: int) -> list[dict]:
    rows = session.execute(select(Call).order_by(Call.started_at.desc(), Call.call_sid).limit(limit)).scalars()
    return [call_row(c) for c in rows]


def menu_counts(session, menus: list[str]) -> tuple[dict[str, dict[str, int]], int]:
    """Per-menu success/invalid/timeout/transfer totals over the latest STATS_CALLS calls."""
    totals = {m: dict.fromkeys(OUTCOMES, 0) for m in menus}
    states = session.execute(select(Call.state).order_by(Call.started_at.desc()).limit(STATS_CALLS)).scalars().all()
    for state in states:
        for menu, counts in ((state or {}).get("stats") or {}).items():
            row = totals.setdefault(str(menu), dict.fromkeys(OUTCOMES, 0))
            for name in OUTCOMES:
                value = (counts or {}).get(name, 0)
                row[name] += value if isinstance(value, int) else 0
    return totals, len(states)


def outcome_totals(session) -> Counter:
    rows = session.execute(select(Call.outcome, func.count()).group_by(Call.outcome)).all()
    return Counter({OUTCOME_LABELS.get(outcome, outcome): n for outcome, n in rows})


def account_security(session, now: dt.datetime, config) -> dict:
    accounts = session.execute(
        select(Account.id_number, Account.failed_attempts, Account.locked_until, Account.card_status)
        .where(or_(Account.failed_attempts > 0, Account.locked_until > now))
        .order_by(Account.locked_until.desc().nulls_last(), Account.failed_attempts.desc())).all()
    listed = [{"masked_id": mask_id(r.id_number), "failed_attempts": r.failed_attempts,
               "locked_until": r.locked_until.isoformat() if r.locked_until and r.locked_until > now else None,
               "card_status": r.card_status} for r in accounts]
    unknown_failing = session.scalar(select(func.count()).select_from(UnknownIdFailure)
                                     .where(UnknownIdFailure.failed_attempts > 0)) or 0
    unknown_locked = session.scalar(select(func.count()).select_from(UnknownIdFailure)
                                    .where(UnknownIdFailure.locked_until > now)) or 0
    window = dt.timedelta(minutes=float(config.get("CALLER_WINDOW_MINUTES", 60)))
    limit = int(config.get("CALLER_MAX_FAILURES", 10))
    live = select(CallerFailure.failures).where(CallerFailure.window_start > now - window)
    failures = session.execute(live).scalars().all()
    return {
        "accounts": listed,
        "accounts_locked": sum(1 for a in listed if a["locked_until"]),
        "accounts_failing": len(listed),
        "unknown_ids_failing": unknown_failing,
        "unknown_ids_locked": unknown_locked,
        "callers_failing": len(failures),
        "callers_limited": sum(1 for f in failures if f >= limit),
        "caller_limit": limit,
        "caller_window_minutes": int(window.total_seconds() // 60),
    }


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
    with hotline.db.Session() as session:
        calls = recent_calls(session, limit)
        counts, counted = menu_counts(session, list(model.menus))
        outcomes = outcome_totals(session)
        security = account_security(session, now, current_app.config)
        total = session.scalar(select(func.count()).select_from(Call)) or 0
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
        outcome_names=OUTCOMES, versions=versions)


@bp.get("/calls.json")
def calls_json():
    hotline = current_app.extensions["ivr_hotline"]
    with hotline.db.Session() as session:
        calls = recent_calls(session, _limit())
        versions = version_rows(session, hotline.versions.current().id)
    return jsonify(calls=calls, versions=versions)


@bp.get("/menu.svg")
def menu_svg():
    svg, _ = diagram()
    return Response(svg, mimetype="image/svg+xml")
