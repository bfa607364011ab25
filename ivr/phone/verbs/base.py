"""Attribute parsing shared by the verbs: Twilio's defaults, and a warning for bad values."""
from __future__ import annotations

from ivr.phone import errors
from ivr.phone.context import CallContext

MAX_LOOPS = 1000  # loop="0" repeats until hang-up, at most 1000 times


def text_of(element) -> str:
    """The spoken text: nested SSML tags are read through, whitespace collapsed."""
    return " ".join("".join(element.itertext()).split())


def integer(ctx: CallContext, element, name: str, default, minimum: int = 0, code: int = errors.SCHEMA_WARNING):
    raw = element.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
        if value < minimum:
            raise ValueError
        return value
    except ValueError:
        ctx.warn(f"<{element.tag} {name}={raw!r}> is not a valid value; using {default!r}", code=code)
        return default


def number(ctx: CallContext, element, name: str, default: float, minimum: float = 0.0) -> float:
    raw = element.get(name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
        if value < minimum:
            raise ValueError
        return value
    except ValueError:
        ctx.warn(f"<{element.tag} {name}={raw!r}> is not a valid value; using {default!r}")
        return default


def boolean(ctx: CallContext, element, name: str, default: bool, code: int = errors.SCHEMA_WARNING) -> bool:
    raw = element.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    ctx.warn(f"<{element.tag} {name}={raw!r}> must be true or false; using {str(default).lower()}", code=code)
    return default


def method(ctx: CallContext, element, name: str = "method", default: str = "POST") -> str:
    raw = element.get(name)
    if raw is None:
        return default
    if raw.strip().upper() in ("GET", "POST"):
        return raw.strip().upper()
    ctx.warn(f"<{element.tag} {name}={raw!r}> must be GET or POST; using {default}")
    return default


def loops(ctx: CallContext, element) -> int:
    count = integer(ctx, element, "loop", 1)
    return MAX_LOOPS if count == 0 else count
