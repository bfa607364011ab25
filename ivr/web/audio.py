"""Prompt audio over HTTP, and the lookup the TwiML layer uses to choose <Play> or <Say>.

Routes (``audio/wav``, ETag, Cache-Control, conditional GET/HEAD, ranges):

- ``GET /audio/<lang>/<prompt_id>.wav``: a static prompt: its recording, else its TTS render
  (rendered on the spot if missing). Unknown or dynamic prompt: 404.
- ``GET /audio/<lang>/<prompt_id>/<key>.wav``: a cached dynamic render (content-addressed, so
  cacheable forever). Unknown: 404.

Every response carries ``X-Prompt-Text``: the prompt's text, UTF-8 percent-encoded.
"""
from __future__ import annotations

import logging
from urllib.parse import quote

from flask import Blueprint, abort, current_app, send_file

from ivr.tts.errors import TTSError
from ivr.tts.store import SAFE_ID, PromptAudio, PromptFile

log = logging.getLogger(__name__)
bp = Blueprint("audio", __name__)

DYNAMIC_MAX_AGE = 365 * 24 * 3600


class AudioService:
    """``app.extensions["ivr_audio"]``."""

    def __init__(self, store: PromptAudio):
        self.store = store

    def audio_path(self, lang: str, prompt_id: str, text: str, *, dynamic: bool, render: bool) -> str | None:
        """URL path of audio saying exactly ``text`` (a recording wins, else a current TTS render),
        rendering it first when ``render`` is true; None when there is none (and ``render`` is
        false). Never raises for missing files; raises TTSError when a render fails.

        Cheap enough for every prompt of every webhook (10-20 us: three stats, no rendering)."""
        static = not dynamic and self.store.is_static(lang, prompt_id, text)
        try:
            if static:
                found = self.store.lookup_static(lang, prompt_id, text)
            else:
                found = self.store.lookup_dynamic(lang, text)
        except Exception:  # noqa: BLE001 - an unreadable folder or file: behave as "no audio"
            log.warning("audio lookup for %s %r failed", lang, prompt_id, exc_info=True)
            found = None
        if found is None and render:
            try:
                if static:
                    found = self.store.ensure_static(lang, prompt_id, text)
                else:
                    found = self.store.ensure_dynamic(lang, _url_id(prompt_id), text)
            except OSError as exc:
                raise TTSError(f"prompt {prompt_id!r} ({lang}): cannot write audio: {exc}",
                               prompt_id=prompt_id, lang=lang) from exc
        if found is None:
            return None
        if static:
            return f"/audio/{lang}/{prompt_id}.wav"
        return f"/audio/{lang}/{_url_id(prompt_id)}/{found.key}.wav"


def _url_id(prompt_id: str) -> str:
    """Dynamic renders are named by hash; the prompt id in their URL is informational."""
    return prompt_id if SAFE_ID.match(prompt_id) else "text"


def init_app(app) -> None:
    app.config.setdefault("AUDIO_MAX_AGE", 3600)
    service = app.extensions["ivr_audio"] = AudioService(PromptAudio.from_config(app.config))
    hotline = app.extensions.get("ivr_hotline")
    if hotline is not None:   # a new menu version brings its prompt texts (ivr.flow_versions)
        hotline.versions.listen(lambda version: service.store.use_catalogue(version.catalogue))


def _service() -> AudioService:
    return current_app.extensions["ivr_audio"]


def _send(found: PromptFile, max_age: int, immutable: bool = False):
    response = send_file(found.filename, mimetype="audio/wav", etag=found.etag, conditional=True,
                         max_age=max_age)
    if immutable:
        response.cache_control.immutable = True
    response.headers["X-Prompt-Text"] = quote(found.text, safe="")
    return response


@bp.get("/audio/<lang>/<prompt_id>.wav")
def static_prompt(lang: str, prompt_id: str):
    store = _service().store
    text = store.static_text(lang, prompt_id)
    if text is None or not SAFE_ID.match(prompt_id):
        abort(404)
    try:
        found = store.ensure_static(lang, prompt_id, text)
    except (TTSError, OSError) as exc:
        log.error("audio for %s %r unavailable: %s", lang, prompt_id, exc)
        abort(503)
    return _send(found, int(current_app.config.get("AUDIO_MAX_AGE", 3600)))


@bp.get("/audio/<lang>/<prompt_id>/<key>.wav")
def dynamic_prompt(lang: str, prompt_id: str, key: str):
    found = _service().store.dynamic_file(lang, prompt_id, key)
    if found is None:
        abort(404)
    return _send(found, DYNAMIC_MAX_AGE, immutable=True)
