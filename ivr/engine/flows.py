"""How Python flows plug into the engine.

A *flow* collects digit entries declared in menus.toml (``[flows.NAME.entries]``); its handler
decides what each entry means. An *operation* is a single named step run from a menu key
(``{ action = "run", op = "account.balance" }``). Both answer with one of the results below.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ivr.engine.model import Action
from ivr.engine.steps import Speak

if TYPE_CHECKING:
    # Deliberate, annotation-only circle: a FlowContext is handed the Engine that runs the flow
    # (machine.py imports this module for real; this import never runs).
    from ivr.engine.machine import Engine
    from ivr.engine.state import CallState


@dataclass
class Ask:
    """Ask for an entry of the current flow (its prompt follows ``speech``)."""
    entry: str
    speech: list[Speak] = field(default_factory=list)


@dataclass
class Retry:
    """The entry was not acceptable: say why and ask again (counts an attempt).

    ``entry`` names another entry to ask instead (a mismatched confirmation restarts the pair).
    """
    speech: list[Speak]
    entry: str | None = None


@dataclass
class Finish:
    """Leave the flow. ``action`` None: back to the current menu's short prompt."""
    speech: list[Speak] = field(default_factory=list)
    action: Action | None = None
    outcome: str = "flow"


Result = Ask | Retry | Finish


class FlowContext:
    """What a flow or operation may see and use during one webhook."""

    def __init__(self, engine: "Engine", state: "CallState", env: Any, flow_id: str | None = None):
        self.engine = engine
        self.state = state
        self.env = env
        self.flow = engine.model.flows.get(flow_id) if flow_id else None

    @property
    def data(self) -> dict:
        return self.state.data

    @property
    def services(self) -> Any:
        return self.env.services

    @property
    def now(self) -> dt.datetime:
        return self.env.now

    @property
    def language(self) -> str:
        return self.state.language

    def say(self, prompt_id: str, **values: object) -> Speak:
        return self.engine.say(prompt_id, self.state.language, **values)


class FlowHandler(Protocol):
    def begin(self, ctx: FlowContext) -> Result: ...

    def on_entry(self, ctx: FlowContext, entry: str, value: str) -> Result: ...


Operation = Callable[[FlowContext, Action], Result]
