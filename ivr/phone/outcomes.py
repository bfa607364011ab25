"""What a verb tells the interpreter, and where the call waits for the caller."""
from __future__ import annotations

from dataclasses import dataclass, field

CONTINUE = None  # carry on with the next verb of the document


@dataclass(frozen=True)
class Navigate:
    """Fetch a new document (Gather/Record/Dial action, Redirect) and run it instead."""
    url: str
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class End:
    """The call is over. ``by``: app (Hangup, end of document), caller, error, guard or reject."""
    by: str
    status: str = "completed"


@dataclass(frozen=True)
class Left:
    """<Leave> in a queue's wait music: back to the verb after <Enqueue>."""


@dataclass(frozen=True)
class Finished:
    """The document ran out of verbs."""


@dataclass(frozen=True)
class Listen:
    """The call can take the caller's input now.

    ``final``: the prompts are over and the timeout is running, so input (or silence) is due.
    ``heard_all``: every nested prompt has played at least once (a caller who knows what to
    press presses now). ``gather_start``: index in the events where this input point's prompts
    began, so a driver knows whether what the caller just heard belongs to it.
    """
    kind: str  # "gather" or "record"
    final: bool
    heard_all: bool
    gather_start: int
    accepts: frozenset[str] = frozenset({"dtmf"})


class GuardTripped(Exception):
    """The loop guard stopped a runaway call."""
