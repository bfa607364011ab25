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
This module only turns the phone's own public hooks into JSON: ``CallContext.export_state`` /
``restore_state``, ``Call.resume_point()`` and ``Call(ctx, resume_from=...)``, ``Call.settle()``.
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

from ivr.phone.call import RESUMABLE_VERBS, Call, ResumePoint
from ivr.phone.context import CallContext
from ivr.phone.errors import ResumeError
from ivr.phone.settings import PhoneSettings
from ivr.phone.voice import Voice

VERSION = 1

# The call cannot be saved (or these data restored). The phone's own error, under this module's name.
SnapshotError = ResumeError


def settle(call: Call) -> None:
    """Let the prompts play until the caller must answer (every prompt heard, the timeout
    running) or the call ends. A call must be settled before ``snapshot``."""
    call.settle()


def snapshot(call: Call) -> dict:
    """The call as JSON-ready data: ended, or settled at an input point."""
    ctx = call.ctx
    waiting = None
    if call.ended is None:
        resume = call.resume_point()   # raises SnapshotError unless settled at an input point
        point = call.waiting
        verbs = "".join(ET.tostring(verb, encoding="unicode") for verb in resume.verbs)
        waiting = {"url": resume.url, "verbs": f"<Response>{verbs}</Response>", "kind": point.kind,
                   "gather_start": resume.gather_start}
    settings = dataclasses.asdict(ctx.settings)
    settings.pop("auth_token", None)  # a secret: the restoring phone supplies its own
    state = ctx.export_state()
    return {
        "version": VERSION, "sid": state.pop("sid"), "settings": settings, **state,
        "ended": {"by": call.ended.by, "status": call.ended.status} if call.ended else None,
        "waiting": waiting,
    }


def waiting_verb(data: dict) -> ET.Element | None:
    """The ``<Gather>`` or ``<Record>`` a saved call waits at (None once it has ended)."""
    waiting = data.get("waiting")
    if not waiting:
        return None
    return ET.fromstring(waiting["verbs"])[0]


def restore(phone, data: dict, clock=None) -> Call:
    """A call that carries on from ``data`` (see ``snapshot``) on ``phone``'s transport, waiting
    for the caller at the point where it was saved (on ``clock``, default the simulated one)."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise SnapshotError(f"not a version {VERSION} call snapshot")
    if data.get("ended") or not data.get("waiting"):
        raise SnapshotError("the call has ended; there is nothing to carry on")
    try:
        settings = PhoneSettings(**{**data["settings"], "auth_token": phone.settings.auth_token})
    except TypeError as exc:
        raise SnapshotError(f"saved settings do not fit this phone: {exc}") from None
    ctx = CallContext(settings, phone.transport(), Voice(False, phone.tts), audio_cache=phone.audio_cache,
                      queues=phone.queues, clock=clock)
    ctx.restore_state(data)
    waiting = data["waiting"]
    try:
        verbs = tuple(ET.fromstring(waiting["verbs"]))
    except ET.ParseError as exc:
        raise SnapshotError(f"saved verbs do not parse: {exc}") from None
    if not verbs or verbs[0].tag not in RESUMABLE_VERBS:
        raise SnapshotError("saved verbs do not start with the <Gather> or <Record> the call waits at")
    return Call(ctx, resume_from=ResumePoint(waiting["url"], verbs, int(waiting["gather_start"])))
