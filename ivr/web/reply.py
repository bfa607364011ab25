"""How the web layer answers Twilio: the one seam every ``/voice`` reply goes through.

- :func:`renderer`: the app's ``ivr.web.twiml.Renderer`` (memoized documents) with this request's
  webhook URLs (``IVR_PUBLIC_URL``-absolute) and prompt audio; :func:`twiml`: a TwiML response.
- :func:`apology`: the hotline's apology in the caller's language (every language when unknown)
  and ``<Hangup/>``; :func:`last_resort_apology` never fails (``LAST_RESORT_TWIML`` when even the
  prompt catalogue cannot be reached).
- :func:`describe_error` and :func:`printable`: untrusted or secret-bearing text made safe for
  one log line.

The voice blueprint (``ivr.web.voice``) and the error handlers (``ivr.web.security``) both use
it; it imports neither.
"""
from __future__ import annotations

import logging
from urllib.parse import urljoin

from flask import Response, current_app

from ivr.web.incoming import current_request, has_incoming_request

from ivr.web.twiml import Renderer

# Used only when even the prompt catalogue cannot be reached. Voice/language pairs Twilio
# documents (ivr/tts/say_voices.py): its default voice speaks no Mandarin.
LAST_RESORT_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Say voice="Polly.Zhiyu" language="cmn-CN">抱歉，系统出现故障，请稍后再拨。</Say>'
    '<Say voice="Polly.Joanna" language="en-US">Sorry, something went wrong. Please call again later.</Say>'
    "<Hangup /></Response>"
)


def _join(base: str | None, path: str) -> str:
    """``path`` made absolute under ``IVR_PUBLIC_URL`` when one is set."""
    return urljoin(base.rstrip("/") + "/", path.lstrip("/")) if base else path


RENDERERS_KEPT = 64   # mount points come from the request (X-Forwarded-Prefix): stay bounded


def renderer(mode: str | None = None) -> Renderer:
    """The app's renderer for this request's mount point, ``IVR_PUBLIC_URL`` and voice settings:
    made once per such combination and kept, so its URLs are built once (from the URL map, not
    ``url_for``: the webhook lane answers without a request context) and its documents are reused
    for ``IVR_AUDIO_RECHECK_SECONDS`` (``twiml.Renderer``'s ``reuse_for``, the audio lookups' own
    freshness; a document with a prompt still without audio is never reused)."""
    app = current_app._get_current_object()
    cfg = app.config
    mode = mode or cfg["VOICE_MODE"]
    script_root = current_request().script_root if has_incoming_request() else ""
    public, voices, say_languages = cfg.get("PUBLIC_URL"), cfg["SAY_VOICES"], cfg.get("SAY_LANGUAGES")
    library = app.extensions.get("ivr_audio")
    # id()s: the kept renderer holds these objects, so an id is not reused while it is kept.
    key = (mode, script_root, public, id(voices), id(say_languages), id(library))
    kept = app.extensions.setdefault("ivr_renderers", {})
    made = kept.get(key)
    if made is None:
        if len(kept) >= RENDERERS_KEPT:
            kept.clear()
        made = kept[key] = _make_renderer(app, mode, script_root, public, voices, say_languages, library)
    return made


def _make_renderer(app, mode, script_root, public, voices, say_languages, library) -> Renderer:
    urls: dict[str, str] = {}

    def url(endpoint: str) -> str:
        found = urls.get(endpoint)
        if found is None:
            path = app.url_map.bind("localhost", script_name=script_root or "/").build(endpoint)
            found = urls[endpoint] = _join(public, path)
        return found

    def audio(speak, render: bool) -> str | None:
        path = library.audio_path(speak.language, speak.prompt, speak.text, dynamic=speak.dynamic, render=render)
        return _join(public, path) if path else None

    # Without an audio service every prompt is a <Say>: a document depends on the reply alone.
    return Renderer(url=url, voices=voices, mode=mode, audio=audio if library is not None else None,
                    say_languages=say_languages, reuse_for=library.recheck if library is not None else 60.0)


TWIML_CONTENT_TYPE = "text/xml; charset=utf-8"


def twiml(xml: str) -> Response:
    return Response(xml, status=200, content_type=TWIML_CONTENT_TYPE)


def apology(language: str | None = None) -> Response:
    """The hotline's apology, then ``<Hangup/>``, spoken with ``<Say>`` (no audio file to miss).
    ``language`` None: the call's language is unknown, so every language, the default first.
    Raises when it cannot be rendered (see :func:`last_resort_apology`)."""
    return twiml(_apology_xml(language))


def _apology_xml(language: str | None) -> str:
    return renderer("say").render(current_app.extensions["ivr_hotline"].engine.apology(language))


def apology_twiml(language: str | None = None) -> str:
    """:func:`apology`'s TwiML, falling back like :func:`last_resort_apology`: never raises."""
    try:
        return _apology_xml(language)
    except Exception as exc:
        from ivr.logs import log_webhook

        log_webhook(logging.ERROR, "apology could not be rendered", language=language or "all",
                    error=describe_error(exc))
        if language is not None:
            return apology_twiml(None)
        return LAST_RESORT_TWIML


def last_resort_apology() -> Response:
    """The apology in every language, or ``LAST_RESORT_TWIML`` when even that fails: never raises."""
    try:
        return apology(None)
    except Exception:
        return twiml(LAST_RESORT_TWIML)


def printable(text: str, limit: int) -> str:
    """Untrusted text for a log line: control characters escaped, so it stays one line."""
    return repr(text[:limit])[1:-1]


def describe_error(exc: BaseException) -> str:
    """One line about an exception, safe to log: its type and the first line of its message.
    SQLAlchemy puts the statement and its parameters (ID numbers, password hashes) on the lines
    after the first, so they never reach the log."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return printable(f"{type(exc).__name__}: {first}", 200)
