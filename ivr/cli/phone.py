"""``ivr call``, ``ivr test`` and ``ivr load``: the local phone's commands (``ivr.phone.cli``), which
know no app of their own; this hotline is handed to them as the default (``ivr.testing``)."""
from __future__ import annotations

from ivr.cli.progress import progress
from ivr.phone.cli import phone_commands
from ivr.testing import hotline_source

commands = phone_commands(default_app=hotline_source(), progress=progress)
