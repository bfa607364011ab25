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
once are limited in the database (``ivr.web.security.limits``; 429 past them). Issue 16.
The calling number is made up from the browser's address (see ``_caller``). ``IVR_SOFTPHONE=false``
turns all of this off (404).

Several server processes. A call's interpreter cannot stay in one process's memory between
requests that another process may answer, so after every request the call is saved in the
``phone_calls`` table (``ivr.phone.snapshot``: the call's events and the TwiML verbs it waits at)
and restored by whichever process gets the next request. Each request claims the row first (a
lock token with a time stamp), so two requests for one call never run it at once (409 instead).
The call runs on the wall clock (``ivr.phone.clock.WallClock``), so the page, the transcript and
the call log's duration (the status callback's CallDuration) all show the real time.

What is stored: keys of more than one digit (ID numbers, passwords) are masked before the call
is saved or sent to the page; one-key menu choices are kept. Ended calls are deleted after
``KEEP_SECONDS``; a call nobody touched for ``ABANDON_SECONDS`` is hung up (the hotline then
logs it as abandoned) when someone next dials.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file, url_for
from sqlalchemy import Boolean, Float, String, delete, inspect, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from ivr.hotline.models import PhoneCall
from ivr.phone.clock import WallClock
from ivr.phone.errors import PhoneError
from ivr.phone.transcript import describe

log = logging.getLogger("ivr.softphone")
bp = Blueprint("phone_page", __name__)

LOCK_STALE_SECONDS = 120       # a claim older than this belongs to a request that died
ABANDON_SECONDS = 30 * 60      # a call untouched this long is hung up
KEEP_SECONDS = 60 * 60         # ended calls are forgotten after this long
REAP_BATCH = 5
KEYS_RE = re.compile(r"^(?:[0-9*#]{1,64}|_)$")
MAX_SPEECH = 200               # characters the "Say…" box may send
AUDIO_CACHE_BYTES = 32 * 1024 * 1024
MASK = "•"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class CallNotFound(Exception):
    pass


class CallBusy(Exception):
    pass


class TooManyCalls(Exception):
    pass


class AudioCache:
    """The phone's cache of ``<Play>`` files, bounded (the phone's own keeps every file)."""

    def __init__(self, max_bytes: int = AUDIO_CACHE_BYTES):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[bytes, str | None]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, url: str):
        with self._lock:
            item = self._items.get(url)
            if item is not None:
                self._items.move_to_end(url)
            return item

    def put(self, url: str, data: bytes, text: str | None) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(url, None)
            if old is not None:
                self._size -= len(old[0])
            self._items[url] = (data, text)
            self._size += len(data)
            while self._size > self.max_bytes:
                _, (dropped, _) = self._items.popitem(last=False)
                self._size -= len(dropped)


def mask_entries(events: list[dict]) -> None:
    """Replace keys of multi-digit answers (ID numbers, passwords) with dots, in place."""
    for event in events:
        if event.get("verb") not in ("Gather", "Record"):
            continue
        for name in ("digits", "pressed", "dropped"):
            value = event.get(name)
            if isinstance(value, str) and len(value) > 1 and not set(value) <= {MASK}:
                event[name] = MASK * len(value)
        for name in ("speech", "ignored"):
            value = event.get(name)
            if isinstance(value, str) and _spoken_number(value):
                event[name] = MASK * len(value)


def _spoken_number(text: str) -> bool:
    """A number read out (an ID number, a password): masked like keys of more than one digit."""
    from ivr.engine.speech import spoken_digits

    text = re.sub(r"^say(?:@[0-9.]*)?:", "", text)   # an "ignored" field holds the caller's token
    digits = spoken_digits(text, allow_x=True)
    return (digits is not None and len(digits) > 1) or sum(c.isdigit() for c in text) > 1


