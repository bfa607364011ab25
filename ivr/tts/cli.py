"""``ivr prompts render`` and ``ivr prompts check``."""
from __future__ import annotations

import os
import sys
import time

import click

from ivr.prompts import LANGUAGES, PromptError
from ivr.tts.errors import TTSError
from ivr.tts.store import PromptAudio


def _config() -> dict:
    """The app's configuration (defaults < IVR_* env vars) without building the whole app:
    rendering needs no database or menus. Same instance folder as ``create_app``."""
    from flask import Flask

    from ivr.config import load_config

    app = Flask("ivr.app", instance_relative_config=True)
    load_config(app, None)
    return dict(app.config)


def _store() -> PromptAudio:
    return PromptAudio.from_config(_config())


@click.group("prompts")
def prompts_group() -> None:
    """Prompt audio: render the TTS cache, check recordings."""


@prompts_group.command("render")
@click.option("--lang", "lang", type=click.Choice([*LANGUAGES, "all"]), default="all", show_default=True,
              help="Language to render.")
@click.option("--force", is_flag=True, help="Render every prompt again, changed or not.")
def render_command(lang: str, force: bool) -> None:
    """Render the static prompts to 8 kHz WAV with pyttsx3 (espeak-ng).

    Only prompts whose text, voice or rate changed (or whose file is missing) render again;
    prompts with a human recording need none. Dynamic prompts render on first use.
    """
    store = _store()
    langs = list(LANGUAGES) if lang == "all" else [lang]
    try:
        jobs, counts = store.plan(langs, force=force)
    except (PromptError, TTSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Audio folder: {store.audio_dir}")
    started = time.perf_counter()
    with store.batch(langs) as batch:
        if jobs:
            from ivr.progress import progress

            with progress(jobs, label=f"Rendering {len(jobs)} prompts",
                          describe=lambda j: f"{j.lang} {j.prompt_id}", file=sys.stderr) as bar:
                for job in bar:
                    batch.render(job)
    elapsed = time.perf_counter() - started
    failures = [str(exc) for exc in batch.failures]
    click.echo(f"Rendered {batch.rendered} in {elapsed:.1f} s; up to date {counts['current']}; "
               f"recorded {counts['recorded']}.")
    if failures:
        for message in failures:
            click.echo(f"error: {message}", err=True)
        raise click.ClickException(f"{len(failures)} prompt(s) failed to render")


@prompts_group.command("check")
def check_command() -> None:
    """List prompts with no audio, recordings with no prompt and recordings in the wrong format.

    Exits with status 1 when there is any problem.
    """
    store = _store()
    try:
        problems = store.check()
    except PromptError as exc:
        raise click.ClickException(str(exc)) from None
    cat = store.catalogue
    n_static = sum(len(cat.static_ids(lang)) for lang in cat.languages)
    for problem in problems:
        click.echo(problem.message)
    if problems:
        kinds = {}
        for problem in problems:
            kinds[problem.kind] = kinds.get(problem.kind, 0) + 1
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        raise click.ClickException(f"{len(problems)} problem(s): {summary}")
    click.echo(f"OK: {n_static} static prompts have audio ({os.fspath(store.audio_dir)}).")


commands = [prompts_group]
