"""Twilio voice webhooks. Each one loads the call's state, asks the engine, saves, renders TwiML.

No webhook answers with a 5xx: whatever fails, the caller hears an apology in their language and
the call ends; the log line carries the CallSid and the reason.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from functools import wraps
from urllib.parse import urljoin

from flask import Blueprint, Response, current_app, g, request, url_for
from sqlalchemy.orm import Session

from ivr.hotline.calls import parse_now, valid_sid
from ivr.engine import CallEnv, Reply
from ivr.logs import log_webhook
from ivr.web.security import describe_error
from ivr.web.twiml import Renderer

bp = Blueprint("voice", __name__, url_prefix="/voice")

MAX_SECONDS = 24 * 3600      # no call or recording lasts longer; anything else is junk
CALL_STATUSES = frozenset({"queued", "ringing", "in-progress", "completed", "busy", "failed",
                           "no-answer", "canceled"})


def _seconds(text: str | None) -> int | None:
    """A duration as Twilio sends it (whole seconds), or None when it is not 0..MAX_SECONDS."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        return None
    value = int(text)
    return value if value <= MAX_SECONDS else None


def _recording_url(text: str | None) -> str:
    """Twilio's RecordingUrl, or "" for anything that is not a plain http(s) URL."""
    text = text or ""
    ok = text.startswith(("https://", "http://")) and len(text) <= 2000 and text.isprintable() \
        and " " not in text
    return text if ok else ""


def _log_sid(sid: str) -> str:
    """The CallSid for a log line: a malformed one is not copied into the log."""
    return sid if valid_sid(sid) else "-"


def _printable(text: str, limit: int) -> str:
    return repr(text[:limit])[1:-1]


def _hotline():
    return current_app.extensions["ivr_hotline"]


def _engine():
    """The engine of the menu version this webhook's call runs on (set by ``webhook``)."""
    return g.ivr_flow.engine


def _new_call(sid: str, *, at_top: bool = False):
    """A new call, on the current menu version, pinned to it in its state."""
    flow = g.ivr_flow = _hotline().versions.current()
    state = flow.engine.new_call(sid, at_top=at_top)
    state.version = flow.id
    return state


def _absolute(path: str) -> str:
    base = current_app.config.get("PUBLIC_URL")
    return urljoin(base.rstrip("/") + "/", path.lstrip("/")) if base else path


def _audio_url(speak, render: bool) -> str | None:
    library = current_app.extensions.get("ivr_audio")
    if library is None:
        return None
    path = library.audio_path(speak.language, speak.prompt, speak.text, dynamic=speak.dynamic, render=render)
    return _absolute(path) if path else None


def _url(endpoint: str) -> str:
    """``_absolute(url_for(endpoint))``, remembered per app, mount point and PUBLIC_URL."""
    cache = current_app.extensions.setdefault("ivr_webhook_urls", {})
    key = (endpoint, request.script_root, current_app.config.get("PUBLIC_URL"))
    url = cache.get(key)
    if url is None:
        if len(cache) > 256:   # mount points come from the request (X-Forwarded-Prefix): stay bounded
            cache.clear()
        url = cache[key] = _absolute(url_for(endpoint))
    return url


def renderer(mode: str | None = None) -> Renderer:
    cfg = current_app.config
    return Renderer(url=_url, voices=cfg["SAY_VOICES"], mode=mode or cfg["VOICE_MODE"], audio=_audio_url,
                    say_languages=cfg.get("SAY_LANGUAGES"))


def twiml(xml: str) -> Response:
    return Response(xml, status=200, mimetype="text/xml")


def call_env() -> CallEnv:
    from ivr.tts.readout import hours_text

    from ivr.web.test_clock import now_setting

    # The services work on the webhook's own connection (one pooled connection per webhook).
    return CallEnv(now=parse_now(now_setting()), services=_hotline().services.on(g.get("ivr_conn")),
                   caller=request.values.get("From"), hours_text=hours_text)


class _LazySession:
    """The handlers' ORM session, made on first use, on the webhook's connection and inside its
    transaction (most webhooks never use it, and a Session costs as much as the state read)."""

    __slots__ = ("_conn", "_session")

    def __init__(self, conn):
        self._conn = conn
        self._session = None

    def __getattr__(self, name):
        if self._session is None:
            self._session = Session(bind=self._conn)
        return getattr(self._session, name)

    def flush(self) -> None:
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


