"""``ivr menus graph``: the call flow diagram of a menu file, for docs and reviews."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ivr.graph import FORMATS

_SUFFIXES = {".svg": "svg", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid"}


@click.command("graph")
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
    from ivr.config import DEFAULTS
    from ivr.engine.loader import MenuFileError
    from ivr.graph import render
    from ivr.hotline import load_menus
    from ivr.prompts import Catalogue, PromptError

    file = file or Path(os.environ.get("IVR_MENUS_FILE") or DEFAULTS["MENUS_FILE"])
    prompts_dir = prompts_dir or Path(os.environ.get("IVR_PROMPTS_DIR") or DEFAULTS["PROMPTS_DIR"])
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
