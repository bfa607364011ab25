"""<Hangup> ends the call; <Reject> refuses it unanswered (busy or no-answer, never billed)."""
from __future__ import annotations

from ivr.phone.outcomes import End


class Hangup:
    def run(self, ctx, element, doc, scope):
        ctx.emit("Hangup", by="app")
        return End("app")


class Reject:
    REASONS = ("rejected", "busy")

    def run(self, ctx, element, doc, scope):
        reason = element.get("reason", "rejected")
        if reason not in self.REASONS:
            ctx.warn(f"<Reject reason={reason!r}> must be rejected or busy; using rejected")
            reason = "rejected"
        if ctx.answered_at is not None:
            # Only a first verb can refuse a call; once answered, Reject just ends it.
            ctx.emit("Reject", reason=reason, answered=True)
            return End("app")
        ctx.emit("Reject", reason=reason)
        return End("reject", "busy" if reason == "busy" else "no-answer")
