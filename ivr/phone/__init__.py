"""``ivr call``: a local phone that runs any TwiML app offline the way Twilio's voice engine does.

    from ivr.phone import Phone, run_call
    call = Phone(app=wsgi_app).dial()          # or Phone("https://example.com/voice")
    call.expect("press 1")
    call.press("1")
    call.expect_hangup()
    print(call.transcript)

This package is a pure TwiML client for any app: it imports nothing of ``ivr`` but itself and
the offline voice (``ivr.tts``); this project's hotline is plugged in from outside (``ivr.testing``).
Names are imported on first use, so loading the pytest plugin stays cheap.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "Call": "ivr.phone.call", "CallEnded": "ivr.phone.errors", "ExpectationFailed": "ivr.phone.errors",
    "PhoneError": "ivr.phone.errors", "CallerInput": "ivr.phone.keys", "Phone": "ivr.phone.phone",
    "run_call": "ivr.phone.phone", "PhoneSettings": "ivr.phone.settings",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ivr.phone' has no attribute {name!r}")
