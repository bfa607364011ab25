"""What the local voice will say: per prompt, the exact text the engine is given and its phonemes,
with every stretch spoken in another language flagged (``ivr prompts pronounce`` / ``check``).

Dynamic prompts are filled with sample read-outs (ivr.tts.readout) of the amounts, dates, times and
numbers the hotline reads out, so read-outs are checked with the prompts they are spoken in.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.tts import readout
from ivr.engine.prompts import Catalogue, placeholders
from ivr.tts import espeak
from ivr.tts.render import Voice, voice_for

# The amounts of the checks, in fen: 0, 0.05, 2, 10, 100.10, 1005.05, 2000, 22,222, 10,000,000.
SAMPLE_FEN = (0, 5, 200, 1000, 10010, 100505, 200000, 2222200, 1_000_000_000)
SAMPLE_DATE = dt.date(2026, 3, 5)
SAMPLE_MOMENT = dt.datetime(2026, 3, 5, 6, 5, tzinfo=dt.timezone.utc)  # 14:05 in Beijing
SAMPLE_ID = "11010519491231002X"
SAMPLE_HOURS = {"mon": ["08:30-12:00", "13:30-17:30"], "tue": ["08:30-12:00", "13:30-17:30"],
                "wed": ["08:30-12:00", "13:30-17:30"], "thu": ["08:30-12:00", "13:30-17:30"],
                "fri": ["08:30-12:00", "13:30-17:30"]}
SAMPLE_PLACE = {"zh-CN": "国大药房", "en-US": "Guoda Pharmacy"}


@dataclass(frozen=True)
class Spoken:
    label: str  # prompt id, with the sample in brackets for a filled dynamic prompt
    lang: str
    text: str  # as written (what <Say> and the transcript show)
    given: str  # what the engine is given
    phonemes: str
    foreign: tuple[espeak.Foreign, ...]


def sample_values(lang: str) -> dict[str, list[str]]:
    """Read-outs to fill each placeholder with (several values: each is checked)."""
    return {
        "amount": [readout.money(f, lang) for f in SAMPLE_FEN],
        "count": [readout.count(n, lang) for n in (2, 3)],
        "expected": [readout.number_zh(18) if lang.startswith("zh") else "18"],
        "until": [readout.datetime_text(SAMPLE_MOMENT, lang)],
        "date": [readout.date_text(SAMPLE_DATE, lang)],
        "place": [SAMPLE_PLACE.get(lang, SAMPLE_PLACE["en-US"])],
        "reference": [readout.digits("402100173", lang), readout.digits(SAMPLE_ID, lang, group=6)],
        "hours": [readout.hours_text(SAMPLE_HOURS, lang)],
    }


def texts(cat: Catalogue, lang: str, prompt_ids: list[str] | None = None) -> list[tuple[str, str]]:
    """(label, text) of the prompts; a dynamic prompt once per sample value of each placeholder."""
    samples = sample_values(lang)
    out = []
    for pid in prompt_ids or sorted(cat.texts[lang]):
        raw = cat.raw(pid, lang)
        names = sorted(placeholders(raw))
        if not names:
            out.append((pid, raw))
            continue
        first = {n: samples.get(n, ["1"])[0] for n in names}
        out.append((pid, raw.format(**first)))
        for n in names:
            for value in samples.get(n, [])[1:]:
                out.append((f"{pid} [{n}={value}]", raw.format(**{**first, n: value})))
    return out


def spoken(text: str, voice: Voice, label: str = "") -> Spoken:
    given = voice.engine_text(text)
    phon = espeak.phonemes(given, voice.voice)
    own = "cmn" if voice.lang.lower().startswith("zh") else voice.voice
    return Spoken(label, voice.lang, text, given, phon, tuple(espeak.foreign_spans(phon, own)))


def pronounce(cat: Catalogue, config: Mapping, lang: str, prompt_ids: list[str] | None = None) -> list[Spoken]:
    voice = voice_for(config, lang)
    return [spoken(text, voice, label) for label, text in texts(cat, lang, prompt_ids)]
