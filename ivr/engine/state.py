"""The state of one call, persisted between webhooks (the web layer stores it by CallSid)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

MAX_LOGGED_KEYS = 200


@dataclass
class CallState:
    call_sid: str
    language: str
    menu: str
    stack: list[str] = field(default_factory=list)   # menus to go back to
    failures: int = 0          # invalid keys in the current menu
    timeouts: int = 0          # silences in the current menu
    visits: int = 0            # times the current menu was said (0: say the full prompt)
    steps: int = 0             # webhooks answered: the loop guard
    awaiting: str = "menu"     # menu | entry | dial | queue | record | ended
    flow: dict | None = None   # {"id", "entry", "attempts", "timeouts"} while collecting entries
    data: dict = field(default_factory=dict)         # flow data: never clear ID numbers or PINs
    path: list[str] = field(default_factory=list)    # menus visited, in order (call log)
    keys: list[str] = field(default_factory=list)    # keys pressed; sensitive entries masked
    outcome: str | None = None # completed | agent | voicemail | timeout | error | loop_guard
    stats: dict = field(default_factory=dict)        # menu -> {success|invalid|timeout|transfer|speech_*: n}
    heard: list[dict] = field(default_factory=list)  # what was said; masked in sensitive places
    confirm: dict | None = None  # {"key"}: a low-confidence speech match waiting for a yes
    version: str = ""          # the menu version the call started on: it finishes on it

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CallState":
        if data.keys() == _FIELDS:   # as this version saves it (every webhook): no filtering, no defaults
            state = cls.__new__(cls)
            state.__dict__.update(data)
            return state
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def log_keys(self, keys: str) -> None:
        if len(self.keys) < MAX_LOGGED_KEYS:
            self.keys.append(keys[:40])

    def log_speech(self, record: dict) -> None:
        if len(self.heard) < MAX_LOGGED_KEYS:
            self.heard.append(record)

    def tally(self, menu: str, outcome: str) -> None:
        counts = self.stats.setdefault(menu, {})
        counts[outcome] = counts.get(outcome, 0) + 1

    def enter(self, menu: str) -> None:
        self.menu = menu
        self.failures = self.timeouts = self.visits = 0
        self.awaiting = "menu"
        self.path.append(menu)
        del self.path[:-MAX_LOGGED_KEYS]


_FIELDS = frozenset(CallState.__dataclass_fields__)
