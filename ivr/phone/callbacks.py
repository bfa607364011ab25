"""Asynchronous callbacks: what Twilio posts beside the call flow, not as part of it.

Twilio sends the status callback, ``recordingStatusCallback`` and ``transcribeCallback`` on its
own time, after the verb that caused them: a transcription arrives well after the ``<Record>``'s
action has been fetched, often after the call has ended. The phone keeps them in a small
scheduler per call, each with a due time on the call's simulated clock:

- status callback events: ``initiated`` and ``ringing`` at 0 s, ``answered`` when the call is
  answered, ``completed`` when it ends (SequenceNumber counts them from 0 in this order);
- a recording's status callback ``RECORDING_DELAY`` s after the recording ends;
- a transcription ``TRANSCRIBE_DELAY`` s after the recording ends.

A callback is delivered once the call's clock reaches its due time (checked whenever the
clock moves or a document is fetched, so never before the request the verb itself makes), and
whatever is left when the call ends is delivered in due-time order, equal times in the order
they were scheduled. With ``hold_callbacks`` a test delivers them itself: ``call.callbacks.drain()``.
The answer to a callback is ignored; a failed one is an ``Error`` event (not fatal) in the
transcript, and the call carries on.
"""
from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field

RECORDING_DELAY = 1.0
TRANSCRIBE_DELAY = 30.0  # transcriptions take seconds to minutes on Twilio


@dataclass(order=True)
class Pending:
    due: float
    order: int
    kind: str = field(compare=False)  # status, recording, transcription, queue-action
    url: str = field(compare=False)
    method: str = field(compare=False)
    params: dict = field(compare=False)


class Callbacks:
    def __init__(self, ctx):
        self.ctx = ctx
        self.pending: list[Pending] = []
        self.delivered: list[Pending] = []
        self._order = 0
        self._delivering = False

    def schedule(self, kind: str, url: str, method: str, params: dict, delay: float = 0.0) -> Pending:
        item = Pending(round(self.ctx.clock.now + delay, 3), self._order, kind, url, method, dict(params))
        self._order += 1
        bisect.insort(self.pending, item)
        return item

    def deliver_due(self) -> None:
        """Send those due by now on the call's clock (unless a test holds them)."""
        if self.ctx.settings.hold_callbacks:
            return
        while self.pending and self.pending[0].due <= self.ctx.clock.now + 1e-9:
            self._deliver(self.pending.pop(0))

    def drain(self) -> list[Pending]:
        """Send every pending callback now, in order; returns them."""
        sent = []
        while self.pending:
            item = self.pending.pop(0)
            self._deliver(item)
            sent.append(item)
        return sent

    def _deliver(self, item: Pending) -> None:
        if self._delivering:  # a failed callback's Error event must not recurse into delivery
            self.pending.insert(0, item)
            return
        self._delivering = True
        try:
            self.ctx.callback(item.url, item.method, item.params)
            self.delivered.append(item)
        finally:
            self._delivering = False

    # -- saving and carrying on (the softphone's snapshots) ---------------------------------
    def export(self) -> dict:
        return {"order": self._order, "pending": [asdict(p) for p in self.pending]}

    def restore(self, data: dict | None) -> None:
        data = data or {}
        self._order = int(data.get("order", 0))
        self.pending = sorted(Pending(**p) for p in data.get("pending", []))
