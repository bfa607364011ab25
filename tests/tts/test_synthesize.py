"""ivr.tts.synthesize: real pyttsx3/espeak-ng renders of arbitrary text, both languages."""
import io

import pytest
import soundfile as sf
from flask import Flask

from ivr.tts import TTSError, synthesize
from ivr.tts.render import DEFAULT_RATES

from .helpers import assert_telephony_wav

TEXTS = {
    "zh-CN": ["您好，欢迎致电12333社会保障服务热线。", "您的医疗保险个人账户余额为1234.56元。", "再见。"],
    "en-US": ["Hello, welcome to the 12333 social security hotline.", "Your balance is 1,234 yuan 56 fen.",
              "Goodbye."],
}


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_synthesize_speaks_each_text(lang):
    durations = [assert_telephony_wav(synthesize(text, lang), text, DEFAULT_RATES[lang]) for text in TEXTS[lang]]
    # Longer text, longer audio: each file holds its own text (not the previous or last one).
    assert durations[0] > durations[2] and durations[1] > durations[2]


def test_synthesize_is_cached_by_text():
    first = synthesize("请稍候。", "zh-CN")
    assert synthesize("请稍候。", "zh-CN") is first
    assert synthesize("Please hold.", "en-US") != first


def test_synthesize_uses_app_voice_and_rate():
    text = "Thank you for calling the social security hotline."
    app = Flask("synth")
    app.config.update(TTS_RATES={"en-US": 100}, TTS_VOICES={"en-US": "en"})
    with app.app_context():
        slow = synthesize(text, "en-US")
    normal = synthesize(text, "en-US")
    assert_telephony_wav(slow, text, 100)
    assert sf.info(io.BytesIO(slow)).duration > sf.info(io.BytesIO(normal)).duration * 1.3


def test_synthesize_unknown_language_is_a_clear_error():
    with pytest.raises(TTSError, match="no TTS voice configured for language 'fr-FR'"):
        synthesize("Bonjour", "fr-FR")


def test_synthesize_empty_text_is_a_clear_error():
    with pytest.raises(TTSError, match="empty text"):
        synthesize("   ", "en-US")