@contextmanager
def _webhook_transaction(hotline):
    """What ``hotline.transaction()`` gives, for the hot path: one transaction on one connection,
    committed when the block succeeds and rolled back when it raises; yields (connection, session).
    The account service works on this connection too (``call_env``); a write of its commits the
    transaction so far and begins the next (see ivr.accounts.service). On PostgreSQL the connection
    runs in autocommit: each statement is its own transaction, the save durable when it returns."""
    with hotline.db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":   # load and save one round trip each: no BEGIN, no COMMIT
            conn.execution_options(isolation_level="AUTOCOMMIT")   # (docs/benchmarks.md, round 3)
        conn.begin()
        session = _LazySession(conn)
        g.ivr_conn = conn
        try:
            yield conn, session
            conn.commit()
        finally:
            g.ivr_conn = None
            session.close()   # an uncommitted transaction is rolled back when the connection closes


def webhook(handler):
    """Wrap a handler(session, state, form) -> (reply, state) in load/save, logging and apology."""

    @wraps(handler)
    def view():
        started = time.perf_counter()
        hotline = _hotline()
        form = request.values
        sid = form.get("CallSid", "")
        state = None
        try:
            if not valid_sid(sid):
                raise ValueError("missing or malformed CallSid")
            hotline.versions.current()   # its periodic check, before this webhook holds a connection
            with _webhook_transaction(hotline) as (conn, session):
                state = hotline.calls.load(conn, sid)
                g.ivr_flow = hotline.versions.for_call(state.version if state else None)
                reply, state = handler(session, state, form)
                session.flush()   # the handler's ORM work (a voicemail) first, as autoflush did
                hotline.calls.save(conn, state, caller=form.get("From"))
            xml = renderer().render(reply)
            log_webhook(logging.INFO, "webhook", call=sid, route=request.path, menu=reply.menu,
                        outcome=reply.outcome, ms=round((time.perf_counter() - started) * 1000, 1))
            response = twiml(xml)
            if getattr(reply.end, "sensitive", False):  # local phones mask what is typed here
                response.headers["X-IVR-Sensitive-Input"] = "1"
            return response
        except Exception as exc:
            log_webhook(logging.ERROR, "webhook failed", call=_log_sid(sid), route=request.path,
                        error=describe_error(exc), ms=round((time.perf_counter() - started) * 1000, 1))
            current_app.logger.debug("webhook failure", exc_info=True)
            return twiml(renderer("say").render(_apology(hotline, sid, state)))

    return view


def _apology(hotline, sid: str, state) -> Reply:
    language = state.language if state else None
    if language is None and valid_sid(sid):
        try:
            with hotline.transaction() as session:
                known = hotline.calls.load(session, sid)
                language = known.language if known else None
                if known:
                    hotline.calls.record_error(session, sid, "webhook")
        except Exception:   # the database may be what failed
            language = None
    return hotline.engine.apology(language or None)   # None: unknown, in every language


def _known_or_top(state, sid: str):
    """A webhook for a call we do not know starts that caller at the main menu."""
    if state is not None:
        return state, None
    state = _new_call(sid, at_top=True)
    return state, _engine().start(state, call_env())


@bp.route("", methods=["POST", "GET"], endpoint="incoming")
@webhook
def incoming(session, state, form):
    state = _new_call(form["CallSid"])
    return _engine().start(state, call_env()), state


@bp.route("/input", methods=["POST", "GET"], endpoint="input")
@webhook
def gathered(session, state, form):
    state, reply = _known_or_top(state, form["CallSid"])
    if reply is None:
        said = form.get("SpeechResult", "")
        engine = _engine()
        if not form.get("Digits") and said.strip():
            from ivr.engine.speech import confidence

            reply = engine.on_speech(state, said, confidence(form.get("Confidence")), call_env())
        else:
            reply = engine.on_digits(state, form.get("Digits", ""), call_env())
    return reply, state


@bp.route("/timeout", methods=["POST", "GET"], endpoint="timeout")
@webhook
def timed_out(session, state, form):
    state, reply = _known_or_top(state, form["CallSid"])
    if reply is None:
        reply = _engine().on_timeout(state, call_env())
    return reply, state


