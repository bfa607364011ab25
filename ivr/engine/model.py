"""The menu model: what menus.toml declares, as frozen dataclasses."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Action kinds a key (or an exhausted counter) can trigger; FreeSWITCH's menu-sub/back/top/... table.
ACTION_KINDS = {
    "submenu": "go to another menu (menu = ID)",
    "back": "return to the previous menu",
    "top": "return to the main menu",
    "repeat": "say this menu again in full",
    "play": "play a guidance prompt (prompt = ID), then return to this menu",
    "collect": "collect digit entries in a named flow (flow = NAME)",
    "run": "run a named operation of a flow (op = flow.operation)",
    "agent": "transfer to an agent, honouring business hours",
    "record": "record a voice message for the agents",
    "hangup": "say goodbye (prompt = ID, optional) and hang up",
    "language": "switch language (lang = zh-CN|en-US), then go to a menu (then = ID)",
}
KEYS = "0123456789*#"


def q(value: object) -> str:
    """Quote a name in a problem message: menu "main", option "5"."""
    return f'"{value}"'


@dataclass(frozen=True)
class Action:
    kind: str
    menu: str | None = None
    prompt: str | None = None
    flow: str | None = None
    op: str | None = None
    lang: str | None = None
    then: str | None = None


@dataclass(frozen=True)
class Menu:
    id: str
    prompt: str
    short_prompt: str
    options: dict[str, Action]
    timeout: int
    max_failures: int
    max_timeouts: int
    on_max_failures: Action
    on_max_timeouts: Action
    invalid_prompt: str
    timeout_prompt: str
    intro: str | None = None        # said once, on the first entry (a welcome)
    global_keys: bool = True        # whether [global_keys] apply here
    bilingual: bool = False         # prompts said in every language, each in its own voice
    input: str = "dtmf"             # "dtmf speech": callers may also say an option
    phrases: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # key -> lang -> said
    sensitive: bool = False         # what is said here is kept masked in the call record

    @property
    def speech(self) -> bool:
        return "speech" in self.input.split()


@dataclass(frozen=True)
class Entry:
    """A variable-length digit entry (an ID number, a password)."""
    id: str
    prompt: str
    min_digits: int
    max_digits: int
    timeout: int = 10
    finish_on_key: str = "#"
    star_as_x: bool = False     # a trailing * is read as the letter X (ID numbers)
    sensitive: bool = False     # never echoed, logged or stored in clear
    input: str = "dtmf"         # "dtmf speech": the digits may also be said

    @property
    def speech(self) -> bool:
        return "speech" in self.input.split()


@dataclass(frozen=True)
class Flow:
    id: str
    entries: dict[str, Entry]
    max_attempts: int
    on_max_attempts: Action
    on_success: Action | None = None


@dataclass(frozen=True)
class Hours:
    timezone: str
    weekly: dict[int, tuple[tuple[dt.time, dt.time], ...]]   # 0 = Monday
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()               # weekend days worked (调休)


@dataclass(frozen=True)
class Agent:
    mode: str                   # dial | enqueue
    number: str | None
    queue: str
    hours: Hours
    connecting_prompt: str
    closed_prompt: str          # dynamic: {hours}
    hold_prompt: str
    unavailable_prompt: str
    voicemail_menu: str
    record_prompt: str
    recorded_prompt: str
    dial_timeout: int = 30
    voicemail_max_length: int = 120


@dataclass(frozen=True)
class MenuFile:
    path: str
    start: str                  # first menu of a call
    top: str                    # the main menu ("top")
    default_language: str
    languages: tuple[str, ...]
    max_steps: int
    goodbye_prompt: str
    error_prompt: str
    loop_prompt: str
    attempts_prompt: str
    menus: dict[str, Menu]
    global_keys: dict[str, Action]
    flows: dict[str, Flow]
    agent: Agent
    warnings: tuple[str, ...] = field(default=())
    global_phrases: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # key -> lang -> said
