"""Prompt audio over HTTP, and the lookup the TwiML layer uses to choose <Play> or <Say>.

Routes (``audio/wav``, ETag, Cache-Control, conditional GET/HEAD, ranges):

- ``GET /audio/<lang>/<prompt_id>.wav``: a static prompt: its recording, else its TTS render
  (rendered on the spot if missing). Unknown or dynamic prompt: 404.
- ``GET /audio/<lang>/<prompt_id>/<key>.wav?c=<CallSid>&e=<expiry>&t=<tag>``: a dynamic render
  (a balance, a payment). ``key`` is a keyed hash of the text (SECRET_KEY), and the URL is a
  capability for one call: ``t`` is an HMAC over key, call and expiry, and the audio is served
  only until the expiry (``IVR_DYNAMIC_AUDIO_SECONDS``) and while that call has not ended.
  Anything else: 404. ``Cache-Control: private``; no ``X-Prompt-Text`` (issue 16), except in
  development mode (no TWILIO_AUTH_TOKEN), where the text rides in the tagged URL (``x``) for
  the local phone's transcripts.

Static prompts carry ``X-Prompt-Text``: the prompt's text, UTF-8 percent-encoded.
"""
from __future__ import annotations

import hmac
import logging
import time
from urllib.parse import quote, urlencode

from flask import Blueprint, abort, current_app, request, send_file

from ivr.tts.errors import TTSError
from ivr.tts.store import SAFE_ID, PromptAudio, PromptFile

log = logging.getLogger(__name__)
bp = Blueprint("audio", __name__)

DYNAMIC_SECONDS = 4 * 3600     # Twilio ends a call after 4 hours at the latest


class AudioService:
    """``app.extensions["ivr_audio"]``.

    ``recheck`` (``IVR_AUDIO_RECHECK_SECONDS``): how long a lookup's answer is reused before the
    files are looked at again (a recording, the manifest and the render: three ``stat`` calls).
    Every prompt of every webhook is looked up, and files change only when someone records or
    renders, so a busy worker stats each prompt once a second instead of 3-4 times a webhook
    (issue 17); a recording that replaces a render is heard at most that long after it lands. Only
    audio found is remembered: a prompt without audio is looked for on every webhook, so its first
    render is heard at once. 0: every time.
    """

    CACHE_MAX = 4096

    def __init__(self, store: PromptAudio, recheck: float = 1.0):
        self.store = store
        self.recheck = float(recheck)
        self._recent: dict[tuple, tuple[float, bool, PromptFile | None]] = {}

    def warm(self) -> None:
        """Load now what the first lookup in each language would load: its TTS voice (for Mandarin
        the pronunciation lexicon, with pypinyin: ~0.5 s). A server calls it before forking its
        workers, so that no worker's first caller waits for it and the workers share it instead of
        each loading its own copy. Never raises: a voice that cannot load fails, and is reported,
        where it is used."""
        catalogue = self.store.catalogue
        for lang in catalogue.languages if catalogue is not None else ():
            try:
                self.store.voice(lang)
            except Exception:  # noqa: BLE001 - reported by the lookups that need it
                log.debug("TTS voice for %s not loaded ahead", lang, exc_info=True)

    def audio_path(self, lang: str, prompt_id: str, text: str, *, dynamic: bool, render: bool) -> str | None:
        """URL path of audio saying exactly ``text`` (a recording wins, else a current TTS render),
        rendering it first when ``render`` is true; None when there is none (and ``render`` is
        false). Never raises for missing files; raises TTSError when a render fails.

        Cheap enough for every prompt of every webhook: a dict lookup while the last answer is
        younger than ``recheck``, else three stats (no rendering)."""
        key = (lang, prompt_id, text, dynamic)
        now = time.monotonic()
        recent = self._recent.get(key)
        if recent is not None and now - recent[0] < self.recheck:
            _, static, found = recent
        else:
            static, found = self._lookup(lang, prompt_id, text, dynamic)
            # A prompt without audio yet is looked for every time (a render shows at once); a
            # read-out without (every balance its own text, rendered only when played) is not.
            if (found is not None or dynamic) and self.recheck > 0:
                if len(self._recent) >= self.CACHE_MAX:
                    self._recent.clear()
                self._recent[key] = (now, static, found)
        if found is None and render:
            try:
                if static:
                    found = self.store.ensure_static(lang, prompt_id, text)
                else:
                    found = self.store.ensure_dynamic(lang, _url_id(prompt_id), text)
            except OSError as exc:
                raise TTSError(f"prompt {prompt_id!r} ({lang}): cannot write audio: {exc}",
                               prompt_id=prompt_id, lang=lang) from exc
            self._recent.pop(key, None)   # rendered: the next lookup sees it
        if found is None:
            return None
        if static:
            return f"/audio/{lang}/{prompt_id}.wav"
        return f"/audio/{lang}/{_url_id(prompt_id)}/{found.key}.wav?{capability(lang, found.key, text)}"

    def use_catalogue(self, catalogue) -> None:
        """A new menu version's prompt texts: lookups start afresh."""
        self.store.use_catalogue(catalogue)
        self._recent = {}

    def _lookup(self, lang: str, prompt_id: str, text: str, dynamic: bool) -> tuple[bool, PromptFile | None]:
        static = not dynamic and self.store.is_static(lang, prompt_id, text)
        try:
            if static:
                return static, self.store.lookup_static(lang, prompt_id, text)
            # Every read-out is a new text (each balance its own): the manifest is looked at
            # again at most every ``recheck`` seconds, not on every webhook.
            return static, self.store.lookup_dynamic(lang, text, max_age=self.recheck)
        except Exception:  # noqa: BLE001 - an unreadable folder or file: behave as "no audio"
            log.warning("audio lookup for %s %r failed", lang, prompt_id, exc_info=True)
            return static, None