class Softphone:
    """``app.extensions["ivr_softphone"]``: places, saves and carries on browser calls."""

    def __init__(self, app):
        self.app = app
        self.db = app.extensions["ivr_db"]
        try:
            PhoneCall.__table__.create(self.db.engine, checkfirst=True)
        except SQLAlchemyError:
            # Another process created it between the check and the CREATE: fine if it is there now.
            if not inspect(self.db.engine).has_table(PhoneCall.__tablename__):
                raise
        _add_client_column(self.db.engine)
        self._phone = None
        self._phone_lock = threading.Lock()

    @property
    def phone(self):
        # Built on first use: the local phone loads its audio stack (numpy, soundfile, soxr: some
        # 20 MB of RSS) that a worker answering only Twilio's webhooks never needs.
        if self._phone is None:
            with self._phone_lock:
                if self._phone is None:
                    from ivr.phone.targets import app_phone, in_process_url

                    phone = app_phone(self.app, status_callback=in_process_url(self.app, "/voice/status"))
                    phone.audio_cache = AudioCache()
                    self._phone_origin = _origin(phone.settings.url)
                    self._phone = phone
        return self._phone

    @property
    def origin(self) -> str:
        """Where the phone's app is served (Play URLs there are the hotline's own prompts)."""
        self.phone   # built on first use, with its origin
        return self._phone_origin

    # -- storage ---------------------------------------------------------------------------
    def get(self, call_id: str) -> PhoneCall:
        with self.db.Session() as s:
            row = s.get(PhoneCall, call_id)
        if row is None:
            raise CallNotFound(call_id)
        return row

    def _claim(self, call_id: str) -> tuple[str, PhoneCall]:
        token, now = secrets.token_hex(8), time.time()
        with self.db.Session() as s, s.begin():
            claimed = s.execute(
                update(PhoneCall)
                .where(PhoneCall.id == call_id,
                       or_(PhoneCall.lock.is_(None), PhoneCall.locked_at < now - LOCK_STALE_SECONDS))
                .values(lock=token, locked_at=now)).rowcount
            row = s.get(PhoneCall, call_id)
        if row is None:
            raise CallNotFound(call_id)
        if claimed != 1:
            raise CallBusy(call_id)
        return token, row

    def _release(self, call_id: str, token: str, data: dict | None = None) -> None:
        values: dict = {"lock": None, "locked_at": None}
        if data is not None:
            values.update(snapshot=data, ended=bool(data["ended"]), updated_at=time.time())
        with self.db.Session() as s, s.begin():
            s.execute(update(PhoneCall).where(PhoneCall.id == call_id, PhoneCall.lock == token).values(**values))

    # -- calls -----------------------------------------------------------------------------
    def dial(self, caller: str, client: str | None = None, max_calls: int | None = None) -> tuple[str, dict]:
        """Place a call; with ``max_calls``, refuse (TooManyCalls) while ``client`` has that many
        calls going. The call's row is reserved first, atomically, so concurrent dials cannot
        overshoot the cap; it stays claimed (busy) until the call reaches its first input point."""
        from ivr.phone.snapshot import settle

        self.reap()
        call_id = secrets.token_urlsafe(24)
        dialled_at = time.time()
        if not self._reserve(call_id, client, max_calls, dialled_at):
            raise TooManyCalls(client)
        try:
            call = self.phone.dial(caller=caller, clock=WallClock(dialled_at))
            settle(call)
            data = self._save(call)
        except BaseException:
            with self.db.engine.begin() as conn:
                conn.execute(delete(PhoneCall).where(PhoneCall.id == call_id))
            raise
        with self.db.engine.begin() as conn:
            conn.execute(update(PhoneCall).where(PhoneCall.id == call_id).values(
                call_sid=data["sid"], snapshot=data, ended=bool(data["ended"]), lock=None, locked_at=None,
                updated_at=time.time()))
        return call_id, data

    def _reserve(self, call_id: str, client: str | None, max_calls: int | None, now: float) -> bool:
        """INSERT the call's row only while the client has fewer than ``max_calls`` live calls: one
        statement (atomic on SQLite); PostgreSQL first takes a lock per client for the transaction."""
        from sqlalchemy import func, insert, literal, text

        values = {"id": call_id, "call_sid": "", "snapshot": {"pending": True}, "ended": False,
                  "lock": "dialling", "locked_at": now, "dialled_at": now, "updated_at": now, "client": client}
        with self.db.engine.begin() as conn:
            if max_calls is None or client is None:
                conn.execute(insert(PhoneCall).values(**values))
                return True
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(client[:15], 16)})
            live = (select(func.count()).select_from(PhoneCall)
                    .where(PhoneCall.client == client, PhoneCall.ended.is_(False),
                           PhoneCall.updated_at > now - ABANDON_SECONDS).scalar_subquery())
            cols = list(values)
            row = select(*[literal(values[c], PhoneCall.__table__.c[c].type).label(c) for c in cols]).where(
                live < max_calls)
            # RETURNING, not rowcount: psycopg reports -1 for INSERT .. SELECT
            return conn.execute(insert(PhoneCall).from_select(cols, row).returning(PhoneCall.id)).first() is not None

    def press(self, call_id: str, keys: str) -> tuple[dict, int]:
        return self._step(call_id, lambda call: call.press(keys))

    def say(self, call_id: str, text: str, confidence: float | None) -> tuple[dict, int]:
        return self._step(call_id, lambda call: call.say(text, confidence))

    def hangup(self, call_id: str) -> tuple[dict, int]:
        return self._step(call_id, lambda call: call.hangup())

    def _step(self, call_id: str, act) -> tuple[dict, int]:
        """Claim the call, restore it, act, let it run to its next input point, save it.
        Returns the saved data and how many events it had before."""
        from ivr.phone.snapshot import restore, settle

        token, row = self._claim(call_id)
        data = row.snapshot
        before = len(data["events"])
        if data["ended"]:
            self._release(call_id, token)
            return data, before
        try:
            # One clock, the wall's: the caller listened and thought for real (ivr.phone.clock).
            call = restore(self.phone, data, clock=WallClock(row.dialled_at))
            act(call)
            settle(call)
            data = self._save(call)
        except BaseException:
            self._release(call_id, token)
            raise
        self._release(call_id, token, data)
        return data, before

    def _save(self, call) -> dict:
        from ivr.phone.snapshot import snapshot

        mask_entries(call.ctx.events)
        return snapshot(call)

    def reap(self) -> None:
        """Hang up calls nobody has touched for a while; forget ended ones after a while."""
        now = time.time()
        with self.db.Session() as s, s.begin():
            s.execute(delete(PhoneCall).where(PhoneCall.ended.is_(True), PhoneCall.updated_at < now - KEEP_SECONDS))
            stale = s.execute(select(PhoneCall.id).where(
                PhoneCall.ended.is_(False), PhoneCall.updated_at < now - ABANDON_SECONDS,
                or_(PhoneCall.lock.is_(None), PhoneCall.locked_at < now - LOCK_STALE_SECONDS))
                .limit(REAP_BATCH)).scalars().all()
        for call_id in stale:
            try:
                self.hangup(call_id)
            except (CallBusy, CallNotFound):
                continue
            except Exception:  # noqa: BLE001 - an unusable saved call: forget it
                log.warning("abandoned browser call %s could not be hung up; deleted", call_id, exc_info=True)
                with self.db.Session() as s, s.begin():
                    s.execute(delete(PhoneCall).where(PhoneCall.id == call_id))

    # -- what the page sees ----------------------------------------------------------------
    def view(self, call_id: str, data: dict, since: int = 0) -> dict:
        events = data["events"]
        ended = data["ended"]
        duration = 0.0
        if data.get("answered_at") is not None:
            duration = round(data["clock"] - data["answered_at"], 1)
        return {
            "id": call_id,
            "status": ended["status"] if ended else "in-progress",
            "ended": bool(ended),
            "ended_by": ended["by"] if ended else None,
            "duration": duration,
            "languages": self._languages(events),
            "events": [self._event(call_id, n, events[n]) for n in range(max(since, 0), len(events))],
            "count": len(events),
            "waiting": _waiting(data),
        }

    def _languages(self, events: list[dict]) -> list[str]:
        """The languages of the prompts heard since the caller last answered (the language menu
        speaks two), in order."""
        found: list[str] = []
        for n in range(len(events) - 1, -1, -1):
            if events[n]["verb"] in ("Gather", "Record") and found:
                break
            view = self._heard(events[n])
            if view and view[1] not in found:
                found.insert(0, view[1])
        return found

    def _heard(self, event: dict) -> tuple[str, str] | None:
        """(text, language) of a prompt, None for anything else."""
        if event["verb"] == "Say":
            from ivr.phone.voice import tts_language

            return event.get("text", ""), tts_language(event.get("language") or "en-US")
        if event["verb"] == "Play" and "url" in event:
            text = event.get("text") or ""
            match = re.match(r"^/audio/([A-Za-z]{2,3}-[A-Za-z0-9]{2,8})/", urlsplit(event["url"]).path)
            lang = match.group(1) if match else ("zh-CN" if re.search(r"[\u3400-\u9fff]", text) else "en-US")
            return text, lang
        return None

    def _event(self, call_id: str, n: int, event: dict) -> dict:
        verb = event["verb"]
        label, detail = describe(event)
        item = {"n": n, "verb": verb, "at": event.get("at", 0.0), "label": label, "text": detail,
                "who": "system", "duration": event.get("duration", 0.0)}
        heard = self._heard(event)
        if heard is not None:
            item.update(who="hotline", text=heard[0], lang=heard[1])
            if verb == "Say" and heard[0].strip():
                item["audio"] = url_for("phone_page.speech", call_id=call_id, n=n)
            elif verb == "Play" and _origin(event["url"]) == self.origin:
                parts = urlsplit(event["url"])
                item["audio"] = parts.path + (f"?{parts.query}" if parts.query else "")
        elif verb in ("Gather", "Record"):
            item["who"] = "caller"
        elif verb == "Play":  # tones
            item["who"] = "hotline"
        if verb in ("Error", "Guard"):
            item["who"] = "error"
        return item


