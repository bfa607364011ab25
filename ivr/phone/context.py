"""One call's state: its parameters, clock, events, webhook fetches and the Twilio error path."""
from __future__ import annotations

import email.utils
import functools
import math
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable
from urllib.parse import unquote, urljoin

from ivr.phone import document as documents
from ivr.phone import errors
from ivr.phone.audio import Recording
from ivr.phone.callbacks import Callbacks
from ivr.phone.clock import Clock
from ivr.phone.document import Document
from ivr.phone.fetcher import Fetcher
from ivr.phone.outcomes import GuardTripped
from ivr.phone.settings import PhoneSettings
from ivr.phone.transport import Transport
from ivr.phone.voice import Sound, Voice

PROMPT_TEXT_HEADER = "X-Prompt-Text"  # our app's audio carries its text, UTF-8 percent-encoded


class AudioCache:
    """Play files by URL, shared by a phone's calls (Twilio caches media too). Thread-safe."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[bytes, str | None]] = {}
        self._lock = threading.Lock()

    def get(self, url: str):
        with self._lock:
            return self._items.get(url)

    def put(self, url: str, data: bytes, text: str | None) -> None:
        with self._lock:
            self._items[url] = (data, text)


class Queues:
    """Simulated call queues shared by a phone's calls: name -> call sids waiting."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def join(self, name: str, sid: str) -> int:
        with self._lock:
            self._waiting.setdefault(name, []).append(sid)
            return len(self._waiting[name])

    def leave(self, name: str, sid: str) -> None:
        with self._lock:
            if sid in self._waiting.get(name, []):
                self._waiting[name].remove(sid)

    def size(self, name: str) -> int:
        with self._lock:
            return len(self._waiting.get(name, []))


