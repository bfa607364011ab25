"""Twilio voice webhooks. Each one loads the call's state, asks the engine, saves, renders TwiML.

No webhook answers with a 5xx: whatever fails, the caller hears an apology in their language and
the call ends; the log line carries the CallSid and the reason.
"""
from __future__ import annotations

import functools
import logging
import time
from contextlib import contextmanager
from functools import wraps

from flask import Blueprint, current_app
from sqlalchemy.orm import Session

from ivr.hotline.calls import parse_now, valid_sid
from ivr.accounts.sql import commit_open
from ivr.engine import CallEnv
from ivr.logs import log_webhook
from ivr.tts.readout import hours_text
from ivr.web.incoming import current_request
from ivr.web.reply import (apology, apology_twiml, describe_error, last_resort_apology, printable, renderer,
                           twiml)

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


def _hotline():
    return current_app.extensions["ivr_hotline"]


class Webhook:
    """One call webhook being answered, apart from Flask: what its handler reads (the form, the
    call's state, its menu version, the webhook's connection) and what the apology needs when
    something fails (the call as far as it was loaded)."""

    __slots__ = ("hotline", "sid", "form", "now", "conn", "session", "state", "flow")

    def __init__(self, hotline, sid: str, form, now):
        self.hotline = hotline
        self.sid = sid
        self.form = form
        self.now = now
        self.conn = self.session = self.state = self.flow = None

    @property
    def engine(self):
        """The engine of the menu version this call runs on."""
        return self.flow.engine

    def env(self) -> CallEnv:
        # The services work on the webhook's own connection (one pooled connection per webhook).
        return CallEnv(now=self.now, services=self.hotline.services.on(self.conn), caller=self.form.get("From"),
                       hours_text=hours_text)

    def new_call(self, *, at_top: bool = False):
        """A new call, on the current menu version, pinned to it in its state."""
        flow = self.flow = self.hotline.versions.current()
        state = flow.engine.new_call(self.sid, at_top=at_top)
        state.version = flow.id
        return state


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
def _webhook_transaction(hotline, first):
    """What ``hotline.transaction()`` gives, for the hot path: one transaction on one connection,
    committed when the block succeeds and rolled back when it raises; yields (connection, session,
    what ``first(conn)`` returned: the webhook's first statements, which on a kept connection to a
    database server stand in for the pool's pre-ping, ``Database.connection``).
    The account service works on this connection too (``Webhook.env``); a write of its commits the
    transaction so far and begins the next (see ivr.accounts.service). On PostgreSQL the connection
    runs in autocommit: each statement is its own transaction, the save durable when it returns."""
    def begin_then_first(conn):
        # PostgreSQL: load and save one round trip each, no BEGIN, no COMMIT (docs/benchmarks.md,
        # round 3); set once per connection, which stays open between webhooks.
        dialect = conn.dialect.name
        if dialect == "postgresql" and conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        # SQLite: no SQLAlchemy transaction object around the webhook (its begin and commit were
        # a few percent of a navigation webhook, round 10). The load and the save run on the
        # cursor, the save commits itself, and whatever else writes opens the driver's own
        # transaction, committed below (ivr.accounts.sql.commit_open) or rolled back as the
        # connection goes back.
        if dialect != "sqlite":
            conn.begin()
        return first(conn)

    with hotline.db.connection(begin_then_first) as (conn, result):
        session = _LazySession(conn)
        try:
            yield conn, session, result
            commit_open(conn)
        finally:
            session.close()   # an uncommitted transaction is rolled back as the connection goes back


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def logged(failure: str, recover, *, message: str = "webhook", level: int = logging.INFO):
    """Time a route and log it, one line per request: ``view(sid)`` returns (response, fields),
    logged as ``message`` with the CallSid, the route, ``fields`` and the milliseconds taken. If it
    raises, the ERROR line ``failure`` names the reason (never its details: ``describe_error``) and
    the caller gets ``recover(sid)``. The form is read before: a request that cannot be read is
    the error handlers' (``ivr.web.security``)."""

    def wrap(view):
        @wraps(view)
        def timed():
            req = current_request()
            sid = req.values.get("CallSid", "")
            return _timed(sid, req.path, lambda: view(sid), lambda: recover(sid), failure, message, level)

        return timed

    return wrap


