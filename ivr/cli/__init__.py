"""The ``ivr`` command line: one module per command group (listed below). Every command reads its
settings through ``ivr.config.read_config`` (defaults < IVR_* env vars), the app's own way."""
from __future__ import annotations

import importlib

import click

# Modules that define ``commands``: a list of click commands/groups added to ``ivr``.
_COMMAND_MODULES = [
    "ivr.cli.core",      # serve, reload
    "ivr.cli.menus",     # menus check, menus graph
    "ivr.cli.db",        # db init, db seed
    "ivr.cli.prompts",   # prompts render/check/pronounce
    "ivr.cli.phone",     # call, test (the local phone, with this hotline plugged in)
    "ivr.cli.twilio",    # twilio setup/check
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
