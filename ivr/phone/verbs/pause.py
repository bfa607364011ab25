"""<Pause>: ``length`` seconds of silence (default 1)."""
from __future__ import annotations

from ivr.phone.outcomes import CONTINUE
from ivr.phone.verbs import base


class Pause:
    def iterations(self, ctx, element, doc):
        length = base.integer(ctx, element, "length", 1, minimum=1)
        ctx.emit("Pause", length=length)
        ctx.wait(length)
        yield

    def run(self, ctx, element, doc, scope):
        # A leading Pause delays answering the call, so it does not answer it.
        for _ in self.iterations(ctx, element, doc):
            pass
        return CONTINUE
