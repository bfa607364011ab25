"""The ``ivr`` command line. Each area keeps its commands in its own module (listed below)."""
from __future__ import annotations

import importlib

import click

# Modules that define ``commands``: a list of click commands/groups added to ``ivr``.
_COMMAND_MODULES = [
    "ivr.cli_core",
    "ivr.accounts.cli",
    "ivr.tts.cli",
    "ivr.twilio_cli",
    "ivr.reload_cli",
]


class _Main(click.Group):
    def invoke(self, ctx):
        # A bad setting is the user's to fix: its message names the variable, no traceback.
        from ivr.config import ConfigError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(f"configuration: {exc}") from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """12333 hotline IVR simulator."""


for _name in _COMMAND_MODULES:
    for _cmd in importlib.import_module(_name).commands:
        main.add_command(_cmd)

# The phone's commands (ivr call, test, load) know no app: ours is handed to them as the default.
from ivr.phone.cli import phone_commands  # noqa: E402
from ivr.progress import progress as _progress  # noqa: E402
from ivr.testing import hotline_source  # noqa: E402

for _cmd in phone_commands(default_app=hotline_source(), progress=_progress):
    main.add_command(_cmd)
