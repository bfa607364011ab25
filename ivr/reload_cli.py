"""``ivr reload``: load the edited menu into every running hotline on this database."""
from __future__ import annotations

import sys

import click


@click.command("reload")
def reload_cmd() -> None:
    """Check the menu files and, when they pass, make them the version new calls get.

    The same checks as `ivr menus check`; changed prompts are rendered first (unless
    IVR_VOICE_MODE=say). Every server on the configured database switches within
    IVR_RELOAD_CHECK_SECONDS; calls in progress finish on the version they started on.
    Exits 1, changing nothing, when the files have problems.
    """
    import logging

    from flask import Flask

    from ivr.config import load_config
    from ivr.db import Database
    from ivr.flow_versions import FlowCurrent, FlowVersions

    # what the servers log about a reload is printed here instead, once
    logging.getLogger("ivr").addHandler(logging.NullHandler())
    app = Flask("ivr.app", instance_relative_config=True)
    load_config(app, None)
    db = Database(app.config["DATABASE_URL"])
    db.create_all()
    versions = FlowVersions(db, app.config)
    with db.Session() as session:
        pointer = session.get(FlowCurrent, 1)
        serving = pointer.version if pointer else None
    versions.adopt(serving)
    result = versions.publish("ivr reload")
    if not result.ok:
        for line in result.problems:
            click.echo(line)
        for line in result.warnings:
            click.echo(f"warning: {line}")
        click.echo(f"{len(result.problems)} problem(s): nothing changed; version {serving or '-'} keeps serving",
                   err=True)
        sys.exit(1)
    for line in result.warnings:
        click.echo(f"warning: {line}")
    if result.changed:
        rendered = f"; {result.rendered} prompt(s) rendered" if result.rendered else ""
        click.echo(f"menu version {result.version} is current (was {serving or '-'}){rendered}; "
                   f"servers switch within {versions.check_seconds:g} s")
    else:
        click.echo(f"menu version {result.version} is current already: nothing changed")
    db.dispose()


commands = [reload_cmd]
