"""``ivr prompts render`` and ``ivr prompts check``."""
from __future__ import annotations

import os
import sys
import time

import click

from ivr.engine.prompts import LANGUAGES, PromptError
from ivr.tts.errors import TTSError
from ivr.tts.store import Problem, PromptAudio


def _config() -> dict:
    """The settings (defaults < IVR_* env vars) without building the app: rendering needs no
    database or menus."""
    from ivr.config import read_config

    return read_config()


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
            from ivr.cli.progress import progress

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


@prompts_group.command("pronounce")
@click.option("--lang", "lang", type=click.Choice([*LANGUAGES, "all"]), default="all", show_default=True)
@click.argument("prompt_ids", nargs=-1)
def pronounce_command(lang: str, prompt_ids: tuple[str, ...]) -> None:
    """Show, per prompt, the exact text the local voice is given and the phonemes it speaks
    (espeak-ng notation), flagging every stretch spoken in another language.

    Dynamic prompts are shown filled with sample read-outs (amounts, dates, times, numbers).
    """
    from ivr.tts import espeak
    from ivr.tts.pronounce import pronounce

    config = _config()
    store = PromptAudio.from_config(config)
    langs = list(LANGUAGES) if lang == "all" else [lang]
    flagged = 0
    try:
        cat = store.catalogue_or_raise()
        unknown = [p for p in prompt_ids if not any(cat.has(p, lg) for lg in langs)]
        if unknown:
            raise click.ClickException(f"no such prompt: {', '.join(unknown)}")
        click.echo(f"espeak-ng {espeak.version()} ({espeak.library().path})")
        for lg in langs:
            ids = [p for p in prompt_ids if cat.has(p, lg)] or None
            if prompt_ids and not ids:
                continue
            for s in pronounce(cat, config, lg, ids):
                click.echo(f"{lg} {s.label}")
                click.echo(f"  text:     {s.text}")
                if s.given != s.text:
                    click.echo(f"  given:    {s.given}")
                click.echo(f"  phonemes: {s.phonemes}")
                for f in s.foreign:
                    flagged += 1
                    click.echo(f"  FOREIGN ({f.lang}): {f.phonemes}")
    except (PromptError, TTSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{flagged} stretch(es) spoken in another language.")


def _pronunciation_problems(config: dict, store: PromptAudio) -> tuple[list[str], list[str]]:
    """(errors, warnings): zh-CN syllables the voice speaks in another language (errors);
    polyphones no override covers and overrides pypinyin reads otherwise (warnings)."""
    from ivr.tts import lexicon
    from ivr.tts.pronounce import pronounce

    cat = store.catalogue_or_raise()
    errors, warnings = [], []
    for lang in cat.languages:
        if not lang.lower().startswith("zh"):
            continue
        voice = store.voice(lang)
        # A prompt with a recording is never spoken by the voice.
        spoken_ids = [p for p in sorted(cat.texts[lang]) if store.recording(lang, p) is None]
        for s in pronounce(cat, config, lang, spoken_ids):
            for f in s.foreign:
                errors.append(f"{lang} prompt {s.label!r}: spoken in {f.lang}: {f.phonemes!r} "
                              f"(text given: {s.given}); see `ivr prompts pronounce {s.label.split()[0]}`")
        seen = set()
        for pid in spoken_ids:
            text = cat.raw(pid, lang)
            for w in lexicon.polyphone_warnings(text, voice.lexicon):
                if (w.char, w.context) not in seen:
                    seen.add((w.char, w.context))
                    warnings.append(f"{lang} prompt {pid!r}: {w.message}")
        warnings.extend(f"note: {n}" for n in voice.lexicon.notes())
    return errors, warnings


@prompts_group.command("check")
def check_command() -> None:
    """List prompts with no audio, recordings with no prompt and recordings in the wrong format;
    zh-CN prompts and read-outs with a syllable the voice speaks in another language (an error),
    and polyphones that prompts/pronunciations.toml does not cover (a warning).

    Exits with status 1 when there is any problem.
    """
    config = _config()
    store = PromptAudio.from_config(config)
    try:
        problems = store.check()
        foreign, warnings = _pronunciation_problems(config, store)
    except (PromptError, TTSError) as exc:
        raise click.ClickException(str(exc)) from None
    for message in warnings:
        click.echo(f"warning: {message}" if not message.startswith("note:") else message)
    problems = problems + [Problem("foreign-syllables", "zh-CN", "", None, m) for m in foreign]
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
    click.echo(f"OK: {n_static} static prompts have audio ({os.fspath(store.audio_dir)}); no zh-CN "
               "syllable is spoken in another language.")


commands = [prompts_group]
