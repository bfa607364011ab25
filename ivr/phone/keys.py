"""What the caller does at an input point: keys, silence, speech or hanging up.

Token syntax (CLI arguments, scenario ``press`` values, ``Call.press``):
``123#`` digits with ``*``/``#``; ``_`` silence (let the Gather time out);
``say:TEXT`` speech (SpeechResult, Confidence 0.9); ``say@0.4:TEXT`` speech the recogniser is
only 40% sure of (Confidence 0.4); ``hangup`` the caller hangs up; ``say+hangup:TEXT`` (or
``say+hangup@0.4:TEXT``) the caller speaks, then hangs up (for a ``<Record>``; anywhere else it
is a hang-up).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.phone.errors import PhoneError

DTMF_KEYS = "0123456789*#"
_DIGITS_RE = re.compile(r"[0-9*#]+")
_SAY_RE = re.compile(r"say(?P<hangup>\+hangup)?(?:@(?P<confidence>[0-9.]+))?:(?P<text>.*)", re.DOTALL)
DEFAULT_CONFIDENCE = 0.9   # what the phone reports for clear speech


@dataclass(frozen=True)
class CallerInput:
    digits: str = ""
    speech: str | None = None
    hangup: bool = False
    confidence: float | None = None   # the recogniser's Confidence for speech (default 0.9)

    @property
    def silent(self) -> bool:
        return not self.digits and self.speech is None and not self.hangup

    @classmethod
    def parse(cls, token: str) -> "CallerInput":
        token = token.strip() if isinstance(token, str) else str(token)
        if token in ("_", ""):
            return cls()
        if token == "hangup":
            return cls(hangup=True)
        said = _SAY_RE.fullmatch(token)
        if said:
            text = said["text"].strip()
            prefix = "say+hangup:" if said["hangup"] else "say:"
            if not text:
                raise PhoneError(f"{prefix} needs the words the caller says, e.g. {prefix}balance")
            return cls(speech=text, confidence=check_confidence(said["confidence"]),
                       hangup=bool(said["hangup"]))
        if _DIGITS_RE.fullmatch(token):
            return cls(digits=token)
        raise PhoneError(f"bad key token {token!r}: use digits 0-9*#, _ (silence), say:TEXT, hangup "
                         "or say+hangup:TEXT")

    def __str__(self) -> str:
        if self.hangup:
            if self.speech is None:
                return "hangup"
            conf = f"@{self.confidence:g}" if self.confidence is not None else ""
            return f"say+hangup{conf}:{self.speech}"
        if self.speech is not None:
            if self.confidence is not None:
                return f"say@{self.confidence:g}:{self.speech}"
            return f"say:{self.speech}"
        return self.digits or "_"


def check_confidence(value) -> float | None:
    """A Confidence given for speech: None, or a number from 0 to 1 (else PhoneError)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not 0.0 <= number <= 1.0:
        raise PhoneError(f"confidence must be a number from 0 to 1, not {value!r}")
    return number


SILENCE = CallerInput()
HANGUP = CallerInput(hangup=True)
