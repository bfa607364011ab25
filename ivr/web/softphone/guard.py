"""Who may use the softphone and how much: the admin token in production mode, per-client limits,
the made-up calling number (issue 16). Glue between the routes and ``ivr.web.security``."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request

from ivr.web.security import admin, limits
from ivr.web.security.errors import json_error


def admin_only_in_production():
    """``before_request``: in production mode (TWILIO_AUTH_TOKEN set) the softphone, if switched
    on at all, is for the admin token's holder only: it dials the signed hotline with valid
    signatures. A wrong bearer token counts like a wrong sign-in (429 while backing off)."""
    if not current_app.config.get("TWILIO_AUTH_TOKEN"):
        return None
    refused = admin.check()
    if refused is None:
        return None
    if refused.status == 429:
        return json_error(429, refused.error, refused.retry_after)
    if request.endpoint == "phone_page.page":
        return current_app.response_class(
            "401: in production mode the softphone is for the admin: sign in at /dashboard first "
            "(or send Authorization: Bearer <IVR_ADMIN_TOKEN>).\n", status=401, mimetype="text/plain")
    return json_error(401, "the softphone needs the admin token in production mode: sign in at /dashboard "
                           "or send Authorization: Bearer <IVR_ADMIN_TOKEN>")


def limited(kind: str, setting: str):
    """None, or a 429 when this client is over its ``setting`` per minute for ``kind``."""
    limit = int(current_app.config.get(setting))
    verdict = limits.hit(limits.client_key(f"softphone-{kind}"), limit, 60.0)
    if verdict.allowed:
        return None
    wait = max(1, int(verdict.retry_after + 0.999))
    return json_error(429, f"too many {kind} from this address: at most {limit} a minute "
                           f"(IVR_{setting}); try again in {wait} s", wait)


def client() -> str:
    """Who is dialling, for the cap on calls going at once: a keyed hash of the client address."""
    return limits.client_key("softphone-calls")


def caller() -> str:
    """A made-up calling number derived from the browser's address (keyed with SECRET_KEY, so
    the address cannot be read back): the hotline's per-caller limits then apply per address,
    and clearing cookies does not reset them."""
    key = str(current_app.config.get("SECRET_KEY") or "").encode()
    digest = hmac.new(key, f"softphone:{request.remote_addr}".encode(), hashlib.sha256).hexdigest()
    return "+86170" + str(int(digest, 16) % 10**8).zfill(8)
