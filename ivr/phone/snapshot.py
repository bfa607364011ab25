"""Save a call while it waits for the caller, and carry it on later, in any process.

A call in progress is a running generator (the TwiML interpreter), which cannot be stored. But
once a call waits at an input point whose prompts have played (a ``<Gather>`` or ``<Record>``
with its timeout running) everything that decides what happens next is data: the call's
settings, sid, clock, events and requests, the URL of the TwiML document it is in, and the verbs
left in that document, the first of which is the one waiting. ``snapshot(call)`` writes that down
as a JSON-ready dict; ``restore(phone, data)`` builds a ``Call`` that carries on from there.

Restoring replays the waiting verb up to its input point without a sound, an event or a request
(its prompts were heard before the call was saved), then runs the rest exactly as any call of
``Phone.dial()``: the same interpreter (``ivr.phone.interpreter.execute``), verbs and context.
The web softphone (``/phone``) uses this to run one call across requests that different server
processes may answer; a restored call answered with the same keys does what the original would.

    call = phone.dial()
    settle(call)                       # let the prompts play until the caller must answer
    data = snapshot(call)              # JSON-ready; store it anywhere
    ...
    call = restore(phone, data)        # any process, any time later
    call.press("1")
    settle(call)

Not saved: the Twilio auth token (the restoring phone's own is used), a recording or speaker
(restored calls render no audio), and a call waiting inside a queue's wait music (SnapshotError).
"""
from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from contextlib import contextmanager

from ivr.phone.call import Call
from ivr.phone.context import CallContext
from ivr.phone.document import Document
from ivr.phone.errors import PhoneError
from ivr.phone.interpreter import execute
from ivr.phone.outcomes import End, GuardTripped
from ivr.phone.settings import PhoneSettings
from ivr.phone.voice import Voice

VERSION = 1
WAITING_VERBS = ("Gather", "Record")
# CallContext methods with effects a replay must not repeat (sounds, events, time, fetches).
_EFFECTS = ("emit", "play", "wait", "warn", "answer", "fetch_audio", "callback", "load")


class SnapshotError(PhoneError):
    """The call cannot be saved (or these data restored)."""


def settle(call: Call) -> None:
    """Let the prompts play until the caller must answer (every prompt heard, the timeout
    running) or the call ends. A call must be settled before ``snapshot``."""
    while call.waiting is not None and not call.waiting.final:
        call._send(None)


def snapshot(call: Call) -> dict:
    """The call as JSON-ready data: ended, or settled at an input point."""
    ctx = call.ctx
    waiting = None
    if call.ended is None:
        point = call.waiting
        if point is None or not point.final:
            raise SnapshotError("the call is not waiting for the caller: settle(call) first")
        doc, index = _position(call)
        verbs = "".join(ET.tostring(verb, encoding="unicode") for verb in doc.verbs[index:])
        waiting = {"url": doc.url, "verbs": f"<Response>{verbs}</Response>", "kind": point.kind,
                   "gather_start": point.gather_start}
    settings = dataclasses.asdict(ctx.settings)
    settings.pop("auth_token", None)  # a secret: the restoring phone supplies its own
    return {
        "version": VERSION, "sid": ctx.sid, "settings": settings, "clock": ctx.clock.now,
        "events": ctx.events, "requests": ctx.requests, "request_positions": ctx.request_positions,
        "call_status": ctx.call_status, "answered_at": ctx.answered_at, "verbs_run": ctx.verbs_run,
        "webhooks": ctx.webhooks,
        "ended": {"by": call.ended.by, "status": call.ended.status} if call.ended else None,
        "waiting": waiting,
    }


def waiting_verb(data: dict) -> ET.Element | None:
    """The ``<Gather>`` or ``<Record>`` a saved call waits at (None once it has ended)."""
    waiting = data.get("waiting")
    if not waiting:
        return None
    return ET.fromstring(waiting["verbs"])[0]


