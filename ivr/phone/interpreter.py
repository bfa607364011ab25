"""Runs TwiML documents verb by verb, following actions and redirects, until the call ends.

The run is a generator: it yields ``Listen`` points where the caller may act and is sent the
caller's input (or None to let the prompts play on). A driver (``Call``) decides what to send.
While it runs, ``ctx.position`` says which verb of which of the call's documents is running.
"""
from __future__ import annotations

import types
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ivr.phone import schema
from ivr.phone.context import CallContext
from ivr.phone.document import Document
from ivr.phone.outcomes import CONTINUE, End, Finished, GuardTripped, Navigate
from ivr.phone.verbs import VERBS


class MainScope:
    """The call's own documents (as opposed to a queue's wait music)."""
    in_queue = False

    def params(self) -> dict[str, str]:
        return {}

    def expired(self) -> bool:
        return False


MAIN = MainScope()


@dataclass(frozen=True)
class Position:
    """Where a call is in its own documents: verb ``index`` of ``doc`` is running. A queue's
    wait music runs inside its ``<Enqueue>`` verb, so there the position stays at the Enqueue."""
    doc: Document
    index: int

    @property
    def verb(self) -> ET.Element:
        return self.doc.verbs[self.index]


def execute(ctx: CallContext, doc: Document, scope=MAIN):
    """Run ``doc`` and whatever it navigates to. Returns End, Left (queue) or Finished."""
    while True:
        outcome = CONTINUE
        for index, element in enumerate(doc.verbs):
            if scope.expired():
                return Finished()
            if not scope.in_queue:
                ctx.position = Position(doc, index)
            ctx.verbs_run += 1
            ctx.check_guard()
            verb = VERBS.get(element.tag)
            if verb is None:
                if element.tag in schema.children()["Response"]:
                    ctx.emit(element.tag, simulated=False)  # real TwiML the phone does not simulate
                continue  # unknown verbs were reported as 12200 when the document was parsed
            result = verb.run(ctx, element, doc, scope)
            if isinstance(result, types.GeneratorType):
                result = yield from result
            if result is not CONTINUE:
                outcome = result
                break
        if outcome is CONTINUE:
            return Finished()
        if not isinstance(outcome, Navigate):
            return outcome
        doc = ctx.load(outcome.url, outcome.method, ctx.params(**{**scope.params(), **outcome.params}))
        if doc is None:
            return End("error")


def run_call(ctx: CallContext, doc: Document | None = None):
    """The whole call, from the first webhook to the end; or, given ``doc``, the rest of a call
    that carries on with that document (no first webhook). Returns how it ended (End)."""
    try:
        if doc is None:
            doc = ctx.load(ctx.settings.url, ctx.settings.method, ctx.params())
            if doc is None:
                return End("error")
        ended = yield from execute(ctx, doc)
    except GuardTripped as exc:
        ctx.emit("Guard", message=str(exc))
        return End("guard")
    return ended if isinstance(ended, End) else End("app")  # fell off the end: Twilio hangs up
