"""The simulated clock and how long things take on it. Nothing ever sleeps.

Prompt durations come from the audio when the phone has it (Play files; Say when a recording
or the speaker needs the TTS audio), else from the text length at these speaking rates:
  - Chinese, Japanese, Korean (zh*, cmn*, yue*, ja*, ko*): 4.5 characters per second
    (about 270 characters a minute, a measured newsreader pace);
  - every other language: 15 characters per second (about 150 words a minute).
"""
from __future__ import annotations

CJK_CHARS_PER_SECOND = 4.5
OTHER_CHARS_PER_SECOND = 15.0
MIN_PROMPT_SECONDS = 0.3

# The simulated caller: reaction time after a prompt, then key tones and gaps (ITU-T Q.24 allows
# 40 ms tones; phones send about 100 ms), and how long a spoken answer or a recorded message lasts.
REACTION_SECONDS = 1.0
KEY_TONE_SECONDS = 0.1
KEY_GAP_SECONDS = 0.1
SPEECH_END_SECONDS = 1.0  # silence after speech before the recogniser submits (speechTimeout=auto)
RECORD_TALK_SECONDS = 3.0  # a recording answered with keys: the caller talks this long first
PLAY_DIGIT_SECONDS = 0.2  # <Play digits>: each tone plus its gap
PLAY_WAIT_SECONDS = {"w": 0.5, "W": 1.0}
BEEP_SECONDS = 0.5
RING_SECONDS = 4.0  # ringing before a dialled party answers


def _is_cjk(language: str) -> bool:
    return language.lower().startswith(("zh", "cmn", "yue", "ja", "ko"))


def speaking_seconds(text: str, language: str) -> float:
    rate = CJK_CHARS_PER_SECOND if _is_cjk(language) else OTHER_CHARS_PER_SECOND
    chars = len("".join(text.split())) if _is_cjk(language) else len(" ".join(text.split()))
    return max(MIN_PROMPT_SECONDS, chars / rate) if chars else 0.0


def keys_seconds(digits: str) -> float:
    return len(digits) * (KEY_TONE_SECONDS + KEY_GAP_SECONDS)


class Clock:
    """Seconds since the call was placed, simulated: prompts and timeouts move it on."""

    real_time = False

    def __init__(self) -> None:
        self.now = 0.0

    def advance(self, seconds: float) -> float:
        if seconds > 0:
            self.now += seconds
        return self.now


class WallClock(Clock):
    """Seconds since ``started`` (a ``time.time()``) on the wall clock, for a call a person makes
    in real time (the browser softphone): prompts and timeouts take the time they really take,
    so the call's transcript, status callback and record all show the real duration. Nothing
    the call does moves it; a saved call's clock is not restored (``now`` ignores assignment)."""

    real_time = True

    def __init__(self, started: float) -> None:
        self.started = started

    @property
    def now(self) -> float:
        import time

        return round(time.time() - self.started, 3)

    @now.setter
    def now(self, _value: float) -> None:
        pass

    def advance(self, seconds: float) -> float:
        return self.now
