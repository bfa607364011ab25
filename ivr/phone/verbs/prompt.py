"""What <Say> and <Play> share: a prompt the caller hears ``loop`` times, one loop at a time."""
from __future__ import annotations

from ivr.phone.outcomes import CONTINUE
from ivr.phone.verbs import base


class Prompt:
    """Base of the verbs the caller hears. A subclass's ``start(ctx, element, doc, count)``
    emits the prompt's event (with ``duration`` 0.0 and ``loop`` when ``count`` is not 1) and
    returns ``(event, sound)``, or None to skip the verb (after a warning or a failed fetch).
    Each loop played adds its length to the event's ``duration``."""

    def start(self, ctx, element, doc, count: int):
        raise NotImplementedError

    def iterations(self, ctx, element, doc):
        """Plays one loop at a time, yielding after each: a <Gather> may be barged in between."""
        count = base.loops(ctx, element)
        started = self.start(ctx, element, doc, count)
        if started is None:
            return
        event, sound = started
        for _ in range(count):
            event["duration"] = round(event["duration"] + ctx.play(sound), 3)
            yield

    def run(self, ctx, element, doc, scope):
        ctx.answer()
        for _ in self.iterations(ctx, element, doc):
            pass
        return CONTINUE
