"""Render an engine Reply as TwiML with twilio's VoiceResponse (never hand-written XML).

This is the one renderer of webhook answers, and it is memoized: the same inputs (the ending step,
what each speech resolves to, the action URLs) always give the same document, so a bounded LRU keeps
the ones in use. Dynamic speech (a balance, a payment: ``Speak.dynamic``) differs from call to call,
so it is memoized as a slot: the document is built once per shape with a marker where the words (or
the per-call audio URL) go, and each render fills in that text escaped as ElementTree escapes it.
Building a VoiceResponse for every read-out cost up to a tenth of a lookup webhook (issue 17); the
answer is byte for byte what VoiceResponse gives (tests/web/test_twiml_memo.py). Audio lookups still
run on every render (their own caches say when a file changed), so a prompt whose recording or TTS
file appears or goes away is picked up; a renderer given ``reuse_for`` (the app's: the audio
lookups' own freshness, ``IVR_AUDIO_RECHECK_SECONDS``) reuses a whole static document that long.
"""
from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Callable

from twilio.twiml.voice_response import VoiceResponse

from ivr.engine.steps import Dial, Enqueue, Gather, Hangup, Record, Reply, Speak

log = logging.getLogger("ivr")
# Where dynamic text goes in a memoized document: a private-use character no prompt contains (a
# value containing it, or an empty one, is rendered without the memo).
_SLOT = "\ue000"
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})   # ElementTree's text escaping
DOCUMENT_CACHE_SIZE = 1024
# Gather's speech recognition language per prompt language: Twilio lists Mandarin (Simplified,
# China) as cmn-Hans-CN; zh-CN is a <Say> locale, not one of its recognition tags.
SPEECH_LANGUAGES = {"zh-CN": "cmn-Hans-CN", "en-US": "en-US"}

# The URLs each ending step needs, in the order _document uses them.
_ENDPOINTS = {
    Gather: ("voice.input", "voice.timeout"),
    Hangup: (),
    Dial: ("voice.dial_status",),
    Enqueue: ("voice.dial_status", "voice.hold"),
    Record: ("voice.recorded", "voice.timeout"),
}


def _add_speech(parent, spoken: tuple) -> None:
    """``spoken``: ("play", url) or ("say", text, language, voice)."""
    if spoken[0] == "play":
        parent.play(spoken[1])
    else:
        parent.say(spoken[1], language=spoken[2], voice=spoken[3])


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _document(end, speech: tuple, urls: tuple) -> str:
    r = VoiceResponse()
    if isinstance(end, Gather):
        action, timeout_url = urls
        g = r.gather(action=action, method="POST", timeout=end.timeout,
                     num_digits=end.num_digits, finish_on_key=end.finish_on_key,
                     action_on_empty_result=False, **_speech_attributes(end))
        for spoken in speech:
            _add_speech(g, spoken)
        # Twilio falls through a <Gather> that heard nothing: that is our timeout.
        r.redirect(timeout_url, method="POST")
        return str(r)
    for spoken in speech:
        _add_speech(r, spoken)
    if isinstance(end, Hangup):
        r.hangup()
    elif isinstance(end, Dial):
        r.dial(end.number, action=urls[0], method="POST", timeout=end.timeout)
    elif isinstance(end, Enqueue):
        r.enqueue(end.queue, action=urls[0], method="POST", wait_url=urls[1], wait_url_method="POST")
    elif isinstance(end, Record):
        r.record(action=urls[0], method="POST", max_length=end.max_length,
                 finish_on_key=end.finish_on_key, play_beep=True, timeout=5)
        # An empty recording falls through to here.
        r.redirect(urls[1], method="POST")
    return str(r)


def _speech_attributes(end: Gather) -> dict:
    """Twilio's speech attributes for a Gather that also listens: input, language, hints and
    speechTimeout="auto" (no speechModel: Twilio warns 13335 when auto meets an explicit one)."""
    if "speech" not in end.input.split():
        return {}
    hints = ", ".join(h.replace(",", " ")[:100] for h in end.hints)
    return {"input": end.input, "language": SPEECH_LANGUAGES.get(end.language, end.language or "en-US"),
            "hints": hints or None, "speech_timeout": "auto"}


