"""Twilio <Say> voices: the pairs we send are ones Twilio documents (Polly.Zhiyu speaks cmn-CN),
IVR_SAY_VOICES is checked at start-up, and the local phone warns on an undocumented pair."""
from __future__ import annotations

import pytest

from ivr.tts import say_voices
from ivr.config import say_languages
from tests.conftest import make_app
from tests.phone.apps import ScriptedApp, twiml
from tests.twiml import Caller


def test_documented_pairs():
    assert say_voices.problem("Polly.Zhiyu", "cmn-CN") is None
    assert say_voices.problem("Polly.Joanna", "en-US") is None
    assert "cmn-CN" in say_voices.problem("Polly.Zhiyu", "zh-CN")
    assert "not a Twilio voice" in say_voices.problem("Bob", "en-US")
    assert "not in the table" in say_voices.problem("Polly.Nobody", "en-US")
    assert say_voices.problem(None, "en-US") is None  # Twilio's default man voice
    assert say_voices.say_language("Polly.Zhiyu", "zh-CN") == "cmn-CN"
    assert say_voices.say_language("alice", "zh-CN") == "zh-CN"
    assert say_voices.say_language("Google.cmn-CN-Standard-A", "zh-CN") == "cmn-CN"


def test_the_defaults_resolve_to_documented_languages():
    assert say_languages({"zh-CN": "Polly.Zhiyu", "en-US": "Polly.Joanna"}) == {"zh-CN": "cmn-CN",
                                                                                 "en-US": "en-US"}


@pytest.mark.parametrize("value,words", [
    ('{"zh-CN": "Polly.Joanna", "en-US": "Polly.Joanna"}', ["IVR_SAY_VOICES['zh-CN']", "Polly.Joanna", "en-US"]),
    ('{"zh-CN": "Polly.Zhiyu", "en-US": "Robot"}', ["IVR_SAY_VOICES['en-US']", "Robot", "not a Twilio voice"]),
    ('["Polly.Zhiyu"]', ["IVR_SAY_VOICES must be a JSON object"]),
])
def test_bad_say_voices_stop_the_start_with_a_clear_error(tmp_path, monkeypatch, value, words):
    monkeypatch.setenv("IVR_SAY_VOICES", value)
    with pytest.raises(ValueError) as info:
        make_app(tmp_path)
    for word in words:
        assert word in str(info.value)


def test_say_mode_speaks_mandarin_with_cmn_cn(tmp_path):
    app = make_app(tmp_path)
    try:
        doc = Caller(app.test_client()).dial()
        says = [e for e in doc.root.iter("Say")]
        zh = [e for e in says if any("\u4e00" <= c <= "\u9fff" for c in e.text or "")]
        assert zh and all(e.get("voice") == "Polly.Zhiyu" and e.get("language") == "cmn-CN" for e in zh)
        en = [e for e in says if e not in zh]
        assert all(e.get("voice") == "Polly.Joanna" and e.get("language") == "en-US" for e in en)
    finally:
        app.extensions["ivr_db"].dispose()


def test_the_local_phone_warns_on_an_undocumented_pair():
    from ivr.phone import Phone

    app = ScriptedApp({"/voice": twiml('<Say voice="Polly.Zhiyu" language="zh-CN">您好</Say>'
                                       '<Say voice="Polly.Zhiyu" language="cmn-CN">您好</Say>')})
    events = Phone("http://localhost/voice", app=app).run().events
    warnings = [e for e in events if e["verb"] == "Warning"]
    assert len(warnings) == 1
    assert "Polly.Zhiyu" in warnings[0]["message"] and "cmn-CN" in warnings[0]["message"]
    assert [e["verb"] for e in events].count("Say") == 2  # still spoken, as a warning only
