"""<Dial>, simulated: the far end does what the phone's ``dial_outcome`` says.

completed: rings, answers, talks for ``dial_seconds`` (capped by timeLimit) and hangs up;
busy / failed / canceled: ends at once; no-answer: rings for the Dial's ``timeout`` (30 s).
With ``action`` the result is posted there (DialCallStatus, DialCallSid, DialCallDuration) and
nothing after the Dial runs; without it the document carries on.
"""
from __future__ import annotations

import uuid

from ivr.phone import clock
from ivr.phone.outcomes import CONTINUE, Navigate
from ivr.phone.verbs import base


def _targets(element) -> list[str]:
    nouns = [f"{child.tag}:{base.text_of(child)}" if child.tag != "Number" else base.text_of(child)
             for child in element]
    plain = (element.text or "").strip()
    return ([plain] if plain else []) + nouns


class Dial:
    def run(self, ctx, element, doc, scope):
        ctx.answer()
        outcome = ctx.settings.dial_outcome
        timeout = base.integer(ctx, element, "timeout", 30, minimum=1)
        time_limit = base.integer(ctx, element, "timeLimit", 14400, minimum=1)
        event = ctx.emit("Dial", to=_targets(element), status=outcome)
        talk = 0
        if outcome == "completed":
            ctx.play(ctx.voice.ringing(min(clock.RING_SECONDS, timeout)))
            talk = int(min(ctx.settings.dial_seconds, time_limit))
            ctx.wait(talk)
        elif outcome == "no-answer":
            ctx.play(ctx.voice.ringing(timeout))
        event["duration"] = talk
        action = element.get("action")
        if not action:
            return CONTINUE
        params = {"DialCallStatus": outcome, "DialCallSid": "CA" + uuid.uuid4().hex}
        if outcome == "completed":
            params["DialCallDuration"] = str(talk)
        return Navigate(ctx.resolve(action, doc), base.method(ctx, element), params)