def _add_client_column(engine) -> None:
    """Tables made before issue 16 lack ``client``: add it (the rows are short-lived calls)."""
    if "client" in {c["name"] for c in inspect(engine).get_columns(PhoneCall.__tablename__)}:
        return
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {PhoneCall.__tablename__} ADD COLUMN client VARCHAR(64)")
    except SQLAlchemyError:   # another process added it first
        if "client" not in {c["name"] for c in inspect(engine).get_columns(PhoneCall.__tablename__)}:
            raise


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _int(value, default, minimum=0):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number >= minimum else default


def _waiting(data: dict) -> dict | None:
    """What the page needs to collect the caller's answer like the phone would."""
    from ivr.phone.snapshot import waiting_verb

    verb = waiting_verb(data)
    if verb is None:
        return None
    since = data["waiting"]["gather_start"]
    if verb.tag == "Record":
        return {"kind": "record", "finishOnKey": verb.get("finishOnKey", "1234567890*#"),
                "timeout": _int(verb.get("timeout"), 5), "since": since}
    finish = verb.get("finishOnKey", "#")
    return {"kind": "gather", "numDigits": _int(verb.get("numDigits"), None, 1),
            "finishOnKey": finish if finish in ("",) + tuple("0123456789*#") else "#",
            "timeout": _int(verb.get("timeout"), 5), "input": verb.get("input", "dtmf"), "since": since}


