"""A call in progress, driven step by step: expect what the caller hears, press keys, hang up.

When keys are pressed: right after the prompt the caller last expected, if that prompt belongs
to the current Gather (barge-in: the rest of its prompts are skipped); otherwise once every
prompt of the Gather has played once (a caller who knows the menu does not wait for loops).
Silence (``_``) always lets the prompts finish and the timeout run out.

A call settled at a ``<Gather>`` or ``<Record>`` can be carried on elsewhere: save
``call.ctx.export_state()`` and ``call.resume_point()``; later, in any process, restore the state
into a fresh ``CallContext`` (``restore_state``) and build ``Call(ctx, resume_from=point)``.
``ivr.phone.snapshot`` does this with JSON.
"""
from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ivr.phone.context import CallContext
from ivr.phone.document import Document
from ivr.phone.errors import CallEnded, ExpectationFailed, ResumeError
from ivr.phone.interpreter import run_call
from ivr.phone.keys import HANGUP, CallerInput
from ivr.phone.outcomes import End, Listen

HEARD_VERBS = ("Say", "Play")
WHOLE_EVENT = -1  # an expectation matched a whole event, not a stretch of its text
RESUMABLE_VERBS = ("Gather", "Record")


@dataclasses.dataclass(frozen=True)
class ResumePoint:
    """Where a settled call waits for the caller, as data (see ``Call.resume_point``).

    ``url``: the TwiML document the call is in (relative URLs and a Gather without action use
    it); ``verbs``: the verbs left in that document, the first being the ``<Gather>`` or
    ``<Record>`` that waits; ``gather_start``: the index in the call's events where that verb's
    prompts began."""
    url: str
    verbs: tuple[ET.Element, ...]
    gather_start: int


