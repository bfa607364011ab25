"""``ivr menus check`` and ``ivr menus graph``: the call flow file, checked and drawn."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ivr.engine.loader import MenuFileError
from ivr.web.graph import FORMATS

_SUFFIXES = {".svg": "svg", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid"}


def _files(file: Path | None, prompts_dir: Path | None) -> tuple[Path, Path]:
    """The menu file and prompt folder given, else the configured ones."""
    from ivr.config import read_config

    config = read_config()
    return Path(file or config["MENUS_FILE"]), Path(prompts_dir or config["PROMPTS_DIR"])


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
    file, prompts_dir = _files(file, prompts_dir)
    status = _check_menus(file, prompts_dir)
    if not watch:
        sys.exit(status)
    import time

    from ivr.hotline.reload import watch_files

    click.echo(f"watching {file} and {prompts_dir} (Ctrl-C ends)", err=True)

    def again() -> None:
        click.echo(f"--- {time.strftime('%H:%M:%S')} changed: checking again", err=True)
        _check_menus(file, prompts_dir)

    watch_files(file, prompts_dir, again)


def _check_menus(file: Path, prompts_dir: Path) -> int:
    """Print the problems and warnings of a menu file; 0 when it passes, else 1."""
    from ivr.hotline.menus import load_menus
    from ivr.engine.prompts import Catalogue, PromptError

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


@menus.command("graph")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="svg (laid out here, no Graphviz needed), dot (Graphviz) or mermaid  "
                   "[default: from --output's suffix, else svg]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="write the diagram to this file  [default: standard output]")
@click.option("--prompts", "prompts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="prompt folder the menu file is checked against (default: the configured one)")
def graph(file: Path | None, fmt: str | None, output: Path | None, prompts_dir: Path | None) -> None:
    """Draw the call flow of a menu file (default: the configured menus.toml).

    Every menu, flow and connection is drawn: keys, the fallbacks after too many invalid keys
    or silences, flows and where they lead, the agent, recording and hanging up. The file must
    pass `ivr menus check`; exits 1, listing the problems, when it does not.

    \b
      ivr menus graph -o docs/menu.svg
      ivr menus graph --format mermaid
      ivr menus graph --format dot | dot -Tpng > menu.png
    """
    from ivr.engine.prompts import Catalogue, PromptError
    from ivr.hotline.menus import load_menus
    from ivr.web.graph import render

    file, prompts_dir = _files(file, prompts_dir)
    to_stdout = output is None or str(output) == "-"
    if fmt is None:
        fmt = "svg" if to_stdout else _SUFFIXES.get(output.suffix.lower(), "svg")
    try:
        model, _warnings = load_menus(file, Catalogue.load(prompts_dir))
    except PromptError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except MenuFileError as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        click.echo(f"{len(exc.problems)} problem(s) in {file}: no diagram drawn", err=True)
        sys.exit(1)
    text = render(model, fmt, name=file.name)
    if to_stdout:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"{output}: {fmt} diagram of {file.name} ({len(model.menus)} menus)", err=True)


commands = [menus]