# -- routes --------------------------------------------------------------------------------------
def init_app(app) -> None:
    app.extensions["ivr_softphone"] = Softphone(app)


def _softphone() -> Softphone:
    return current_app.extensions["ivr_softphone"]


@bp.before_request
def _admin_only_in_production():
    """In production mode (TWILIO_AUTH_TOKEN set) the softphone, if switched on at all, is for
    the admin token's holder only: it dials the signed hotline with valid signatures."""
    if not current_app.config.get("TWILIO_AUTH_TOKEN"):
        return None
    from werkzeug.exceptions import TooManyRequests

    from ivr.web.security import admin

    try:
        if admin.is_admin():   # a wrong bearer token counts like a wrong sign-in
            return None
    except TooManyRequests as exc:
        response = _error(429, exc.description)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if request.endpoint == "phone_page.page":
        return current_app.response_class(
            "401: in production mode the softphone is for the admin: sign in at /dashboard first "
            "(or send Authorization: Bearer <IVR_ADMIN_TOKEN>).\n", status=401, mimetype="text/plain")
    return _error(401, "the softphone needs the admin token in production mode: sign in at /dashboard "
                       "or send Authorization: Bearer <IVR_ADMIN_TOKEN>")


def _limited(kind: str, setting: str):
    """None, or a 429 when this client is over its ``setting`` per minute for ``kind``."""
    from ivr.web.security import limits

    limit = int(current_app.config.get(setting))
    verdict = limits.hit(limits.client_key(f"softphone-{kind}"), limit, 60.0)
    if verdict.allowed:
        return None
    wait = max(1, int(verdict.retry_after + 0.999))
    response = _error(429, f"too many {kind} from this address: at most {limit} a minute "
                           f"(IVR_{setting}); try again in {wait} s")
    response.headers["Retry-After"] = str(wait)
    return response