def _tag(lang: str, key: str, sid: str, expires: int, text: str = "") -> str:
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.digest(secret, f"audio:{lang}/{key}/{sid}/{expires}/{text}".encode(), "sha256").hex()[:32]


def capability(lang: str, key: str, text: str = "") -> str:
    """The query that lets the current call (the request's CallSid) fetch this render for a while."""
    from ivr.hotline.calls import valid_sid

    from ivr.web.incoming import current_request, has_incoming_request

    sid = current_request().values.get("CallSid", "") if has_incoming_request() else ""
    sid = sid if valid_sid(sid) else ""
    seconds = int(current_app.config.get("DYNAMIC_AUDIO_SECONDS") or DYNAMIC_SECONDS)
    expires = (int(time.time()) // 60 + 1) * 60 + seconds   # whole minutes: the TwiML memo still helps
    # Development mode only (no TWILIO_AUTH_TOKEN: no real callers): the text rides in the URL,
    # covered by the tag, so the local phone's transcript shows what was said. Never in production.
    dev_text = "" if current_app.config.get("TWILIO_AUTH_TOKEN") else text
    query = {"c": sid, "e": expires, "t": _tag(lang, key, sid, expires, dev_text)}
    if dev_text:
        query["x"] = dev_text
    return urlencode(query)


def _call_open(sid: str) -> bool:
    from sqlalchemy import select

    from ivr.hotline.models import Call

    db = current_app.extensions.get("ivr_db")
    if db is None:   # the audio blueprint on its own (no call log to ask)
        return True
    with db.engine.connect() as conn:
        row = conn.execute(select(Call.ended_at).where(Call.call_sid == sid)).first()
    return row is not None and row.ended_at is None


def _url_id(prompt_id: str) -> str:
    """Dynamic renders are named by hash; the prompt id in their URL is informational."""
    return prompt_id if SAFE_ID.match(prompt_id) else "text"


def init_app(app) -> None:
    app.config.setdefault("AUDIO_MAX_AGE", 3600)
    service = app.extensions["ivr_audio"] = AudioService(PromptAudio.from_config(app.config),
                                                         recheck=app.config.get("AUDIO_RECHECK_SECONDS", 1))
    hotline = app.extensions.get("ivr_hotline")
    if hotline is not None:   # a new menu version brings its prompt texts (ivr.hotline.flow_versions)
        hotline.versions.listen(lambda version: service.use_catalogue(version.catalogue))
    try:
        app.extensions["ivr_audio"].store.forget_clear_dynamic()   # renders cached before issue 16
    except Exception:  # noqa: BLE001 - an unreadable audio folder is reported where it is used
        log.warning("could not clear old dynamic renders", exc_info=True)


def _service() -> AudioService:
    return current_app.extensions["ivr_audio"]


def _send(found: PromptFile, max_age: int, text: str | None = None):
    response = send_file(found.filename, mimetype="audio/wav", etag=found.etag, conditional=True,
                         max_age=max_age)
    if text is not None:   # static prompts only: dynamic texts are personal
        response.headers["X-Prompt-Text"] = quote(text, safe="")
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
    return _send(found, int(current_app.config.get("AUDIO_MAX_AGE", 3600)), text=found.text)


@bp.get("/audio/<lang>/<prompt_id>/<key>.wav")
def dynamic_prompt(lang: str, prompt_id: str, key: str):
    sid, tag = request.args.get("c", ""), request.args.get("t", "")
    dev_text = "" if current_app.config.get("TWILIO_AUTH_TOKEN") else request.args.get("x", "")
    try:
        expires = int(request.args.get("e", ""))
    except ValueError:
        abort(404)
    left = expires - time.time()
    if left <= 0 or not hmac.compare_digest(tag.encode(), _tag(lang, key, sid, expires, dev_text).encode()):
        abort(404)
    if sid and not _call_open(sid):
        abort(404)   # the call has ended: its read-outs go with it
    found = _service().store.dynamic_file(lang, prompt_id, key)
    if found is None:
        abort(404)
    response = _send(found, int(min(left, 3600)), text=dev_text or None)
    response.cache_control.private = True
    response.cache_control.public = False
    return response
