"""What the engine asks the telephony layer to do next: speech, then one ending step."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Speak:
    prompt: str          # prompt id (audio file name, recording name)
    text: str            # the words, already filled in
    language: str
    dynamic: bool = False  # filled with call data (balances, dates): not renderable ahead of time


@dataclass(frozen=True)
class Gather:
    """Wait for keys; the speech before it is nested so a key barges in."""
    timeout: int
    num_digits: int | None = 1
    finish_on_key: str = ""
    sensitive: bool = False  # the keys must never be echoed or logged
    input: str = "dtmf"      # "dtmf speech": the caller may also speak (Twilio's input attribute)
    language: str = ""       # the language the caller speaks (a speech Gather), e.g. zh-CN
    hints: tuple[str, ...] = ()  # phrases the recogniser should expect


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Dial:
    number: str
    timeout: int = 30


@dataclass(frozen=True)
class Enqueue:
    queue: str


@dataclass(frozen=True)
class Record:
    max_length: int
    finish_on_key: str = "#"


End = Gather | Hangup | Dial | Enqueue | Record


@dataclass
class Reply:
    speech: list[Speak]
    end: End
    # What happened, for the call log and per-menu counts: menu, invalid, timeout, play, transfer,
    # voicemail, hangup, loop_guard, max_failures, max_timeouts, entry, error ...
    outcome: str = "menu"
    menu: str = ""
    notes: dict = field(default_factory=dict)
