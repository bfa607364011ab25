"""Render an engine Reply as TwiML with twilio's VoiceResponse (never hand-written XML)."""
from __future__ import annotations

import logging
from typing import Callable

from twilio.twiml.voice_response import VoiceResponse

from ivr.engine.steps import Dial, Enqueue, Gather, Hangup, Record, Reply, Speak

log = logging.getLogger("ivr")


class Renderer:
    """Turns steps into verbs. ``audio(speak, render)`` returns a Play URL or None (then <Say>)."""

    def __init__(self, url: Callable[[str], str], voices: dict[str, str], mode: str,
                 audio: Callable[[Speak, bool], str | None] | None = None):
        self.url = url
        self.voices = voices
        self.mode = mode
        self.audio = audio

    def speak(self, parent, s: Speak) -> None:
        if self.mode != "say" and self.audio is not None:
            try:
                play_url = self.audio(s, self.mode == "play")
            except Exception:   # a TTS failure must not cost the caller the call: fall back to <Say>
                log.warning("audio unavailable, using <Say>", extra={"fields": {"prompt": s.prompt}},
                            exc_info=True)
                play_url = None
            if play_url:
                parent.play(play_url)
                return
        parent.say(s.text, language=s.language, voice=self.voices.get(s.language))

    def render(self, reply: Reply) -> str:
        r = VoiceResponse()
        end = reply.end
        if isinstance(end, Gather):
            g = r.gather(action=self.url("voice.input"), method="POST", timeout=end.timeout,
                         num_digits=end.num_digits, finish_on_key=end.finish_on_key,
                         action_on_empty_result=False)
            for s in reply.speech:
                self.speak(g, s)
            # Twilio falls through a <Gather> that heard nothing: that is our timeout.
            r.redirect(self.url("voice.timeout"), method="POST")
            return str(r)
        for s in reply.speech:
            self.speak(r, s)
        if isinstance(end, Hangup):
            r.hangup()
        elif isinstance(end, Dial):
            r.dial(end.number, action=self.url("voice.dial_status"), method="POST", timeout=end.timeout)
        elif isinstance(end, Enqueue):
            r.enqueue(end.queue, action=self.url("voice.dial_status"), method="POST",
                      wait_url=self.url("voice.hold"), wait_url_method="POST")
        elif isinstance(end, Record):
            r.record(action=self.url("voice.recorded"), method="POST", max_length=end.max_length,
                     finish_on_key=end.finish_on_key, play_beep=True, timeout=5)
            # An empty recording falls through to here.
            r.redirect(self.url("voice.timeout"), method="POST")
        else:
            raise TypeError(f"cannot render {end!r}")
        return str(r)
