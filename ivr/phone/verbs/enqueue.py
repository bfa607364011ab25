"""<Enqueue> and <Leave>, simulated: a queue nobody else is in, and an agent who answers.

The waitUrl TwiML plays to the caller (with QueuePosition, QueueTime... parameters) and, as on
Twilio, is requested again each time it runs out (a loop). With the phone's ``queue_outcome``
"bridged" an agent answers after ``queue_wait_seconds`` and talks for ``dial_seconds``; with
"hangup" the caller gives up then instead.
<Leave> in the wait TwiML leaves the queue: the action (QueueResult=leave) or the next verb follows.
"""
from __future__ import annotations

import hashlib

from ivr.phone.outcomes import CONTINUE, End, Finished, Left, Navigate
from ivr.phone.verbs import base

MAX_QUEUE_SIZE = 1000


class QueueScope:
    in_queue = True

    def __init__(self, ctx, name: str, started: float):
        self.ctx, self.name, self.started = ctx, name, started
        self.sid = "QU" + hashlib.md5(name.encode()).hexdigest()

    def params(self) -> dict[str, str]:
        waited = str(int(self.ctx.clock.now - self.started))
        size = self.ctx.queues.size(self.name)
        return {"QueueSid": self.sid, "QueuePosition": str(max(1, size)), "QueueTime": waited,
                "AvgQueueTime": waited, "CurrentQueueSize": str(size), "MaxQueueSize": str(MAX_QUEUE_SIZE)}

    def expired(self) -> bool:
        return self.ctx.clock.now - self.started >= self.ctx.settings.queue_wait_seconds


class Enqueue:
    def run(self, ctx, element, doc, scope):
        # Deliberate circle (interpreter -> verbs -> enqueue -> interpreter): the waitUrl's answer is
        # a TwiML document of its own, run by the same interpreter inside this verb, as Twilio does.
        from ivr.phone.interpreter import execute

        name = base.text_of(element)
        if not name:
            ctx.warn("<Enqueue> needs a queue name; skipped")
            return CONTINUE
        ctx.answer()
        queue = QueueScope(ctx, name, ctx.clock.now)
        position = ctx.queues.join(name, ctx.sid)
        event = ctx.emit("Enqueue", queue=name, position=position)
        try:
            wait_url = element.get("waitUrl")
            if wait_url:
                # Twilio loops the wait URL: requested again each time its TwiML runs out, until
                # the caller leaves the queue or (here) queue_wait_seconds have passed.
                while True:
                    started = ctx.clock.now
                    wait = ctx.load(ctx.resolve(wait_url, doc), base.method(ctx, element, "waitUrlMethod"),
                                    ctx.params(**queue.params()))
                    if wait is None:
                        return End("error")
                    ended = yield from execute(ctx, wait, queue)
                    if not isinstance(ended, Finished) or queue.expired():
                        break
                    if ctx.clock.real_time:  # a real-time call cannot sit through the loop here
                        break
                    if ctx.clock.now <= started:  # wait TwiML that takes no time would loop forever
                        ctx.warn("<Enqueue> waitUrl TwiML plays nothing; the queue stops looping it")
                        break
            else:
                ctx.emit("Play", url="(Twilio hold music)", duration=ctx.settings.queue_wait_seconds)
                ctx.wait(ctx.settings.queue_wait_seconds)
                ended = Finished()
        finally:
            ctx.queues.leave(name, ctx.sid)
        if isinstance(ended, End):
            return ended
        result = "leave" if isinstance(ended, Left) else \
            ("bridged" if ctx.settings.queue_outcome == "bridged" else "hangup")
        params = {"QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(int(ctx.clock.now - queue.started))}
        event.update(result=result, waited=round(ctx.clock.now - queue.started, 3))
        action = element.get("action")
        method = base.method(ctx, element)
        if result == "hangup":
            if action:  # Twilio still reports the result; nobody is left to hear the answer
                ctx.callback(ctx.resolve(action, doc), method, ctx.params(**params))
            return End("caller")
        if result == "bridged":
            ctx.wait(ctx.settings.dial_seconds)
        if action:
            return Navigate(ctx.resolve(action, doc), method, params)
        return CONTINUE


class Leave:
    def run(self, ctx, element, doc, scope):
        if not getattr(scope, "in_queue", False):
            ctx.warn("<Leave> outside a queue's wait TwiML; ignored")
            return CONTINUE
        ctx.emit("Leave")
        return Left()