def restore(phone, data: dict) -> Call:
    """A call that carries on from ``data`` (see ``snapshot``) on ``phone``'s transport, waiting
    for the caller at the point where it was saved."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise SnapshotError(f"not a version {VERSION} call snapshot")
    if data.get("ended") or not data.get("waiting"):
        raise SnapshotError("the call has ended; there is nothing to carry on")
    try:
        settings = PhoneSettings(**{**data["settings"], "auth_token": phone.settings.auth_token})
    except TypeError as exc:
        raise SnapshotError(f"saved settings do not fit this phone: {exc}") from None
    ctx = CallContext(settings, phone.transport(), Voice(False, phone.tts), audio_cache=phone.audio_cache,
                      queues=phone.queues)
    ctx.sid = data["sid"]
    ctx.clock.now = float(data["clock"])
    ctx.events = list(data["events"])
    ctx.requests = list(data["requests"])
    ctx.request_positions = list(data["request_positions"])
    ctx.call_status = data["call_status"]
    ctx.answered_at = data["answered_at"]
    ctx.verbs_run = int(data["verbs_run"])
    ctx.webhooks = int(data["webhooks"])
    waiting = data["waiting"]
    try:
        verbs = list(ET.fromstring(waiting["verbs"]))
    except ET.ParseError as exc:
        raise SnapshotError(f"saved verbs do not parse: {exc}") from None
    if not verbs or verbs[0].tag not in WAITING_VERBS:
        raise SnapshotError("saved verbs do not start with the <Gather> or <Record> the call waits at")
    primed = _Primed.replay(ctx, Document(waiting["url"], verbs), int(waiting["gather_start"]))
    return _RestoredCall(ctx, _carry_on(ctx, primed))


# -- internals ----------------------------------------------------------------------------------
def _position(call: Call) -> tuple[Document, int]:
    """The document the call is running and the index of the verb it waits at, read from the
    interpreter's suspended frames (the phone keeps no other record of where it is)."""
    outer = call._script.gi_yieldfrom          # run_call (or _carry_on) -> execute
    runner = getattr(outer, "generator", outer)  # a restored call runs through _Primed
    frame = getattr(runner, "gi_frame", None)
    names = frame.f_locals if frame is not None else {}
    doc, element = names.get("doc"), names.get("element")
    if not isinstance(doc, Document) or element is None:
        raise SnapshotError("cannot find where the call is (has ivr.phone.interpreter.execute changed?)")
    if element.tag not in WAITING_VERBS:
        raise SnapshotError(f"the call waits inside <{element.tag}> (a queue's wait music), which cannot be saved")
    for index, verb in enumerate(doc.verbs):
        if verb is element:
            return doc, index
    raise SnapshotError("the waiting verb is not in the call's document")


@contextmanager
def _silenced(ctx: CallContext):
    """Within: nothing the call does is heard, recorded, timed or fetched."""
    verbs_run = ctx.verbs_run
    quiet = {
        "emit": lambda verb, **fields: {"verb": verb, **fields},
        "play": lambda sound: sound.seconds,
        "wait": lambda seconds: None,
        "warn": lambda *args, **kwargs: None,
        "answer": lambda: None,
        "fetch_audio": lambda url: (None, None),  # a <Play> without a file is skipped
        "callback": lambda *args, **kwargs: None,
        "load": _no_load,
    }
    assert set(quiet) == set(_EFFECTS)
    ctx.__dict__.update(quiet)
    try:
        yield
    finally:
        for name in _EFFECTS:
            ctx.__dict__.pop(name, None)
        ctx.verbs_run = verbs_run


def _no_load(*_args, **_kwargs):
    raise SnapshotError("a replayed verb tried to fetch a document")


class _Primed:
    """An ``execute`` run already paused at the saved input point. ``yield from`` it hands out
    that point first, then passes the caller's answer on (a plain generator would be sent None,
    which means silence)."""

    def __init__(self, generator, point):
        self.generator = generator
        self.point = point

    @classmethod
    def replay(cls, ctx: CallContext, doc: Document, gather_start: int) -> "_Primed":
        generator = execute(ctx, doc)
        with _silenced(ctx):
            try:
                point = next(generator)
                while not point.final:
                    point = generator.send(None)
            except StopIteration:
                raise SnapshotError("the saved verb did not wait for the caller when replayed") from None
        return cls(generator, dataclasses.replace(point, gather_start=gather_start))

    def __iter__(self):
        return self

    def __next__(self):
        return self.send(None)

    def send(self, value):
        if self.point is not None:
            point, self.point = self.point, None
            return point
        return self.generator.send(value)

    def throw(self, *args):
        return self.generator.throw(*args)

    def close(self):
        self.generator.close()


def _carry_on(ctx: CallContext, primed: _Primed):
    """The rest of a restored call; ends as ``ivr.phone.interpreter.run_call`` does."""
    try:
        ended = yield from primed
    except GuardTripped as exc:
        ctx.emit("Guard", message=str(exc))
        return End("guard")
    return ended if isinstance(ended, End) else End("app")


class _RestoredCall(Call):
    """A ``Call`` whose script is the carried-on run instead of a fresh ``run_call``."""

    def __init__(self, ctx: CallContext, script):
        self._restored_script = script
        super().__init__(ctx)
        self._cursor = len(ctx.events)  # expectations look only at what happens from now on

    @property
    def _script(self):
        return self._restored_script

    @_script.setter
    def _script(self, fresh):
        fresh.close()  # Call.__init__'s own run_call, never started: this call carries on instead
