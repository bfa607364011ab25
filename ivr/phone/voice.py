"""How long prompts last and, when someone will listen, what they sound like.

Audio is only rendered when needed (a recording or the speaker), so plain runs cost no TTS.
Say text is spoken by the project's local TTS, ``ivr.tts.synthesize(text, lang)``, which speaks
zh-CN and en-US: Chinese language codes use the zh-CN voice, everything else the en-US one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ivr.phone import audio, clock


@dataclass
class Sound:
    seconds: float
    samples: np.ndarray | None = None


def tts_language(language: str) -> str:
    return "zh-CN" if language.lower().startswith(("zh", "cmn", "yue")) else "en-US"


def _default_tts(text: str, lang: str) -> bytes:
    from ivr.tts import synthesize  # lazy: plain runs never load the TTS engine

    return synthesize(text, lang)


class Voice:
    def __init__(self, need_audio: bool, tts: Callable[[str, str], bytes] | None = None):
        self.need_audio = need_audio
        self.tts = tts or _default_tts
        self.problems: list[str] = []

    def say(self, text: str, language: str) -> Sound:
        estimate = clock.speaking_seconds(text, language)
        if not self.need_audio or not text.strip():
            return Sound(estimate)
        try:
            samples = audio.decode(self.tts(text, tts_language(language)))
        except Exception as exc:  # the TTS failed: keep the call going, with silence in its place
            self.problems.append(f"TTS failed for {text[:40]!r}: {exc}")
            return Sound(estimate, audio.silence(estimate))
        return Sound(len(samples) / audio.RATE, samples)

    def play(self, data: bytes | None, text: str | None, language: str = "en-US") -> Sound:
        """A fetched file; without a readable file, its known text sets the length."""
        seconds = audio.duration_of(data) if data else None
        if seconds is None:
            seconds = clock.speaking_seconds(text, language) if text else 0.0
            return Sound(seconds, audio.silence(seconds) if self.need_audio else None)
        if not self.need_audio:
            return Sound(seconds)
        samples = audio.decode(data)
        return Sound(len(samples) / audio.RATE, samples)

    def keys(self, digits: str) -> Sound:
        """Caller key presses: a tone then a gap each."""
        seconds = clock.keys_seconds(digits)
        if not self.need_audio:
            return Sound(seconds)
        parts = []
        for key in digits:
            parts += [audio.dtmf(key, clock.KEY_TONE_SECONDS), audio.silence(clock.KEY_GAP_SECONDS)]
        return Sound(seconds, np.concatenate(parts) if parts else audio.silence(0))

    def play_digits(self, digits: str) -> Sound:
        """<Play digits>: tones the app sends; w waits half a second, W a second."""
        parts, seconds = [], 0.0
        for key in digits:
            if key in clock.PLAY_WAIT_SECONDS:
                step = clock.PLAY_WAIT_SECONDS[key]
                parts.append(audio.silence(step))
            else:
                step = clock.PLAY_DIGIT_SECONDS
                parts += [audio.dtmf(key, clock.KEY_TONE_SECONDS), audio.silence(step - clock.KEY_TONE_SECONDS)]
            seconds += step
        if not self.need_audio:
            return Sound(seconds)
        return Sound(seconds, np.concatenate(parts) if parts else audio.silence(0))

    def beep(self) -> Sound:
        return Sound(clock.BEEP_SECONDS, audio.tone((1000,), clock.BEEP_SECONDS) if self.need_audio else None)

    def ringing(self, seconds: float) -> Sound:
        """North American ringback (440+480 Hz, 2 s on, 4 s off)."""
        if not self.need_audio:
            return Sound(seconds)
        track = audio.silence(seconds)
        on = audio.tone((440, 480), 2.0, level=0.15)
        for start in range(0, len(track), 6 * audio.RATE):
            chunk = on[: len(track) - start]
            track[start:start + len(chunk)] = chunk
        return Sound(seconds, track)
