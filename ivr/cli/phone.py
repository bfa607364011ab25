"""``ivr call`` and ``ivr test``: the local phone's commands (``ivr.phone.cli``)."""
from __future__ import annotations

from ivr.phone.cli import commands  # noqa: F401
