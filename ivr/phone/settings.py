"""Everything that shapes a call, with Twilio's defaults."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ivr.phone.errors import PhoneError

DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed", "canceled")
QUEUE_OUTCOMES = ("bridged", "hangup")
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
LOCATION_FIELDS = ("city", "state", "zip", "country")
# Made-up but plausible places for the default numbers (a Beijing mobile calling 12333).
DEFAULT_CALLER_LOCATION = {"city": "BEIJING", "state": "BEIJING", "zip": "100000", "country": "CN"}
DEFAULT_CALLED_LOCATION = {"city": "BEIJING", "state": "BEIJING", "zip": "100000", "country": "CN"}


@dataclass
class PhoneSettings:
    url: str = "http://localhost/voice"  # the entry webhook (Twilio's Voice URL)
    method: str = "POST"
    auth_token: str | None = None  # sign every request with X-Twilio-Signature
    account_sid: str | None = None  # None: derived from the number and voice URL (stable)
    caller: str = "+8613800138000"  # From / Caller
    called: str = "+8612333"  # To / Called
    caller_location: dict = field(default_factory=lambda: dict(DEFAULT_CALLER_LOCATION))  # From*/Caller*
    called_location: dict = field(default_factory=lambda: dict(DEFAULT_CALLED_LOCATION))  # To*/Called*
    params: dict = field(default_factory=dict)  # extra form parameters on every webhook (--param K=V)
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple = ("completed",)
    # Callbacks (status, recording status, transcription) wait in the call's scheduler; with
    # hold_callbacks a test delivers them itself (call.callbacks.drain()), else the call does.
    hold_callbacks: bool = False
    headers: dict = field(default_factory=dict)  # extra request headers (the test clock's X-IVR-Test-Now)
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
        self.fallback_method = self.fallback_method.upper()
        self.status_callback_method = self.status_callback_method.upper()
        for name in ("method", "fallback_method", "status_callback_method"):
            if getattr(self, name) not in ("GET", "POST"):
                raise PhoneError(f"{name.replace('_', ' ')} must be GET or POST, not {getattr(self, name)!r}")
        events = tuple(e.strip().lower() for e in self.status_callback_events)
        unknown = [e for e in events if e not in STATUS_EVENTS]
        if unknown:
            raise PhoneError(f"status callback events must be among {', '.join(STATUS_EVENTS)}, not {', '.join(unknown)}")
        self.status_callback_events = events
        for name in ("caller_location", "called_location"):
            place = getattr(self, name)
            unknown = [k for k in place if k not in LOCATION_FIELDS]
            if unknown:
                raise PhoneError(f"{name.replace('_', ' ')} takes {', '.join(LOCATION_FIELDS)}, not {', '.join(unknown)}")
        self.params = {str(k): str(v) for k, v in self.params.items()}
        if not self.account_sid:
            # The same for every call of a configuration, as a real number belongs to one account.
            self.account_sid = "AC" + hashlib.md5(f"{self.called}|{self.url}".encode()).hexdigest()
