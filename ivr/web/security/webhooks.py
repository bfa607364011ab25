"""Request checks: the webhooks' signatures, the proxies in front, body sizes.

``init_app(app)`` installs, in this order:

1. ``ProxyFix`` when ``IVR_TRUST_PROXY`` is set (``true``/``1`` = one proxy in front, ``N`` = N
   proxies): X-Forwarded-Proto/Host/Port/Prefix/For then give the request the scheme, host and
   prefix Twilio actually used, e.g. ``https://abc.ngrok.app/voice`` instead of
   ``http://127.0.0.1:5000/voice``.
2. A ``before_request`` check of ``X-Twilio-Signature`` on every ``/voice`` webhook when
   ``TWILIO_AUTH_TOKEN`` is set, with twilio's own ``RequestValidator``. A missing or wrong signature
   gets a plain ``403`` (the one answer that is not TwiML: Twilio never sends such a request, so
   whoever did is not owed a call). The URL checked is ``IVR_PUBLIC_URL`` + the request path when
   that is set, else the request's own (after ProxyFix); see ``signed_url``. Without a token the
   app runs in development mode: nothing is checked, and each process logs that once.
   Webhook bodies are capped at ``WEBHOOK_MAX_BYTES`` (werkzeug would read any url-encoded form
   whole, and the signature check has to read it); every other route's at ``MAX_BODY_BYTES``
   (413). What happens to a request refused here is ``ivr.web.security.errors``'.
"""
from __future__ import annotations

import logging
import os
from urllib.parse import parse_qs, quote, urlsplit

from flask import Flask, Response, current_app, request
from twilio.request_validator import (SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, RequestValidator,
                                      get_signature_algorithm)
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr.hotline.calls import valid_sid
from ivr.logs import log_webhook
from ivr.web.reply import printable

WEBHOOK_PREFIX = "/voice"
FORBIDDEN_BODY = "403 Forbidden: X-Twilio-Signature is missing or does not match this request.\n"
_PATH_SAFE = "!$&'()*+,/:;=@%"       # what werkzeug leaves unquoted in a path

_dev_mode_logged_pid: int | None = None


def proxy_hops(value: object) -> int:
    """How many proxies to trust from ``IVR_TRUST_PROXY``: false/0/empty -> 0, true -> 1, N -> N."""
    if value is None or value is False or value == "":
        return 0
    if value is True:
        return 1
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "on"):
            return 1
        if text in ("false", "no", "off"):
            return 0
        if text.isdigit():
            return int(text)
    raise ValueError(f"IVR_TRUST_PROXY must be true, false or a number of proxies, not {value!r}")


def check_public_url(value: object) -> str | None:
    """``IVR_PUBLIC_URL`` must be an absolute http(s) URL without query or fragment."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"IVR_PUBLIC_URL must look like https://abc.ngrok.app (the URL Twilio "
                         f"calls, without a path to /voice), not {text!r}")
    return text.rstrip("/")


def init_app(app: Flask) -> None:
    hops = proxy_hops(app.config.get("TRUST_PROXY"))
    app.config["PUBLIC_URL"] = check_public_url(app.config.get("PUBLIC_URL"))
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops,
                                x_prefix=hops)
    app.before_request(_check_signature)


def is_webhook_path(path: str) -> bool:
    return path == WEBHOOK_PREFIX or path.startswith(WEBHOOK_PREFIX + "/")


def signed_url(req=None) -> str:
    """The URL Twilio signed, as far as this request can tell: IVR_PUBLIC_URL when set, else the
    request's own scheme and host (fixed by ProxyFix when trusted); then the app's mount point,
    the path, and the query string exactly as received.

    Not ``request.url``: werkzeug turns that into an IRI, decoding escapes such as ``%2A`` or
    ``%E4%BD%A0`` in the query, and Twilio signed the escaped form.
    """
    req = req or request
    base = current_app.config.get("PUBLIC_URL") or f"{req.scheme}://{req.host}"
    url = base.rstrip("/") + quote(req.root_path + req.path, safe=_PATH_SAFE)
    query = req.environ.get("QUERY_STRING", "")
    return url + "?" + query if query else url


def _signed_params(req):
    """What Twilio appended to the URL before signing: the form fields of a form POST, the raw
    body of a JSON POST whose URL carries bodySHA256, nothing for a GET."""
    if req.method != "POST":
        return {}
    if "bodySHA256" in parse_qs(req.query_string.decode("latin-1")):
        return req.get_data(as_text=True)
    return req.form


def _forget_dev_mode_logged() -> None:
    global _dev_mode_logged_pid
    _dev_mode_logged_pid = None


# A forked worker logs it again. (Not os.getpid() per request: a system call on every webhook.)
os.register_at_fork(after_in_child=_forget_dev_mode_logged)


def log_dev_mode_once() -> None:
    global _dev_mode_logged_pid
    if _dev_mode_logged_pid is None:
        _dev_mode_logged_pid = os.getpid()
        log_webhook(logging.WARNING, "DEVELOPMENT MODE: TWILIO_AUTH_TOKEN is not set, so webhook "
                    "signatures are NOT checked", pid=_dev_mode_logged_pid)


def verify_request(token: str, req=None) -> tuple[bool, str, str]:
    """(valid, reason, url checked) for this request's X-Twilio-Signature under ``token``."""
    req = req or request
    signature = req.headers.get(SIGNATURE_HEADER, "")
    url = ""
    try:
        url = signed_url(req)
        if not signature:
            return False, "missing X-Twilio-Signature", url
        algorithm = get_signature_algorithm(req.headers.get(SIGNATURE_SETTINGS_HEADER))
        if RequestValidator(str(token)).validate(url, _signed_params(req), signature, algorithm):
            return True, "", url
        return False, "X-Twilio-Signature does not match", url
    except RequestEntityTooLarge:   # a chunked body past the cap: the apology, not a 403
        raise
    except Exception as exc:   # an unreadable request cannot be shown to be Twilio's
        return False, f"request could not be checked ({type(exc).__name__})", url


def _check_signature():
    if not is_webhook_path(request.path):
        # Every other route's body is capped too (the softphone's JSON is a few bytes).
        limit = request.max_content_length = current_app.config.get("MAX_BODY_BYTES")
        if limit is not None and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()   # refused before any view, whether it reads the body or not
        return None
    # werkzeug reads a url-encoded form whole, whatever its size: cap what a webhook may send.
    limit = request.max_content_length = current_app.config.get("WEBHOOK_MAX_BYTES")
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()   # -> the apology, status 200 (issue 16), signed or not
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token:
        log_dev_mode_once()
        return None
    ok, reason, url = verify_request(token)
    if ok:
        return None
    sid = request.args.get("CallSid", "")
    if not sid and request.method == "POST":
        try:
            sid = request.form.get("CallSid", "")
        except Exception:
            sid = ""
    sid = sid if valid_sid(sid) else "-"   # whoever sent it is not Twilio: log nothing of theirs raw
    log_webhook(logging.WARNING, "webhook signature rejected", call=sid, route=printable(request.path, 100),
                reason=reason, url=printable(url, 300),
                hint="the URL checked must be the one configured on the Twilio number: set "
                     "IVR_PUBLIC_URL to it, or IVR_TRUST_PROXY=1 behind ngrok or a proxy")
    return Response(FORBIDDEN_BODY, status=403, mimetype="text/plain")