def _timed(sid: str, path: str, work, recover, failure: str, message: str = "webhook", level: int = logging.INFO):
    """``work()`` -> (result, fields), timed and logged in one line (``logged``); if it raises,
    the ERROR line ``failure`` and ``recover()``'s result."""
    started = time.perf_counter()
    try:
        result, fields = work()
    except Exception as exc:
        log_webhook(logging.ERROR, failure, call=_log_sid(sid), route=path, error=describe_error(exc),
                    ms=_ms(started))
        current_app.logger.debug("%s", failure, exc_info=True)
        return recover()
    log_webhook(level, message, call=_log_sid(sid), route=path, **fields, ms=_ms(started))
    return result


def answer_call(w: Webhook, handler, new_call: bool):
    """Load the call, ask ``handler(w)`` for the reply, save: one transaction. With ``new_call``
    (the incoming call) a new call on the current menu version; otherwise the stored one, and a
    call this hotline does not know (its state lost, or a webhook of another app) starts at the
    top menu without asking the handler."""
    hotline = w.hotline
    if not valid_sid(w.sid):
        raise ValueError("missing or malformed CallSid")
    hotline.versions.current()   # its periodic check, before this webhook holds a connection
    load = lambda conn: hotline.calls.load(conn, w.sid)   # noqa: E731 - the first statement (see above)
    with _webhook_transaction(hotline, load) as (w.conn, w.session, w.state):
        known = w.state is not None and not new_call   # its row exists: saved by an UPDATE
        w.flow = hotline.versions.for_call(w.state.version if w.state else None)
        if new_call:
            w.state = w.new_call()
            reply = handler(w)
        elif w.state is None:   # not a call we know: it starts at the top menu
            w.state = w.new_call(at_top=True)
            reply = w.engine.start(w.state, w.env())
        else:
            reply = handler(w)
        w.session.flush()   # the handler's ORM work (a voicemail) first, as autoflush did
        hotline.calls.save(w.conn, w.state, caller=w.form.get("From"), known=known, commit=True)
    return reply


def respond(hotline, handler, new_call: bool, form, path: str, now) -> tuple[str, bool]:
    """A call webhook, whichever way it came in (Flask's view below or ``ivr.web.webhook_lane``):
    (TwiML, whether the caller is keying something sensitive). Timed and logged, one line; whatever
    fails, the apology in the caller's language (the ERROR line names the reason, never details)."""
    sid = form.get("CallSid", "")
    w = Webhook(hotline, sid, form, now)

    def work():
        reply = answer_call(w, handler, new_call)
        answer = (renderer().render(reply), bool(getattr(reply.end, "sensitive", False)))
        return answer, {"menu": reply.menu, "outcome": reply.outcome}

    def recover():
        return apology_twiml(_apology_language(hotline, sid, w.state)), False

    return _timed(sid, path, work, recover, "webhook failed")


SENSITIVE_HEADER = ("X-IVR-Sensitive-Input", "1")   # local phones mask what is typed here


def call_webhook(handler=None, *, new_call: bool = False):
    """Make a call handler ``handler(w: Webhook) -> Reply`` a Flask view (``respond``). The view
    carries the handler, so the webhook lane calls ``respond`` with it directly."""
    if handler is None:
        return lambda h: call_webhook(h, new_call=new_call)

    @wraps(handler)
    def view():
        from ivr.web.test_clock import now_setting

        req = current_request()
        xml, sensitive = respond(_hotline(), handler, new_call, req.values, req.path, parse_now(now_setting()))
        response = twiml(xml)
        if sensitive:
            response.headers[SENSITIVE_HEADER[0]] = SENSITIVE_HEADER[1]
        return response

    view.call_handler = (handler, new_call)
    return view


def _apology_language(hotline, sid: str, state) -> str | None:
    """The caller's language for the apology; None (every language) when it cannot be known."""
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
    return language or None


@bp.route("", methods=["POST", "GET"], endpoint="incoming")
@call_webhook(new_call=True)
def incoming(w: Webhook):
    return w.engine.start(w.state, w.env())


