"""``ivr serve`` and ``ivr reload``: run the hotline, and load an edited menu into the running one."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ivr.engine.loader import MenuFileError


def build_app(overrides: dict | None = None):
    """create_app, but a broken menus.toml is printed as a list, not a traceback."""
    from ivr import create_app

    try:
        return create_app(overrides)
    except MenuFileError as exc:
        click.echo("The hotline cannot start: the menu file has problems:", err=True)
        for line in exc.problems:
            click.echo(f"  {line}", err=True)
        sys.exit(2)
    except RuntimeError as exc:
        from ivr.web.test_clock import TestClockRefused

        if not isinstance(exc, TestClockRefused):
            raise
        click.echo(f"The hotline cannot start: {exc}", err=True)
        sys.exit(2)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="worker processes")
@click.option("--server", "server_name", default="gunicorn", show_default=True,
              type=click.Choice(["gunicorn", "gunicorn-gthread"]),
              help="gunicorn: sync workers; gunicorn-gthread: --threads per worker, keep-alive (docs/benchmarks.md)")
@click.option("--threads", default=None, type=int, help="threads per worker (gunicorn-gthread)  [default: 4]")
@click.option("--max-requests", default=0, show_default=True, type=int,
              help="replace a worker after this many requests (0: never)")
@click.option("--dev", is_flag=True, help="Flask's development server (one process; watches the menu files)")
@click.option("--watch/--no-watch", default=None,
              help="reload on every save of menus.toml, a prompt file or a recording  [default: on with --dev]")
def serve(host: str, port: int, workers: int, server_name: str, threads: int | None, max_requests: int, dev: bool,
          watch: bool | None) -> None:
    """Start the hotline's webhook server.

    An edited menu is loaded while the hotline runs (calls in progress finish on the version
    they started on): on every save with --watch (--dev), on `kill -HUP <pid>`, or `ivr reload`.
    """
    if threads is not None and server_name != "gunicorn-gthread":
        raise click.UsageError("--threads goes with --server gunicorn-gthread")
    app = build_app()
    base = app.config.get("PUBLIC_URL") or f"http://{host}:{port}"
    click.echo(f"12333 hotline on http://{host}:{port}")
    click.echo(f"  Twilio voice webhook (POST):  {base.rstrip('/')}/voice")
    click.echo(f"  call it locally:              ivr call --url http://{host}:{port}/voice")
    if not app.config.get("TWILIO_AUTH_TOKEN"):
        click.echo("  DEVELOPMENT MODE: TWILIO_AUTH_TOKEN is not set, so webhook signatures are NOT checked.",
                   err=True)
    for warning in app.extensions["ivr_hotline"].warnings:
        click.echo(f"  warning: {warning}", err=True)
    from ivr.hotline import reload

    versions = app.extensions["ivr_hotline"].versions
    if dev:
        if watch is not False:
            reload.start_watcher(versions)
        reload.on_sighup(versions)
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    from ivr.web.server import run

    run(app, host, port, workers, server=server_name, watch=bool(watch), threads=threads, max_requests=max_requests)


@click.command("reload")
def reload_cmd() -> None:
    """Check the menu files and, when they pass, make them the version new calls get.

    The same checks as `ivr menus check`; changed prompts are rendered first (unless
    IVR_VOICE_MODE=say). Every server on the configured database switches within
    IVR_RELOAD_CHECK_SECONDS; calls in progress finish on the version they started on.
    Exits 1, changing nothing, when the files have problems.
    """
    import logging

    from ivr.config import read_config
    from ivr.hotline.db import Database
    from ivr.hotline.flow_versions import FlowCurrent, FlowVersions

    # what the servers log about a reload is printed here instead, once
    logging.getLogger("ivr").addHandler(logging.NullHandler())
    config = read_config()
    db = Database.from_config(config)
    db.create_all()
    versions = FlowVersions(db, config)
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


commands = [serve, reload_cmd]
