"""One class per TwiML verb. ``run(ctx, element, doc, scope)`` returns an outcome, or is a
generator that yields ``Listen`` points and returns one."""
from __future__ import annotations

from ivr.phone.verbs.dial import Dial
from ivr.phone.verbs.enqueue import Enqueue, Leave
from ivr.phone.verbs.gather import Gather
from ivr.phone.verbs.hangup import Hangup, Reject
from ivr.phone.verbs.pause import Pause
from ivr.phone.verbs.play import Play
from ivr.phone.verbs.record import Record
from ivr.phone.verbs.redirect import Redirect
from ivr.phone.verbs.say import Say

VERBS = {
    "Say": Say(), "Play": Play(), "Pause": Pause(), "Gather": Gather(), "Redirect": Redirect(),
    "Hangup": Hangup(), "Reject": Reject(), "Dial": Dial(), "Enqueue": Enqueue(), "Leave": Leave(),
    "Record": Record(),
}
