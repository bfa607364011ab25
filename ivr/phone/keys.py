"""What the caller does at an input point: keys, silence, speech or hanging up.

Token syntax (CLI arguments, scenario ``press`` values, ``Call.press``):
``123#`` digits with ``*``/``#``; ``_`` silence (let the Gather time out);
``say:TEXT`` speech (SpeechResult); ``hangup`` the caller hangs up; ``say+hangup:TEXT`` the
caller speaks, then hangs up (for a ``<Record>``; anywhere else it is a hang-up).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.phone.errors import PhoneError

DTMF_KEYS = "0123456789*#"
_DIGITS_RE = re.compile(r"[0-9*#]+")


@dataclass(frozen=True)
class CallerInput:
    digits: str = ""
    speech: str | None = None
    hangup: bool = False

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
        for prefix, hangs_up in (("say+hangup:", True), ("say:", False)):
            if token.startswith(prefix):
                text = token[len(prefix):].strip()
                if not text:
                    raise PhoneError(f"{prefix} needs the words the caller says, e.g. {prefix}balance")
                return cls(speech=text, hangup=hangs_up)
        if _DIGITS_RE.fullmatch(token):
            return cls(digits=token)
        raise PhoneError(f"bad key token {token!r}: use digits 0-9*#, _ (silence), say:TEXT, hangup "
                         "or say+hangup:TEXT")

    def __str__(self) -> str:
        if self.hangup:
            return f"say+hangup:{self.speech}" if self.speech is not None else "hangup"
        if self.speech is not None:
            return f"say:{self.speech}"
        return self.digits or "_"


SILENCE = CallerInput()
HANGUP = CallerInput(hangup=True)
