"""A renderer reuses a whole static document for ``reuse_for`` seconds (the audio lookups' own
freshness), never one with a prompt still without audio, never a read-out; the app keeps one
renderer per mount point and settings; a server loads the TTS voices before forking (issue 17,
round 10)."""
from __future__ import annotations

import gc
import xml.etree.ElementTree as ET

from ivr.engine.steps import Gather, Hangup, Reply, Speak
from ivr.web import reply as reply_mod
from ivr.web import twiml
from tests.twiml import Doc


def parse(xml: str) -> Doc:
    doc = Doc(ET.fromstring(xml), xml)
    doc.plays = [el.text for el in doc.root.iter("Play")]
    return doc

MENU = Reply(speech=[Speak("main_menu", "For your account, press 1.", "en-US"),
                     Speak("hint", "Press star to go back.", "en-US")], end=Gather(timeout=5))


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Audio:
    """Audio for the prompts named in ``have``; counts the lookups."""

    def __init__(self, have):
        self.have, self.lookups = set(have), 0

    def __call__(self, speak, render):
        self.lookups += 1
        if speak.dynamic:
            return f"/audio/{speak.language}/{speak.prompt}/{abs(hash(speak.text))}.wav"
        return f"/audio/{speak.language}/{speak.prompt}.wav" if speak.prompt in self.have else None


def _renderer(audio, clock, reuse_for=1.0, mode="auto"):
    return twiml.Renderer(url=lambda e: f"/voice/{e}", voices={"en-US": "Polly.Joanna"}, mode=mode,
                          audio=audio, reuse_for=reuse_for, clock=clock)


def test_a_static_document_is_reused_until_reuse_for_has_passed():
    audio, clock = Audio({"main_menu", "hint"}), Clock()
    r = _renderer(audio, clock)
    first = r.render(MENU)
    assert audio.lookups == 2 and parse(first).plays == ["/audio/en-US/main_menu.wav", "/audio/en-US/hint.wav"]
    clock.now += 0.9
    again = Reply(speech=list(MENU.speech), end=Gather(timeout=5))   # an equal reply, new objects
    assert r.render(again) == first and audio.lookups == 2
    clock.now += 0.2                                                   # 1.1 s after it was made
    audio.have.discard("hint")                                         # e.g. its recording removed
    doc = parse(r.render(MENU))
    assert audio.lookups == 4 and doc.plays == ["/audio/en-US/main_menu.wav"]
    assert "Press star to go back." in doc.heard


def test_a_prompt_without_audio_is_looked_up_on_every_render():
    audio, clock = Audio({"main_menu"}), Clock()
    r = _renderer(audio, clock)
    for n in range(3):
        assert "Press star to go back." in parse(r.render(MENU)).heard
        assert audio.lookups == 2 * (n + 1)
    audio.have.add("hint")               # its render lands: heard at once, not a second later
    assert parse(r.render(MENU)).plays[-1] == "/audio/en-US/hint.wav"


def test_read_outs_are_never_reused():
    audio, clock = Audio({"main_menu"}), Clock()
    r = _renderer(audio, clock)
    docs = set()
    for amount in ("1 yuan", "2 yuan", "1 yuan"):
        docs.add(r.render(Reply(speech=[Speak("balance", f"Your balance is {amount}.", "en-US", dynamic=True)],
                                end=Hangup())))
    assert audio.lookups == 3 and len(docs) == 2


def test_no_reuse_without_reuse_for_and_always_in_say_mode():
    audio, clock = Audio({"main_menu", "hint"}), Clock()
    r = _renderer(audio, clock, reuse_for=0)
    r.render(MENU), r.render(MENU)
    assert audio.lookups == 4
    say = _renderer(None, clock)         # no audio: the document depends on the reply alone
    assert say.render(MENU) == say.render(MENU) and parse(say.render(MENU)).plays == []
    assert len(say._recent) == 1


def test_the_app_keeps_one_renderer_per_mount_point_and_settings(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path)
    with app.test_request_context("/voice", method="POST"):
        kept = reply_mod.renderer()
        assert reply_mod.renderer() is kept and kept.url("voice.input") == "/voice/input"
        assert kept.reuse_for == app.config["AUDIO_RECHECK_SECONDS"]
    with app.test_request_context("/voice", method="POST", base_url="http://localhost/hotline/"):
        assert reply_mod.renderer().url("voice.input") == "/hotline/voice/input"
    app.config["PUBLIC_URL"] = "https://ivr.example.test"
    with app.test_request_context("/voice", method="POST"):
        assert reply_mod.renderer() is not kept
        assert reply_mod.renderer().url("voice.timeout") == "https://ivr.example.test/voice/timeout"
    app.config["VOICE_MODE"] = "play"
    with app.test_request_context("/voice", method="POST"):
        assert reply_mod.renderer().mode == "play"


def test_the_voices_are_loaded_before_the_workers_fork(tmp_path, monkeypatch):
    from ivr.tts import store
    from ivr.web.server import prepare_fork
    from tests.conftest import make_app

    loaded = []
    real = store.voice_for
    monkeypatch.setattr(store, "voice_for", lambda config, lang: loaded.append(lang) or real(config, lang))
    app = make_app(tmp_path, VOICE_MODE="auto")
    assert loaded == []                  # nothing loads them while the app is built
    try:
        prepare_fork(app)
    finally:
        gc.unfreeze()
    assert sorted(loaded) == ["en-US", "zh-CN"]
    service = app.extensions["ivr_audio"]
    service.audio_path("zh-CN", "welcome", service.store.static_text("zh-CN", "welcome"), dynamic=False,
                       render=False)
    assert sorted(loaded) == ["en-US", "zh-CN"]     # the first lookup found them loaded
