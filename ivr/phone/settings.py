"""Everything that shapes a call, with Twilio's defaults."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ivr.phone.errors import PhoneError

DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed", "canceled")
QUEUE_OUTCOMES = ("bridged", "hangup")


@dataclass
class PhoneSettings:
    url: str = "http://localhost/voice"  # the entry webhook (Twilio's Voice URL)
    method: str = "POST"
    auth_token: str | None = None  # sign every request with X-Twilio-Signature
    account_sid: str = field(default_factory=lambda: "AC" + uuid.uuid4().hex)
    caller: str = "+8613800138000"  # From / Caller
    called: str = "+8612333"  # To / Called
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    # Simulated far ends: what a <Dial> gets, how long an answered party talks, what happens in a queue.
    dial_outcome: str = "completed"
    dial_seconds: float = 30.0
    queue_outcome: str = "bridged"  # an agent answers once the wait music ends (or hangup: the caller gives up)
    queue_wait_seconds: float = 60.0
    # Twilio's limits, and the loop guard against runaway calls.
    timeout: float = 15.0
    max_redirects: int = 10
    max_requests: int = 500
    max_verbs: int = 5000
    time_limit: float = 14400.0  # Twilio's default maximum call length (4 hours)

    def __post_init__(self) -> None:
        if self.dial_outcome not in DIAL_OUTCOMES:
            raise PhoneError(f"dial outcome must be one of {', '.join(DIAL_OUTCOMES)}")
        if self.queue_outcome not in QUEUE_OUTCOMES:
            raise PhoneError(f"queue outcome must be one of {', '.join(QUEUE_OUTCOMES)}")
        self.method = self.method.upper()