@bp.after_request
def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "application/json":
        response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    return response


def _caller() -> str:
    """A made-up calling number derived from the browser's address (keyed with SECRET_KEY, so
    the address cannot be read back): the hotline's per-caller limits then apply per address,
    and clearing cookies does not reset them."""
    key = str(current_app.config.get("SECRET_KEY") or "").encode()
    digest = hmac.new(key, f"softphone:{request.remote_addr}".encode(), hashlib.sha256).hexdigest()
    return "+86170" + str(int(digest, 16) % 10**8).zfill(8)


@bp.get("/phone")
def page():
    return render_template("phone.html")


@bp.post("/phone/calls")
def dial():
    if not request.is_json:  # a JSON body needs a CORS preflight: other sites cannot dial for you
        return _error(415, "send Content-Type: application/json")
    limited = _limited("dials", "SOFTPHONE_DIALS_PER_MINUTE")
    if limited is not None:
        return limited
    from ivr.web.security import limits

    softphone = _softphone()
    cap = int(current_app.config.get("SOFTPHONE_MAX_CALLS"))
    try:
        call_id, data = softphone.dial(_caller(), limits.client_key("softphone-calls"), cap)
    except TooManyCalls:
        return _error(429, f"this address already has {cap} calls going (IVR_SOFTPHONE_MAX_CALLS): "
                           f"hang one up first")
    except PhoneError as exc:
        log.warning("browser call could not be placed: %s", exc)
        return _error(502, f"the call could not be placed: {exc}")
    response = jsonify(softphone.view(call_id, data))
    response.status_code = 201
    response.headers["Location"] = url_for("phone_page.show", call_id=call_id)
    return response


@bp.get("/phone/calls/<call_id>")
def show(call_id: str):
    softphone = _softphone()
    try:
        row = softphone.get(call_id)
    except CallNotFound:
        return _error(404, "no such call (it may have ended a while ago)")
    if "events" not in row.snapshot:   # still being dialled
        return _error(409, "the call is still being dialled; try again")
    return jsonify(softphone.view(call_id, row.snapshot, _int(request.args.get("since"), 0)))


def _step(call_id: str, action):
    from ivr.phone.snapshot import SnapshotError

    softphone = _softphone()
    try:
        data, before = action(softphone)
    except CallNotFound:
        return _error(404, "no such call (it may have ended a while ago)")
    except CallBusy:
        return _error(409, "the call is busy with another request; try again")
    except SnapshotError as exc:
        log.error("browser call %s cannot carry on: %s", call_id, exc)
        return _error(500, "this call cannot carry on; please dial again")
    except PhoneError as exc:
        return _error(400, str(exc))
    return jsonify(softphone.view(call_id, data, before))


@bp.post("/phone/calls/<call_id>/keys")
def keys(call_id: str):
    body = request.get_json(silent=True) or {}
    pressed = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(pressed, str) or not KEYS_RE.match(pressed):
        return _error(400, 'keys must be 1 to 64 of 0-9 * #, or "_" for silence')
    limited = _limited("keys", "SOFTPHONE_KEYS_PER_MINUTE")
    if limited is not None:
        return limited
    return _step(call_id, lambda softphone: softphone.press(call_id, pressed))


@bp.post("/phone/calls/<call_id>/say")
def say(call_id: str):
    body = request.get_json(silent=True) or {}
    text = body.get("text") if isinstance(body, dict) else None
    confidence = body.get("confidence") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_SPEECH or not text.isprintable():
        return _error(400, f"text must be 1 to {MAX_SPEECH} printable characters: what the caller says")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
                                   or not 0 <= confidence <= 1):
        return _error(400, "confidence must be a number from 0 to 1")
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
