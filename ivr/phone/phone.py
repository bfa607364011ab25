"""The phone: places calls to a TwiML app in-process (WSGI) or over HTTP."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

import requests

from ivr.phone.audio import Recording
from ivr.phone.call import Call
from ivr.phone.context import AudioCache, CallContext, Queues
from ivr.phone.errors import PhoneError
from ivr.phone.settings import PhoneSettings
from ivr.phone.transport import HttpTransport, WsgiTransport
from ivr.phone.voice import Voice

DEFAULT_APP_URL = "http://localhost/voice"


class Phone:
    """``Phone(url)`` calls a webhook over HTTP; ``Phone(app=wsgi_app)`` calls an app in-process
    (``url`` then defaults to http://localhost/voice and only sets path and signed host).
    Other keyword arguments are ``PhoneSettings`` fields (auth_token, caller, dial_outcome...)."""

    def __init__(self, url: str | None = None, *, app: Callable | None = None,
                 tts: Callable[[str, str], bytes] | None = None, pool_size: int = 10, **settings):
        if app is None and not url:
            raise PhoneError("give the webhook URL to call, or a WSGI app to call in-process")
        self.app = app
        self.settings = PhoneSettings(url=url or DEFAULT_APP_URL, **settings)
        self.tts = tts
        self.audio_cache = AudioCache()
        self.queues = Queues()
        self._adapter = None if app is not None else requests.adapters.HTTPAdapter(
            pool_connections=pool_size, pool_maxsize=pool_size)

    def transport(self):
        if self.app is not None:
            return WsgiTransport(self.app, self.settings.url)
        return HttpTransport(self._adapter)

    def dial(self, *, record: str | Path | bool | None = None, on_event: Callable[[dict], None] | None = None,
             on_sound: Callable | None = None, clock=None, **overrides) -> Call:
        """Place a call and run it to the first input point. ``record``: a WAV path to write at
        the end, or True to keep the audio for ``call.recording_wav()``. ``overrides``: settings
        for this call only (e.g. caller="+86...", dial_outcome="busy"). ``clock``: the call's
        clock (default simulated; ``ivr.phone.clock.WallClock`` for a call a person makes live)."""
        settings = replace(self.settings, **overrides) if overrides else self.settings
        need_audio = bool(record) or on_sound is not None
        ctx = CallContext(settings, self.transport(), Voice(need_audio, self.tts),
                          recording=Recording() if record else None, audio_cache=self.audio_cache,
                          queues=self.queues, on_event=on_event, on_sound=on_sound, clock=clock)
        return Call(ctx, record_to=record if isinstance(record, (str, Path)) else None)

    def run(self, keys: Iterable[str] = (), **dial_options) -> Call:
        """A whole call: answer each input point with the next key token, then hang up."""
        return self.dial(**dial_options).run(keys)


def run_call(keys: Iterable[str] = (), url: str | None = None, *, app: Callable | None = None,
             record: str | Path | bool | None = None, **settings) -> Call:
    """One-shot: ``run_call(["2", "1"], app=my_wsgi_app)`` returns the finished Call."""
    return Phone(url, app=app, **settings).run(keys, record=record)