class Renderer:
    """Turns steps into verbs. ``audio(speak, render)`` returns a Play URL or None (then <Say>)."""

    def __init__(self, url: Callable[[str], str], voices: dict[str, str], mode: str,
                 audio: Callable[[Speak, bool], str | None] | None = None,
                 say_languages: dict[str, str] | None = None, reuse_for: float = 0.0,
                 clock: Callable[[], float] = time.monotonic):
        self.url = url
        self.voices = voices
        self.say_languages = say_languages or {}  # prompt language -> <Say language> (zh-CN: cmn-CN)
        self.mode = mode
        self.audio = audio
        self.reuse_for = reuse_for
        self.clock = clock
        self._recent: dict = {}   # (end, speech, urls) -> (reusable until, document)

    def resolve(self, s: Speak) -> tuple:
        """What the caller will hear for ``s``: ("play", url) or ("say", text, language, voice)."""
        if self.mode != "say" and self.audio is not None:
            try:
                play_url = self.audio(s, self.mode == "play")
            except Exception:   # a TTS failure must not cost the caller the call: fall back to <Say>
                log.warning("audio unavailable, using <Say>", extra={"fields": {"prompt": s.prompt}},
                            exc_info=True)
                play_url = None
            if play_url:
                return ("play", play_url)
        return ("say", s.text, self.say_languages.get(s.language, s.language), self.voices.get(s.language))

    def speak(self, parent, s: Speak) -> None:
        _add_speech(parent, self.resolve(s))

    def render(self, reply: Reply) -> str:
        """The reply's document. With ``reuse_for`` > 0, a reply without dynamic speech whose
        prompts all resolved to audio (or to ``<Say>`` with no audio to look for) is answered from
        the last document made for it, for ``reuse_for`` seconds: the speech resolution (an audio
        lookup per prompt) and the memo's key (a tuple of every prompt's resolution) were most of a
        render (issue 17, round 10). A prompt that fell back to ``<Say>`` because its audio is not
        there yet is resolved again on every render, so a new render is used at once, as before."""
        end = reply.end
        endpoints = _ENDPOINTS.get(type(end))
        if endpoints is None:
            endpoints = next((v for k, v in _ENDPOINTS.items() if isinstance(end, k)), None)
            if endpoints is None:
                raise TypeError(f"cannot render {end!r}")
        urls = tuple(self.url(e) for e in endpoints)
        key = None
        if self.reuse_for > 0 and not any(s.dynamic for s in reply.speech):
            key = (end, tuple(reply.speech), urls)
            kept = self._recent.get(key)
            if kept is not None and self.clock() < kept[0]:
                return kept[1]
        speech = []
        values = None
        for s in reply.speech:
            spoken = self.resolve(s)
            if s.dynamic:
                value = spoken[1]
                if not value or _SLOT in value:
                    return _document(end, tuple(self.resolve(s) for s in reply.speech), urls)
                values = [] if values is None else values
                values.append(value.translate(_ESCAPES))
                spoken = (spoken[0], _SLOT) + spoken[2:]
            speech.append(spoken)
        document = _document(end, tuple(speech), urls)
        if values is None:
            if key is not None and (self.audio is None or self.mode == "say" or all(p[0] == "play" for p in speech)):
                if len(self._recent) >= DOCUMENT_CACHE_SIZE:
                    self._recent.clear()
                self._recent[key] = (self.clock() + self.reuse_for, document)
            return document
        parts = document.split(_SLOT)
        if len(parts) != len(values) + 1:   # a static text held the marker: no memo for this one
            return _document(end, tuple(self.resolve(s) for s in reply.speech), urls)
        out = [parts[0]]
        for value, part in zip(values, parts[1:]):
            out.append(value)
            out.append(part)
        return "".join(out)