@bp.route("/dial-status", methods=["POST", "GET"], endpoint="dial_status")
@webhook
def dial_status(session, state, form):
    state, reply = _known_or_top(state, form["CallSid"])
    if reply is None:
        status = form.get("DialCallStatus") or form.get("QueueResult") or "failed"
        reply = _engine().on_dial_result(state, status, call_env())
    return reply, state


@bp.route("/recorded", methods=["POST", "GET"], endpoint="recorded")
@webhook
def recorded(session, state, form):
    state, reply = _known_or_top(state, form["CallSid"])
    if reply is None:
        duration = _seconds(form.get("RecordingDuration")) or 0
        url = _recording_url(form.get("RecordingUrl"))
        if duration > 0 and url:
            _hotline().calls.add_voicemail(session, state.call_sid, url, duration)
        reply = _engine().on_recording(state, duration if url else 0, call_env())
    return reply, state


@bp.route("/hold", methods=["POST", "GET"], endpoint="hold")
def hold():
    """Twilio's waitUrl for callers in the agent queue: a hold message, then a pause (it loops)."""
    started = time.perf_counter()
    hotline = _hotline()
    language = hotline.engine.model.default_language
    sid = ""
    try:
        sid = request.values.get("CallSid", "")
        if valid_sid(sid):
            with hotline.transaction() as session:
                state = hotline.calls.load(session, sid)
                language = state.language if state else language
        r = renderer()
        from twilio.twiml.voice_response import VoiceResponse

        response = VoiceResponse()
        for s in hotline.engine.hold(language):
            r.speak(response, s)
        response.pause(length=15)
        log_webhook(logging.INFO, "webhook", call=_log_sid(sid), route=request.path, menu="hold",
                    outcome="hold", ms=round((time.perf_counter() - started) * 1000, 1))
        return twiml(str(response))
    except Exception as exc:
        log_webhook(logging.ERROR, "hold failed", call=_log_sid(sid), route=request.path,
                    error=describe_error(exc))
        from twilio.twiml.voice_response import VoiceResponse

        response = VoiceResponse()
        response.pause(length=15)
        return twiml(str(response))


@bp.route("/status", methods=["POST", "GET"], endpoint="status")
def status_callback():
    """Twilio's status callback: completes the call record with its duration."""
    started = time.perf_counter()
    hotline = _hotline()
    sid = request.values.get("CallSid", "")
    duration = _seconds(request.values.get("CallDuration"))
    status = request.values.get("CallStatus", "")
    status = status if status in CALL_STATUSES else None
    # Progress events (initiated, ringing, answered: a number may ask for them) do not end the call.
    progress = request.values.get("CallStatus", "") in ("initiated", "queued", "ringing", "in-progress")
    try:
        if valid_sid(sid) and not progress:
            with hotline.transaction() as session:
                hotline.calls.complete(session, sid, duration, status)
        log_webhook(logging.INFO, "webhook", call=_log_sid(sid), route=request.path, menu="-",
                    outcome=f"status:{status or '-'}", ms=round((time.perf_counter() - started) * 1000, 1))
    except Exception as exc:
        log_webhook(logging.ERROR, "status callback failed", call=_log_sid(sid), route=request.path,
                    error=describe_error(exc))
    from twilio.twiml.voice_response import VoiceResponse

    return twiml(str(VoiceResponse()))


@bp.route("/fallback", methods=["POST", "GET"], endpoint="fallback")
def fallback():
    """Twilio's fallback URL: the primary webhook failed; apologise and note the error code."""
    hotline = _hotline()
    sid = request.values.get("CallSid", "")
    code = "".join(c for c in request.values.get("ErrorCode", "") if c.isascii() and c.isalnum())[:16] or "unknown"
    language = None
    try:
        if valid_sid(sid):
            with hotline.transaction() as session:
                state = hotline.calls.load(session, sid)
                language = state.language if state else None
                hotline.calls.record_error(session, sid, code)
    except Exception as exc:
        log_webhook(logging.ERROR, "fallback could not record", call=_log_sid(sid), route=request.path,
                    error=describe_error(exc))
    log_webhook(logging.WARNING, "fallback", call=_log_sid(sid), route=request.path, error_code=code,
                error_url=_printable(request.values.get("ErrorUrl", ""), 200))
    reply = hotline.engine.apology(language or None)
    return twiml(renderer("say").render(reply))
