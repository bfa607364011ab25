"""The browser softphone: ``/phone`` dials the hotline from a web page, offline, no Twilio.

Each call runs through the local phone (``ivr.phone``) on the server, calling this app's own
``/voice`` webhooks in-process exactly as ``ivr call`` does; the page is its keypad, screen and
loudspeaker. Routes (JSON unless noted):

- ``GET  /phone``: the page (HTML).
- ``POST /phone/calls``: dial (``Content-Type: application/json``); the call up to its first
  input point.
- ``GET  /phone/calls/<id>``: the call so far.
- ``POST /phone/calls/<id>/keys``: ``{"keys": "1"}`` answers the ``<Gather>``/``<Record>`` the
  call waits at: digits with ``*`` and ``#`` as the caller typed them, or ``"_"`` for silence
  (the page sends what a phone would when the Gather's timeout runs out).
- ``POST /phone/calls/<id>/say``: ``{"text": "查余额", "confidence": 0.9}`` speaks to the Gather
  the call waits at (SpeechResult/Confidence, as Twilio posts them for a speech Gather; a
  keys-only Gather hears nothing, and the phone warns).
- ``POST /phone/calls/<id>/hangup``: the caller hangs up.
- ``GET  /phone/calls/<id>/speech/<n>.wav``: the call's ``<Say>`` event ``n`` spoken by the
  local TTS (``audio/wav``, cached with the prompt audio's dynamic renders). ``<Play>`` prompts
  are fetched by the page from ``/audio/...`` directly.

The call id is a random token: whoever holds it drives the call; nothing else identifies it.
In production mode (TWILIO_AUTH_TOKEN set) every route answers only the admin token's holder
(``ivr.web.security.admin``); per client address, dials and keys per minute and calls going at
once are limited in the database (``ivr.web.security.limits``; 429 past them). Issue 16; the glue
is ``guard``. The calling number is made up from the browser's address (``guard.caller``).
``IVR_SOFTPHONE=false`` turns all of this off (404): this package is then never imported.

The package: ``routes`` (this blueprint: routes only), ``calls`` (``Softphone``: places and
carries on calls through the local phone, masking what is saved), ``store`` (the calls between
requests, one request at a time), ``view`` (what the page sees), ``audio_cache``, ``guard``.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file, url_for

from ivr.phone.errors import PhoneError
from ivr.web.security.errors import json_error
from ivr.web.security.headers import protect
from ivr.web.softphone import guard
from ivr.web.softphone.calls import Softphone
from ivr.web.softphone.store import CallBusy, CallNotFound, TooManyCalls
from ivr.web.softphone.view import call_view, number

log = logging.getLogger("ivr.softphone")
bp = Blueprint("phone_page", __name__)   # the name templates and the page's script know it by

KEYS_RE = re.compile(r"^(?:[0-9*#]{1,64}|_)$")
MAX_SPEECH = 200               # characters the "Say…" box may send
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")

protect(bp, csp=CSP, referrer="same-origin", no_store="json")
bp.before_request(guard.admin_only_in_production)


def init_app(app) -> None:
    app.extensions["ivr_softphone"] = Softphone(app)


def _softphone() -> Softphone:
    return current_app.extensions["ivr_softphone"]


def _view(softphone: Softphone, call_id: str, data: dict, since: int = 0) -> dict:
    return call_view(call_id, data, since, origin=lambda: softphone.origin)


@bp.get("/phone")
def page():
    return render_template("phone.html")


@bp.post("/phone/calls")
def dial():
    if not request.is_json:  # a JSON body needs a CORS preflight: other sites cannot dial for you
        return json_error(415, "send Content-Type: application/json")
    limited = guard.limited("dials", "SOFTPHONE_DIALS_PER_MINUTE")
    if limited is not None:
        return limited
    softphone = _softphone()
    cap = int(current_app.config.get("SOFTPHONE_MAX_CALLS"))
    try:
        call_id, data = softphone.dial(guard.caller(), guard.client(), cap)
    except TooManyCalls:
        return json_error(429, f"this address already has {cap} calls going (IVR_SOFTPHONE_MAX_CALLS): "
                           f"hang one up first")
    except PhoneError as exc:
        log.warning("browser call could not be placed: %s", exc)
        return json_error(502, f"the call could not be placed: {exc}")
    response = jsonify(_view(softphone, call_id, data))
    response.status_code = 201
    response.headers["Location"] = url_for("phone_page.show", call_id=call_id)
    return response


@bp.get("/phone/calls/<call_id>")
def show(call_id: str):
    softphone = _softphone()
    try:
        row = softphone.get(call_id)
    except CallNotFound:
        return json_error(404, "no such call (it may have ended a while ago)")
    if "events" not in row.snapshot:   # still being dialled
        return json_error(409, "the call is still being dialled; try again")
    return jsonify(_view(softphone, call_id, row.snapshot, number(request.args.get("since"), 0)))


def _step(call_id: str, action):
    from ivr.phone.snapshot import SnapshotError

    softphone = _softphone()
    try:
        data, before = action(softphone)
    except CallNotFound:
        return json_error(404, "no such call (it may have ended a while ago)")
    except CallBusy:
        return json_error(409, "the call is busy with another request; try again")
    except SnapshotError as exc:
        log.error("browser call %s cannot carry on: %s", call_id, exc)
        return json_error(500, "this call cannot carry on; please dial again")
    except PhoneError as exc:
        return json_error(400, str(exc))
    return jsonify(_view(softphone, call_id, data, before))


@bp.post("/phone/calls/<call_id>/keys")
def keys(call_id: str):
    body = request.get_json(silent=True) or {}
    pressed = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(pressed, str) or not KEYS_RE.match(pressed):
        return json_error(400, 'keys must be 1 to 64 of 0-9 * #, or "_" for silence')
    limited = guard.limited("keys", "SOFTPHONE_KEYS_PER_MINUTE")
    if limited is not None:
        return limited
    return _step(call_id, lambda softphone: softphone.press(call_id, pressed))


@bp.post("/phone/calls/<call_id>/say")
def say(call_id: str):
    body = request.get_json(silent=True) or {}
    text = body.get("text") if isinstance(body, dict) else None
    confidence = body.get("confidence") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_SPEECH or not text.isprintable():
        return json_error(400, f"text must be 1 to {MAX_SPEECH} printable characters: what the caller says")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
                                   or not 0 <= confidence <= 1):
        return json_error(400, "confidence must be a number from 0 to 1")
    return _step(call_id, lambda softphone: softphone.say(call_id, text.strip(), confidence))


@bp.post("/phone/calls/<call_id>/hangup")
def hangup(call_id: str):
    # Any body and content type: the page hangs up with navigator.sendBeacon when it is closed.
    return _step(call_id, lambda softphone: softphone.hangup(call_id))


@bp.get("/phone/calls/<call_id>/speech/<int:n>.wav")
def speech(call_id: str, n: int):
    try:
        row = _softphone().get(call_id)
    except CallNotFound:
        abort(404)
    events = row.snapshot["events"]
    if n >= len(events) or events[n]["verb"] != "Say" or not (events[n].get("text") or "").strip():
        abort(404)
    text = events[n]["text"]
    from ivr.phone.voice import tts_language

    lang = tts_language(events[n].get("language") or "en-US")
    library = current_app.extensions.get("ivr_audio")
    try:
        if library is not None:
            found = library.store.ensure_dynamic(lang, "say", text)
            response = send_file(found.filename, mimetype="audio/wav", etag=found.etag, conditional=True,
                                 max_age=24 * 3600)
        else:
            from io import BytesIO

            from ivr.tts import synthesize

            response = send_file(BytesIO(synthesize(text, lang)), mimetype="audio/wav", max_age=24 * 3600)
    except Exception as exc:  # noqa: BLE001 - no TTS here: the page shows the text without sound
        log.error("speech for browser call %s, event %d unavailable: %s", call_id, n, exc)
        abort(503)
    response.cache_control.private = True
    response.cache_control.public = False
    return response
