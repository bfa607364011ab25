"""Even pacing, from real renders: a pause-heavy short menu and a one-sentence prompt come out in
the same pace band (they were 108 and 234 words a minute at one nominal rate)."""
import io

import pytest
import soundfile as sf
from flask import Flask

from ivr.tts import pacing, synthesize
from ivr.tts.render import voice_for
from ivr.tts.wav import levels

MENU = "Account, press 1. Applying for a card, press 2. Other ways to check, press 3. The law, press 4."
SENTENCE = "The new password cannot be the end of your ID number or your birth date."
ZH = "对不起，没有听清号码。请一位一位地说出数字，或用按键输入。"


def _pace(wav: bytes, text: str, lang: str, config=None) -> float:
    samples, _ = sf.read(io.BytesIO(wav), dtype="int16")
    n = pacing.units(voice_for(config or {}, lang).engine_text(text), lang)
    return pacing.pace(n, levels(samples)["speech"], lang)


@pytest.mark.parametrize("text,lang", [(MENU, "en-US"), (SENTENCE, "en-US"), (ZH, "zh-CN")])
def test_every_text_is_spoken_in_its_languages_band(text, lang):
    low, high = pacing.band(lang)
    assert low * 0.97 <= _pace(synthesize(text, lang), text, lang) <= high * 1.03


def test_a_configured_rate_moves_the_band():
    app = Flask("paced")
    app.config.update(TTS_RATES={"en-US": 120})
    with app.app_context():
        slow = _pace(synthesize(SENTENCE, "en-US"), SENTENCE, "en-US", {"TTS_RATES": {"en-US": 120}})
    low, high = pacing.band("en-US")
    assert low * 120 / 160 * 0.97 <= slow <= high * 120 / 160 * 1.03


def test_the_correction_is_proportional_and_bounded():
    assert pacing.corrected_rate(160, 20, 60 * 20 / 110, "en-US") == round(160 * 160 / 110)
    assert pacing.corrected_rate(160, 20, 60 * 20 / 160, "en-US") is None      # in the band
    assert pacing.corrected_rate(160, 3, 0.5, "en-US") is None                  # too short to judge
    assert pacing.corrected_rate(160, 20, 0.1, "en-US") == pacing.MIN_RATE
    assert pacing.units("请[[wei51t@11]]说", "zh-CN") == 4
