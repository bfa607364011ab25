"""Even pacing: a text the voice speaks too fast or too slow for its language is spoken again at
a corrected rate.

espeak-ng's rate is words a minute of running speech, but the pace a caller hears depends on
the text: a short menu ("Account, press 1. Applying for a card, press 2. ...") is half sentence
pauses and came out near 110 words a minute at the nominal 160, a one-sentence prompt near 230.
The band is the pace at the default rate; a configured rate (TTS_RATES) moves it along. The
measured pace scales close to linearly with the rate, so one corrected render brings a text
into its band (``BANDS``); a second is tried only if the first still misses it.
"""
from __future__ import annotations

import re

# language prefix -> (lowest, highest) pace of the speech (its pauses included), and the unit
BANDS = {"en": (150.0, 170.0), "zh": (4.0, 5.0)}
UNITS = {"en": "words a minute", "zh": "syllables a second"}
MIN_RATE, MAX_RATE = 80, 400      # what espeak-ng speaks intelligibly
MIN_UNITS = 4                     # shorter texts are mostly onset and release: their pace says little
TRIES = 2

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+")
_PHONEMES = re.compile(r"\[\[.*?\]\]")   # pronunciation overrides given as phoneme input


def band(lang: str) -> tuple[float, float] | None:
    return BANDS.get(lang[:2].lower())


def units(engine_text: str, lang: str) -> int:
    """Syllables (Mandarin: one a character) or words in the text the engine is given."""
    if lang[:2].lower() == "zh":
        # an override [[...]] stands for the characters it replaced: count its tone digits' groups
        overrides = _PHONEMES.findall(engine_text)
        syllables = sum(len(re.findall(r"\d+", o)) for o in overrides)
        rest = _PHONEMES.sub(" ", engine_text)
        return syllables + len(_CJK.findall(rest)) + len(_WORD.findall(rest))
    return len(_WORD.findall(engine_text))


def pace(n_units: int, seconds: float, lang: str) -> float:
    per_second = n_units / seconds if seconds > 0 else 0.0
    return per_second * 60 if lang[:2].lower() == "en" else per_second


def corrected_rate(rate: int, n_units: int, seconds: float, lang: str, scale: float = 1.0) -> int | None:
    """The rate that should bring the text into its band, or None when it is in it (or has no
    band, or is too short to judge). ``scale`` moves the band with a configured rate
    (TTS_RATES 100 instead of the default 160 wants speech 100/160 as fast)."""
    limits = band(lang)
    if limits is None or n_units < MIN_UNITS or seconds <= 0:
        return None
    limits = (limits[0] * scale, limits[1] * scale)
    measured = pace(n_units, seconds, lang)
    if limits[0] <= measured <= limits[1]:
        return None
    target = sum(limits) / 2
    new = max(MIN_RATE, min(MAX_RATE, round(rate * target / measured)))
    return None if new == rate else new
