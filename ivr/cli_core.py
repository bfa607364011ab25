"""Core commands: ``ivr serve`` and ``ivr menus check``."""
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
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--dev", is_flag=True, help="Flask's development server (one process; watches the menu files)")
@click.option("--watch/--no-watch", default=None,
              help="reload on every save of menus.toml, a prompt file or a recording  [default: on with --dev]")
def serve(host: str, port: int, workers: int, dev: bool, watch: bool | None) -> None:
    """Start the hotline's webhook server.

    An edited menu is loaded while the hotline runs (calls in progress finish on the version
    they started on): on every save with --watch (--dev), on `kill -HUP <pid>`, or `ivr reload`.
    """
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
    from ivr import reload

    versions = app.extensions["ivr_hotline"].versions
    if dev:
        if watch is not False:
            reload.start_watcher(versions)
        reload.on_sighup(versions)
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    from ivr.server import run_gunicorn

    run_gunicorn(app, host, port, workers, watch=bool(watch))


@click.group()
def menus() -> None:
    """Inspect the call flow file."""


@menus.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--prompts", "prompts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="prompt folder (default: the configured one)")
@click.option("--watch", is_flag=True, help="check again on every save of the menu or prompt files (Ctrl-C ends)")
def menus_check(file: Path | None, prompts_dir: Path | None, watch: bool) -> None:
    """Validate a menu file (default: the configured menus.toml). Exits 1 on problems."""
    from ivr.config import DEFAULTS
    import os

    file = file or Path(os.environ.get("IVR_MENUS_FILE") or DEFAULTS["MENUS_FILE"])
    prompts_dir = prompts_dir or Path(os.environ.get("IVR_PROMPTS_DIR") or DEFAULTS["PROMPTS_DIR"])
    status = _check_menus(file, prompts_dir)
    if not watch:
        sys.exit(status)
    import time

    from ivr.reload import watch_files

    click.echo(f"watching {file} and {prompts_dir} (Ctrl-C ends)", err=True)

    def again() -> None:
        click.echo(f"--- {time.strftime('%H:%M:%S')} changed: checking again", err=True)
        _check_menus(file, prompts_dir)

    watch_files(file, prompts_dir, again)


def _check_menus(file: Path, prompts_dir: Path) -> int:
    """Print the problems and warnings of a menu file; 0 when it passes, else 1."""
    from ivr.hotline import load_menus
    from ivr.prompts import Catalogue, PromptError

    try:
        catalogue = Catalogue.load(prompts_dir)
        model, warnings = load_menus(file, catalogue)
    except PromptError as exc:
        click.echo(str(exc), err=True)
        return 1
    except MenuFileError as exc:
        for line in exc.problems:
            click.echo(line)
        for line in exc.warnings:
            click.echo(f"warning: {line}")
        click.echo(f"{len(exc.problems)} problem(s) in {file}", err=True)
        return 1
    for line in warnings:
        click.echo(f"warning: {line}")
    click.echo(f"{file}: OK: {len(model.menus)} menus, {len(model.flows)} flows, "
               f"{sum(len(m.options) for m in model.menus.values())} options")
    return 0


commands = [serve, menus]

from ivr.graph_cli import graph as _graph  # noqa: E402  `ivr menus graph` (issue 6)
menus.add_command(_graph)