class Call:
    def __init__(self, ctx: CallContext, record_to: str | Path | None = None,
                 resume_from: ResumePoint | None = None):
        """A new call on ``ctx``, run to its first input point. With ``resume_from`` (from
        ``resume_point()``), a call carried on from there instead: ``ctx`` must hold the saved
        call's state (``CallContext.restore_state``); the waiting verb is replayed unnoticed (no
        event, sound, time or request) up to its input point, where this call then waits, and
        expectations look only at what happens from then on. Raises ResumeError if it cannot."""
        self.ctx = ctx
        self.record_to = record_to
        self.ended: End | None = None
        self._point: Listen | None = None
        self._cursor = 0  # events before it have been matched or passed by
        self._offset = 0  # characters of the cursor event's text already matched
        self._matched = -1  # index of the event the last expect matched
        if resume_from is None:
            ctx.status_event("initiated")
            ctx.status_event("ringing")
            self._script = run_call(ctx)
            self._send(None)
        else:
            self._resume(resume_from)

    # -- what happened ----------------------------------------------------------------------
    @property
    def sid(self) -> str:
        return self.ctx.sid

    @property
    def events(self) -> list[dict]:
        return self.ctx.events

    @property
    def requests(self) -> list[dict]:
        return self.ctx.requests

    @property
    def heard(self) -> list[str]:
        """Texts of the prompts heard so far (Play files without known text show their URL)."""
        return [e.get("text") or e.get("url") or e.get("digits", "") for e in self.events if e["verb"] in HEARD_VERBS]

    @property
    def errors(self) -> list[dict]:
        return [e for e in self.events if e["verb"] == "Error"]

    @property
    def warnings(self) -> list[dict]:
        return [e for e in self.events if e["verb"] == "Warning"]

    @property
    def waiting(self) -> Listen | None:
        """The input point the call is paused at, None once it has ended."""
        return self._point

    @property
    def status(self) -> str:
        return self.ended.status if self.ended else "in-progress"

    @property
    def ended_by(self) -> str | None:
        return self.ended.by if self.ended else None

    @property
    def duration(self) -> float:
        """Seconds from answer to the end (0 for a call never answered), on the simulated clock."""
        if self.ctx.answered_at is None:
            return 0.0
        return round(self.ctx.clock.now - self.ctx.answered_at, 3)

    @property
    def transcript(self) -> str:
        from ivr.phone.transcript import format_call

        return format_call(self)

    def to_dict(self, show_secrets: bool = False) -> dict:
        """The call as data; keys typed at sensitive Gathers are masked unless ``show_secrets``."""
        from ivr.phone.transcript import masked

        s = self.ctx.settings
        events = self.events if show_secrets else [masked(e) for e in self.events]
        return {"call_sid": self.sid, "status": self.status, "duration": self.duration, "ended_by": self.ended_by,
                "from": s.caller, "to": s.called, "url": s.url, "account_sid": s.account_sid,
                "events": events, "requests": self.requests}

    def to_json(self, show_secrets: bool = False, **kwargs) -> str:
        return json.dumps(self.to_dict(show_secrets), ensure_ascii=False, **kwargs)

    def recording_wav(self) -> bytes:
        if self.ctx.recording is None:
            raise ValueError("this call was not recorded: dial(record=...)")
        return self.ctx.recording.wav(self.ctx.clock.now)

    # -- driving ----------------------------------------------------------------------------
    def expect(self, pattern: str, regex: bool = False) -> dict:
        """Wait for a prompt whose text (or Play URL) contains ``pattern`` (case-insensitive), or
        matches it as a regular expression. Only prompts up to the next input point count, and
        the search goes on from where the last match ended, even inside the same prompt."""
        compiled = re.compile(pattern if regex else re.escape(pattern), 0 if regex else re.IGNORECASE)

        def wanted(event, start):
            if event["verb"] not in HEARD_VERBS:
                return None
            for key in ("text", "url", "digits"):
                found = compiled.search(event.get(key) or "", start if key == "text" else 0)
                if found:
                    return found.end() if key == "text" else WHOLE_EVENT
            return None
        return self._expect(wanted, f"a prompt matching {pattern!r}")

    def expect_event(self, verb: str, **fields) -> dict:
        """Wait for an event of ``verb`` whose fields include ``fields`` (e.g. Dial, status="busy")."""
        def wanted(e, _start):
            return WHOLE_EVENT if e["verb"] == verb and all(e.get(k) == v for k, v in fields.items()) else None
        shown = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        return self._expect(wanted, f"<{verb}> {shown}".strip())

    def expect_error(self, code: int) -> dict:
        return self._expect(lambda e, _start: WHOLE_EVENT if e["verb"] == "Error" and e.get("code") == int(code) else None,
                            f"error {code}")

    def expect_hangup(self) -> None:
        """The app ends the call without asking the caller for anything more."""
        while self._point is not None:
            if self._point.final:
                self._fail("the call to end", "the call is waiting for the caller's input")
            self._send(None)
        if self.ended.by == "caller":
            self._fail("the app to end the call", "the caller hung up")

    def press(self, keys: str | CallerInput) -> None:
        """Answer the next input point: digits, ``_`` silence, ``say:TEXT`` or ``hangup``."""
        self._deliver(keys if isinstance(keys, CallerInput) else CallerInput.parse(keys))

    def silence(self) -> None:
        self.press("_")

    def say(self, text: str, confidence: float | None = None) -> None:
        """Speak to the next input point: SpeechResult ``text``, Confidence ``confidence`` (0.9)."""
        from ivr.phone.keys import check_confidence

        self._deliver(CallerInput(speech=text, confidence=check_confidence(confidence)))

    def hangup(self) -> None:
        """The caller hangs up now, wherever the call is."""
        if self.ended is None:
            self._script.close()
            self._point = None
            self._finish(End("caller"))

    def run(self, keys=()) -> "Call":
        """Answer input points with ``keys`` in turn; when they run out the caller hangs up at the
        next input point (after hearing its prompts once). Keys left over when the call ends are
        returned in ``unused_keys``."""
        tokens = [t if isinstance(t, CallerInput) else CallerInput.parse(t) for t in keys]
        while tokens and self._deliver(tokens[0], required=False):
            tokens.pop(0)
        self.unused_keys = [str(t) for t in tokens]
        self.finish()
        return self

    def advance(self) -> Listen | None:
        """Let the prompts play until the caller is due to answer (every prompt of the input
        point heard once) or the call ends. Returns the input point, or None once ended."""
        while self._point is not None and not (self._point.final or self._point.heard_all):
            self._send(None)
        return self._point

    def settle(self) -> Listen | None:
        """Let the prompts play until the caller must answer (every prompt and loop heard, the
        timeout running) or the call ends. Returns the input point, or None once ended."""
        while self._point is not None and not self._point.final:
            self._send(None)
        return self._point

    def finish(self) -> None:
        """Let the call play out; hang up at the next input point."""
        if self.ended is None:
            self._deliver(HANGUP)

    # -- carrying on elsewhere --------------------------------------------------------------
    def resume_point(self) -> ResumePoint:
        """Where this call waits, for ``Call(ctx, resume_from=...)``: it must be settled at a
        ``<Gather>`` or ``<Record>`` of its own documents (not in a queue's wait music)."""
        if self.ended is not None:
            raise ResumeError("the call has ended; there is nothing to carry on")
        if self._point is None or not self._point.final:
            raise ResumeError("the call is not waiting for the caller: settle() it first")
        position = self.ctx.position
        if position is None:
            raise ResumeError("the call is not running any document")
        if position.verb.tag not in RESUMABLE_VERBS:
            raise ResumeError(f"the call waits inside <{position.verb.tag}> (a queue's wait music), "
                              "which cannot be saved")
        return ResumePoint(position.doc.url, tuple(position.doc.verbs[position.index:]), self._point.gather_start)

    # -- internals --------------------------------------------------------------------------
    def _resume(self, point: ResumePoint) -> None:
        if not point.verbs or point.verbs[0].tag not in RESUMABLE_VERBS:
            raise ResumeError("the verbs to resume with do not start with the <Gather> or <Record> the call waits at")
        self._script = run_call(self.ctx, Document(point.url, list(point.verbs)))
        with self.ctx.replaying():
            try:
                listen = next(self._script)
                while not listen.final:
                    listen = self._script.send(None)
            except StopIteration:
                raise ResumeError("the saved verb did not wait for the caller when replayed") from None
        self._point = dataclasses.replace(listen, gather_start=point.gather_start)
        self._cursor = len(self.ctx.events)

    def _send(self, value) -> None:
        try:
            self._point = self._script.send(value)
        except StopIteration as stop:
            self._point = None
            self._finish(stop.value)

    def _ready(self, point: Listen, given: CallerInput) -> bool:
        if point.final:
            return True
        if given.silent:
            return False
        return point.heard_all or self._matched >= point.gather_start

    def _deliver(self, given: CallerInput, required: bool = True) -> bool:
        """Give ``given`` at the next point that takes it; False if the call ended first."""
        while True:
            if self._point is None:
                if given.hangup or not required:
                    return False
                raise CallEnded(f"the call ended ({self.ended_by}) before the caller could answer {given}\n\n"
                                + self.transcript)
            if self._ready(self._point, given):
                self._cursor, self._offset = len(self.events), 0
                self._send(given)
                return True
            self._send(None)

    def _expect(self, wanted, what: str) -> dict:
        """``wanted(event, start)``: None for no match, WHOLE_EVENT, or where the match ended in
        the event's text (a later expect may go on matching the rest of that text)."""
        while True:
            for index in range(self._cursor, len(self.events)):
                start = self._offset if index == self._cursor else 0
                found = wanted(self.events[index], start)
                if found is None:
                    continue
                if found == WHOLE_EVENT:
                    self._cursor, self._offset = index + 1, 0
                else:
                    self._cursor, self._offset = index, found  # the rest of this prompt is still ahead
                self._matched = index
                return self.events[index]
            if self._point is None:
                self._fail(what, f"the call ended ({self.ended_by})")
            if self._point.final:
                self._fail(what, "the call is waiting for the caller's input")
            self._send(None)

    def _fail(self, what: str, why: str):
        heard = [e.get("text") or e.get("url") for e in self.events[self._cursor:] if e["verb"] in HEARD_VERBS]
        detail = "\n".join(f"  - {h}" for h in heard) or "  (nothing)"
        raise ExpectationFailed(f"expected {what}, but {why}. Heard since the last step:\n{detail}\n\n{self.transcript}")

    def _finish(self, ended: End) -> None:
        self.ended = ended
        ctx = self.ctx
        if ended.by == "caller":
            ctx.emit("Hangup", by="caller")
        ctx.call_status = ended.status
        ctx.status_event("completed", ended.status, self.duration)
        if self.record_to is not None:
            Path(self.record_to).write_bytes(self.recording_wav())
        if not ctx.settings.hold_callbacks:
            self.drain_callbacks()

    @property
    def callbacks(self):
        """The call's asynchronous callbacks (``ivr.phone.callbacks``): ``.pending``, ``.delivered``."""
        return self.ctx.callbacks

    def drain_callbacks(self) -> list:
        """Deliver every callback still pending, in Twilio's order; after the call has ended
        the transport is closed once they are out."""
        sent = self.ctx.callbacks.drain()
        if self.ended is not None:
            self.ctx.transport.close()
        return sent
