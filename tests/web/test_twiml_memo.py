"""The memoized renderer fills dynamic speech into a document built once per shape: the answer
must be byte for byte what VoiceResponse builds for the same reply (issue 17)."""
from __future__ import annotations

import random

from ivr.engine.steps import Gather, Hangup, Reply, Speak
from ivr.web import twiml


def _renderer(play: bool = False):
    def audio(s, render):
        if not play:
            return None
        return f"/audio/{s.language}/{s.prompt}.wav?c=CA1&e=9&t=ab&x={s.text}" if s.dynamic else None
    return twiml.Renderer(url=lambda e: f"/voice/{e}", voices={"en-US": "Polly.Joanna"},
                          mode="auto", audio=audio, say_languages={"zh-CN": "cmn-CN"})


def _direct(r, reply) -> str:
    end = reply.end
    urls = tuple(r.url(e) for e in twiml._ENDPOINTS[type(end)])
    return twiml._document.__wrapped__(end, tuple(r.resolve(s) for s in reply.speech), urls)


TEXTS = ["Your balance is 1,234 yuan 56 fen.", "您的医保个人账户余额为一千二百三十四元五角六分。",
         "a & b < c > d \"q\" 'a'", "&amp; already", "x" * 300, "line\nbreak\ttab", "", "\ue000 marker",
         "]]> <![CDATA[", "  spaces  "]


def test_dynamic_speech_renders_as_voiceresponse_would():
    rng = random.Random(17)
    for play in (False, True):
        r = _renderer(play)
        for _ in range(200):
            speech = []
            for i in range(rng.randint(1, 4)):
                dynamic = rng.random() < 0.6
                text = rng.choice(TEXTS) if dynamic else "Press 1 for the menu & more."
                speech.append(Speak(f"p{i}", text, rng.choice(["en-US", "zh-CN"]), dynamic=dynamic))
            end = rng.choice([Hangup(), Gather(timeout=5)])
            reply = Reply(speech=speech, end=end)
            assert r.render(reply) == _direct(r, reply)


def test_one_document_per_shape():
    twiml._document.cache_clear()
    r = _renderer()
    for n in range(50):
        r.render(Reply(speech=[Speak("balance", f"Your balance is {n} yuan.", "en-US", dynamic=True)], end=Hangup()))
    assert twiml._document.cache_info().currsize == 1
