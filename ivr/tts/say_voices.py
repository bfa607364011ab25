"""Twilio ``<Say>`` voices and the ``language`` codes Twilio documents for each.

Twilio's text-to-speech page lists every voice with its language code; a ``<Say>`` whose voice and
language do not match "may result in error and <Say> instruction failure". Notably Amazon Polly's
Mandarin voice Zhiyu is documented with ``cmn-CN`` (not ``zh-CN``), and Google's Mandarin voices
are named ``Google.cmn-CN-*``. Pure data and lookups: the hotline validates ``IVR_SAY_VOICES``
with it at start-up, and the local phone (which imports nothing of ivr but itself and ivr.tts)
warns on an undocumented pair as Twilio would fail it.

The table covers the voices for the languages this project speaks (Mandarin, English) plus the
classic ``man``/``woman``/``alice`` voices; a voice not in it is reported as unknown.
"""
from __future__ import annotations

import re

_EN_US_POLLY = ("Ivy", "Joanna", "Joey", "Justin", "Kendra", "Kevin", "Kimberly", "Matthew", "Salli")
_EN_US_POLLY_NEURAL = (*_EN_US_POLLY, "Ruth", "Stephen", "Danielle", "Gregory")
_EN_GB_POLLY = ("Amy", "Brian", "Emma")

DOCUMENTED: dict[str, frozenset[str]] = {
    "Polly.Zhiyu": frozenset({"cmn-CN"}),
    "Polly.Zhiyu-Neural": frozenset({"cmn-CN"}),
    **{f"Polly.{n}": frozenset({"en-US"}) for n in _EN_US_POLLY},
    **{f"Polly.{n}-Neural": frozenset({"en-US"}) for n in _EN_US_POLLY_NEURAL},
    **{f"Polly.{n}": frozenset({"en-GB"}) for n in _EN_GB_POLLY},
    **{f"Polly.{n}-Neural": frozenset({"en-GB"}) for n in _EN_GB_POLLY},
    **{f"Google.cmn-CN-{kind}-{v}": frozenset({"cmn-CN"}) for kind in ("Standard", "Wavenet")
       for v in "ABCD"},
    **{f"Google.en-US-{kind}-{v}": frozenset({"en-US"}) for kind in ("Standard", "Wavenet", "Neural2")
       for v in "ACDEFGHIJ"},
    # The basic voices (alice is deprecated but still answers).
    "man": frozenset({"en-US", "en-GB", "es-ES", "fr-FR", "de-DE", "it-IT"}),
    "woman": frozenset({"en-US", "en-GB", "es-ES", "fr-FR", "de-DE", "it-IT"}),
    "alice": frozenset({"en-US", "en-GB", "en-AU", "en-CA", "en-IN", "zh-CN", "zh-HK", "zh-TW",
                        "ja-JP", "ko-KR", "de-DE", "fr-FR", "es-ES", "it-IT", "pt-BR", "ru-RU"}),
}


def _family(code: str) -> str:
    """``zh-CN``/``cmn-CN`` -> ``zh``; ``en-US`` -> ``en``: languages that are the same speech."""
    base = code.split("-")[0].lower()
    return "zh" if base in ("zh", "cmn") else base


def documented(voice: str, language: str) -> bool:
    return language in DOCUMENTED.get(voice, ())


def problem(voice: str | None, language: str) -> str | None:
    """Why Twilio would fail ``<Say voice=... language=...>`` (None: a documented pair)."""
    voice = voice or "man"  # Twilio's default voice
    langs = DOCUMENTED.get(voice)
    if langs is None:
        if re.match(r"^(Polly|Google)\.", voice):
            return f"voice {voice!r} is not in the table of documented Twilio voices"
        return f"voice {voice!r} is not a Twilio voice (man, woman, alice, Polly.*, Google.*)"
    if language not in langs:
        return (f"voice {voice!r} is documented with language {' or '.join(sorted(langs))}, "
                f"not {language!r}")
    return None


def say_language(voice: str, lang: str) -> str:
    """The ``language`` to give ``<Say voice=voice>`` for a prompt in ``lang`` (``zh-CN`` with
    Polly.Zhiyu -> ``cmn-CN``). ValueError when the voice does not speak that language."""
    langs = DOCUMENTED.get(voice)
    if langs is None:
        raise ValueError(problem(voice, lang))
    if lang in langs:
        return lang
    same = sorted(code for code in langs if _family(code) == _family(lang))
    if not same:
        raise ValueError(f"voice {voice!r} speaks {', '.join(sorted(langs))}, not {lang}")
    region = lang.split("-")[-1].upper()
    return next((code for code in same if code.endswith("-" + region)), same[0])