class CallContext:
    def __init__(self, settings: PhoneSettings, transport: Transport, voice: Voice,
                 recording: Recording | None = None, audio_cache: AudioCache | None = None,
                 queues: Queues | None = None, on_event: Callable[[dict], None] | None = None,
                 on_sound: Callable[[Sound], None] | None = None, clock: Clock | None = None):
        self.settings = settings
        self.sid = "CA" + uuid.uuid4().hex
        self.clock = clock or Clock()
        self.events: list[dict] = []
        self.requests: list[dict] = []
        self.request_positions: list[int] = []  # events before each request, to interleave them
        self.transport = transport
        self.fetcher = Fetcher(transport, settings.auth_token, settings.timeout, settings.max_redirects,
                               on_request=self._log_request, headers=settings.headers)
        self.voice = voice
        self.recording = recording
        self.audio_cache = audio_cache or AudioCache()
        self.queues = queues or Queues()
        self.on_event = on_event
        self.on_sound = on_sound
        self.call_status = "ringing"  # the first webhook sees ringing, later ones in-progress
        self.answered_at: float | None = None
        self.verbs_run = 0
        self.webhooks = 0  # TwiML fetches, for the loop guard
        self.position = None  # ivr.phone.interpreter.Position: the verb running, set by the interpreter
        self.callbacks = Callbacks(self)
        self.started_wall = time.time()  # when the call was placed, for callbacks' Timestamp
        self.status_sequence = 0  # SequenceNumber of the next status callback

    # -- saving and carrying on -------------------------------------------------------------
    def export_state(self) -> dict:
        """What the call has done so far, JSON-ready (not a copy): sid, clock, events, requests
        and the counters. With ``Call.resume_point()`` it is all a call needs to carry on in a
        fresh context (``restore_state``), in any process. Settings are not included."""
        return {"sid": self.sid, "clock": self.clock.now, "events": self.events, "requests": self.requests,
                "request_positions": self.request_positions, "call_status": self.call_status,
                "answered_at": self.answered_at, "verbs_run": self.verbs_run, "webhooks": self.webhooks,
                "callbacks": self.callbacks.export(), "started_wall": self.started_wall,
                "status_sequence": self.status_sequence}

    def restore_state(self, state: dict) -> None:
        """Take over a state from ``export_state`` (as is, or after a round trip through JSON)."""
        self.sid = state["sid"]
        self.clock.now = float(state["clock"])
        self.events = list(state["events"])
        self.requests = list(state["requests"])
        self.request_positions = list(state["request_positions"])
        self.call_status = state["call_status"]
        self.answered_at = state["answered_at"]
        self.verbs_run = int(state["verbs_run"])
        self.webhooks = int(state["webhooks"])
        self.callbacks.restore(state.get("callbacks"))
        self.started_wall = float(state.get("started_wall") or self.started_wall)
        self.status_sequence = int(state.get("status_sequence", 0))

    @contextmanager
    def replaying(self):
        """Within: the call runs again what it has already done, unnoticed. Nothing is emitted,
        heard, recorded, timed, answered, warned or fetched (a ``<Play>`` gets no file and is
        skipped; fetching a document raises ``ResumeError``), and verbs run are not counted."""
        verbs_run = self.verbs_run
        quiet = {
            "emit": lambda verb, **fields: {"verb": verb, **fields},
            "play": lambda sound: sound.seconds,
            "wait": lambda seconds: None,
            "warn": lambda *args, **kwargs: None,
            "answer": lambda: None,
            "fetch_audio": lambda url: (None, None),
            "callback": lambda *args, **kwargs: None,
            "schedule": lambda *args, **kwargs: None,
            "status_event": lambda *args, **kwargs: None,
            "load": _no_load,
        }
        self.__dict__.update(quiet)  # instance attributes shadow the methods
        try:
            yield
        finally:
            for name in quiet:
                self.__dict__.pop(name, None)
            self.verbs_run = verbs_run

    # -- parameters -------------------------------------------------------------------------
    def params(self, **extra: str) -> dict[str, str]:
        # Every request of a call carries the same numbers and places: built once per call (the
        # settings do not change while it runs), copied with the sid and status of the moment.
        made = self.__dict__.get("_params")
        if made is None or made[0] != self.sid:
            s = self.settings
            base = {
                "CallSid": self.sid, "AccountSid": s.account_sid, "From": s.caller, "To": s.called,
                "Caller": s.caller, "Called": s.called, "CallStatus": "",
                "Direction": "inbound", "ApiVersion": "2010-04-01",
            }
            for field, value in s.caller_location.items():
                base["From" + field.capitalize()] = base["Caller" + field.capitalize()] = str(value)
            for field, value in s.called_location.items():
                base["To" + field.capitalize()] = base["Called" + field.capitalize()] = str(value)
            made = self._params = (self.sid, base)
        out = made[1].copy()
        out["CallStatus"] = self.call_status
        out.update(self.settings.params)
        out.update(extra)
        return out

    # -- events and time --------------------------------------------------------------------
    def emit(self, verb: str, **fields) -> dict:
        event = {"verb": verb, "at": round(self.clock.now, 3), **fields}
        self.events.append(event)
        if self.on_event:
            self.on_event(event)
        return event

    def play(self, sound: Sound) -> float:
        """The caller hears (or makes) ``sound`` now; the clock moves on by its length."""
        if sound.samples is not None:
            if self.recording is not None:
                self.recording.add(self.clock.now, sound.samples)
            if self.on_sound:
                self.on_sound(sound)
        self.clock.advance(sound.seconds)
        self.check_guard()
        self.callbacks.deliver_due()
        return sound.seconds

    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.check_guard()
        self.callbacks.deliver_due()

    def answer(self) -> None:
        if self.answered_at is None:
            self.answered_at = self.clock.now
            self.status_event("answered")

    # -- asynchronous callbacks (ivr.phone.callbacks) ---------------------------------------
    def schedule(self, kind: str, url: str, method: str, params: dict, delay: float = 0.0) -> None:
        self.callbacks.schedule(kind, url, method, params, delay)

    def timestamp(self) -> str:
        """RFC 2822, as Twilio's Timestamp: when the call was placed plus its simulated time."""
        return email.utils.formatdate(self.started_wall + self.clock.now, usegmt=True)

    def status_event(self, event: str, status: str | None = None, duration: float = 0.0) -> None:
        """Schedule the number's status callback for ``event``, if it asked for that event."""
        s = self.settings
        if not s.status_callback or event not in s.status_callback_events:
            return
        call_status = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}.get(event, status)
        extra = {"CallStatus": call_status, "CallbackSource": "call-progress-events",
                 "SequenceNumber": str(self.status_sequence), "Timestamp": self.timestamp()}
        if event == "completed":
            seconds = math.ceil(duration - 1e-9) if duration > 0 else 0
            extra.update(CallDuration=str(seconds), Duration=str(math.ceil(seconds / 60)))
        self.status_sequence += 1
        self.schedule("status", s.status_callback, s.status_callback_method, self.params(**extra))

    def warn(self, message: str, code: int = errors.SCHEMA_WARNING, **fields) -> None:
        self.emit("Warning", code=code, message=message, **fields)

    def check_guard(self) -> None:
        s = self.settings
        if self.clock.now > s.time_limit:
            raise GuardTripped(f"the call passed its time limit of {s.time_limit:g} s")
        if self.verbs_run > s.max_verbs:
            raise GuardTripped(f"more than {s.max_verbs} verbs run")
        if self.webhooks > s.max_requests:
            raise GuardTripped(f"more than {s.max_requests} webhook requests")

    def _log_request(self, record: dict) -> None:
        record["at"] = round(self.clock.now, 3)
        self.request_positions.append(len(self.events))
        self.webhooks += record["purpose"] == "twiml"
        self.requests.append(record)

    # -- fetching ---------------------------------------------------------------------------
    def resolve(self, url: str, doc: Document | None) -> str:
        return _join(doc.url, url.strip()) if doc else url.strip()

    def load(self, url: str, method: str, params: dict[str, str]) -> Document | None:
        """Fetch and parse a document; on failure Twilio's error path: fallback URL or goodbye."""
        try:
            return self._load(url, method, params)
        except errors.FetchError as exc:
            self.emit("Error", code=exc.code, message=exc.message, url=exc.url, fatal=True)
            failure = exc
        if self.settings.fallback_url:
            try:
                return self._load(self.settings.fallback_url, self.settings.fallback_method,
                                  {**params, "ErrorCode": str(failure.code), "ErrorUrl": failure.url})
            except errors.FetchError as exc:
                self.emit("Error", code=exc.code, message=exc.message, url=exc.url, fatal=True)
        self.answer()  # Twilio answers to play its error message
        self.emit("Say", text=errors.APPLICATION_ERROR_TEXT, language="en-US", source="twilio")
        self.play(self.voice.say(errors.APPLICATION_ERROR_TEXT, "en-US"))
        return None

    def _load(self, url: str, method: str, params: dict[str, str]) -> Document:
        self.check_guard()
        self.callbacks.deliver_due()
        try:
            fetched = self.fetcher.fetch(url, method, params)
        finally:
            self.call_status = "in-progress"
        if fetched.kind == "audio":
            self.audio_cache.put(fetched.url, fetched.body, _prompt_text(fetched.headers))
        doc = documents.parse(fetched)
        for problem in doc.warnings:
            self.warn(problem, url=doc.url)
        return doc

    def fetch_audio(self, url: str) -> tuple[bytes | None, str | None]:
        """A <Play> file: (bytes, known text). A failed fetch is an error the call survives."""
        cached = self.audio_cache.get(url)
        if cached:
            return cached
        try:
            fetched = self.fetcher.fetch(url, "GET", {}, purpose="audio")
        except errors.FetchError as exc:
            self.emit("Error", code=exc.code, message=exc.message, url=exc.url, fatal=False)
            return None, None
        text = _prompt_text(fetched.headers)
        self.audio_cache.put(url, fetched.body, text)
        return fetched.body, text

    def callback(self, url: str, method: str, params: dict[str, str]) -> None:
        """Fire-and-forget webhooks (status, transcription): the answer is ignored, a failure is
        an Error event the call survives."""
        try:
            self.fetcher.fetch(url, method, params, purpose="callback")
        except errors.FetchError as exc:
            self.emit("Error", code=exc.code, message=exc.message, url=exc.url, fatal=False)


# A call resolves the same few action URLs against the same few documents on every verb, and
# urljoin costs some 10 µs (a tenth of the phone's own work per webhook, issue 17).
_join = functools.lru_cache(maxsize=1024)(urljoin)


def _no_load(*_args, **_kwargs):
    raise errors.ResumeError("a replayed verb tried to fetch a document")


def _prompt_text(headers) -> str | None:
    raw = headers.get(PROMPT_TEXT_HEADER) if headers else None
    return unquote(raw, encoding="utf-8") if raw else None
