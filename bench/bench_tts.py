"""Benchmark of local TTS prompt rendering (not a test). Run: .venv/bin/python bench/bench_tts.py

In one run, on the shipped prompts (prompts/*.toml, static prompts of both languages):

- espeak-ng -w floor: one ``espeak-ng -v <voice> -s <rate> -w out.wav <text>`` process per prompt
  (22.05 kHz output, no checks): the usual workaround for pyttsx3's file problems.
- cold render: ``ivr prompts render`` work into an empty folder: a fresh pyttsx3 worker process,
  every prompt spoken, checked (size, silence, duration), resampled to 8 kHz, written by rename,
  manifest saved.
- warm render: the same again with everything cached (plan finds nothing to do).
- warm lookups: ``audio_path(..., render=False)`` for every prompt, as the TwiML layer calls it
  once per prompt in ``auto`` mode (manifest and recording stats, no rendering).

Options: --repeat N (default 3; the table shows the median), --lang zh-CN|en-US|all.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.config import DEFAULTS  # noqa: E402
from ivr.engine.prompts import LANGUAGES, Catalogue  # noqa: E402
from ivr.tts.engine import TTSWorker  # noqa: E402
from ivr.tts.render import voice_for  # noqa: E402
from ivr.tts.store import PromptAudio  # noqa: E402


def espeak_floor(items, out_dir: Path) -> float:
    started = time.perf_counter()
    for n, (lang, _pid, text) in enumerate(items):
        voice = voice_for(DEFAULTS, lang)
        subprocess.run(["espeak-ng", "-v", voice.voice, "-s", str(voice.rate), "-w", str(out_dir / f"{n}.wav"),
                        text], check=True)
    return time.perf_counter() - started


def cold_render(config: dict, langs) -> tuple[float, int, float]:
    worker = TTSWorker()
    try:
        started = time.perf_counter()
        store = PromptAudio(config["AUDIO_DIR"], config["PROMPTS_DIR"], config, worker=worker)
        jobs, _ = store.plan(langs)
        with store.batch(langs) as batch:
            for job in jobs:
                batch.render(job)
        elapsed = time.perf_counter() - started
    finally:
        worker.close()
    audio = sum(e["duration"] for e in store.manifest.data()["static"].values())
    return elapsed, len(jobs), audio


def warm_render(config: dict, langs) -> float:
    started = time.perf_counter()
    store = PromptAudio.from_config(config)
    jobs, _ = store.plan(langs)
    assert not jobs, "warm render found work to do"
    with store.batch(langs) as batch:
        for job in jobs:
            batch.render(job)
    return time.perf_counter() - started


def warm_lookups(config: dict, items) -> float:
    from flask import Flask

    from ivr.web import audio

    app = Flask("bench")
    app.config.update(config)
    audio.init_app(app)
    service = app.extensions["ivr_audio"]
    rounds = 20
    started = time.perf_counter()
    for _ in range(rounds):
        for lang, pid, text in items:
            assert service.audio_path(lang, pid, text, dynamic=False, render=False)
    return (time.perf_counter() - started) / (rounds * len(items))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lang", choices=[*LANGUAGES, "all"], default="all")
    args = parser.parse_args()
    if not shutil.which("espeak-ng"):
        print("espeak-ng is not installed", file=sys.stderr)
        return 1
    langs = list(LANGUAGES) if args.lang == "all" else [args.lang]
    prompts_dir = ROOT / "prompts"
    cat = Catalogue.load(prompts_dir)
    items = [(lang, pid, cat.raw(pid, lang)) for lang in langs for pid in cat.static_ids(lang)]
    runs: dict[str, list[float]] = {"floor": [], "cold": [], "warm": [], "lookup": []}
    audio_seconds = 0.0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-tts-") as tmp:
            tmp = Path(tmp)
            (tmp / "espeak").mkdir()
            # Recordings are left out: every prompt is rendered.
            prompts = tmp / "prompts"
            prompts.mkdir()
            for lang in LANGUAGES:
                shutil.copy(prompts_dir / f"{lang}.toml", prompts / f"{lang}.toml")
            config = {**DEFAULTS, "PROMPTS_DIR": str(prompts), "AUDIO_DIR": str(tmp / "audio")}
            runs["floor"].append(espeak_floor(items, tmp / "espeak"))
            cold, count, audio_seconds = cold_render(config, langs)
            assert count == len(items)
            runs["cold"].append(cold)
            runs["warm"].append(warm_render(config, langs))
            runs["lookup"].append(warm_lookups(config, items))
    med = {k: statistics.median(v) for k, v in runs.items()}
    n = len(items)
    print(f"Local TTS, {n} static prompts ({', '.join(langs)}), {audio_seconds:.0f} s of audio; "
          f"median of {args.repeat} runs\n")
    print("| method | total | per prompt | vs espeak-ng -w |")
    print("|---|---:|---:|---:|")
    print(f"| espeak-ng -w, one process per prompt (floor) | {med['floor']:.2f} s | "
          f"{1000 * med['floor'] / n:.1f} ms | 1.00x |")
    print(f"| cold render (pyttsx3 worker, checks, 8 kHz, manifest) | {med['cold']:.2f} s | "
          f"{1000 * med['cold'] / n:.1f} ms | {med['cold'] / med['floor']:.2f}x |")
    print(f"| warm render (all cached) | {1000 * med['warm']:.1f} ms | {1000 * med['warm'] / n:.2f} ms | "
          f"{med['warm'] / med['floor']:.3f}x |")
    print(f"| warm audio_path() lookup | | {1e6 * med['lookup']:.1f} us | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