@bp.route("/input", methods=["POST", "GET"], endpoint="input")
@call_webhook
def gathered(w: Webhook):
    form = w.form
    said = form.get("SpeechResult", "")
    if not form.get("Digits") and said.strip():
        from ivr.engine.speech import confidence

        return w.engine.on_speech(w.state, said, confidence(form.get("Confidence")), w.env())
    return w.engine.on_digits(w.state, form.get("Digits", ""), w.env())


@bp.route("/timeout", methods=["POST", "GET"], endpoint="timeout")
@call_webhook
def timed_out(w: Webhook):
    return w.engine.on_timeout(w.state, w.env())


@bp.route("/dial-status", methods=["POST", "GET"], endpoint="dial_status")
@call_webhook
def dial_status(w: Webhook):
    status = w.form.get("DialCallStatus") or w.form.get("QueueResult") or "failed"
    return w.engine.on_dial_result(w.state, status, w.env())


@bp.route("/recorded", methods=["POST", "GET"], endpoint="recorded")
@call_webhook
def recorded(w: Webhook):
    duration = _seconds(w.form.get("RecordingDuration")) or 0
    url = _recording_url(w.form.get("RecordingUrl"))
    if duration > 0 and url:
        w.hotline.calls.add_voicemail(w.session, w.state.call_sid, url, duration)
    return w.engine.on_recording(w.state, duration if url else 0, w.env())


def _pause():
    """What a caller on hold hears when the hold message cannot be made: 15 s of quiet (it loops)."""
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.pause(length=15)
    return twiml(str(response))


@functools.lru_cache(maxsize=1)
def _empty_twiml() -> str:
    from twilio.twiml.voice_response import VoiceResponse

    return str(VoiceResponse())


def _empty(sid: str = ""):
    return twiml(_empty_twiml())


@bp.route("/hold", methods=["POST", "GET"], endpoint="hold")
@logged("hold failed", lambda sid: _pause())
def hold(sid: str):
    """Twilio's waitUrl for callers in the agent queue: a hold message, then a pause (it loops)."""
    hotline = _hotline()
    language = hotline.engine.model.default_language
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
    return twiml(str(response)), {"menu": "hold", "outcome": "hold"}


@bp.route("/status", methods=["POST", "GET"], endpoint="status")
@logged("status callback failed", _empty)
def status_callback(sid: str):
    """Twilio's status callback: completes the call record with its duration."""
    duration = _seconds(current_request().values.get("CallDuration"))
    status = current_request().values.get("CallStatus", "")
    status = status if status in CALL_STATUSES else None
    # Progress events (initiated, ringing, answered: a number may ask for them) do not end the call.
    progress = current_request().values.get("CallStatus", "") in ("initiated", "queued", "ringing", "in-progress")
    if valid_sid(sid) and not progress:   # on the webhook's connection, as the call webhooks (no ORM)
        hotline = _hotline()   # complete() changes only a call it knows, keeps its outcome: safe to run again
        with _webhook_transaction(hotline, lambda conn: hotline.calls.complete(conn, sid, duration, status)):
            pass
    return _empty(), {"menu": "-", "outcome": f"status:{status or '-'}"}


@bp.route("/fallback", methods=["POST", "GET"], endpoint="fallback")
@logged("fallback failed", lambda sid: last_resort_apology(), message="fallback", level=logging.WARNING)
def fallback(sid: str):
    """Twilio's fallback URL: the primary webhook failed; apologise and note the error code."""
    hotline = _hotline()
    code = "".join(c for c in current_request().values.get("ErrorCode", "") if c.isascii() and c.isalnum())[:16] or "unknown"
    language = None
    try:
        if valid_sid(sid):
            with hotline.transaction() as session:
                state = hotline.calls.load(session, sid)
                language = state.language if state else None
                hotline.calls.record_error(session, sid, code)
    except Exception as exc:
        log_webhook(logging.ERROR, "fallback could not record", call=_log_sid(sid), route=current_request().path,
                    error=describe_error(exc))
    return apology(language or None), {"error_code": code,
                                       "error_url": printable(current_request().values.get("ErrorUrl", ""), 200)}
