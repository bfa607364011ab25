"""Who holds the admin token (``IVR_ADMIN_TOKEN``), for the dashboard and any admin-only page.

- The token's length (at least ``IVR_ADMIN_TOKEN_MIN_LENGTH``) is checked with the other settings,
  by ``ivr.config.check_admin_token``, so every command refuses a short one.
- :func:`is_admin`: the request carries the token as ``Authorization: Bearer <token>`` or the
  sign-in cookie (a keyed hash of the token, never the token; valid on every admin page).
- :func:`try_token`: one sign-in attempt, throttled per client in the database: after
  ``IVR_ADMIN_FREE_FAILURES`` wrong tokens each further try must wait, doubling from
  ``IVR_ADMIN_BACKOFF_SECONDS`` (429 with Retry-After meanwhile, even for the right token).
- :func:`check` and :func:`attempt`: the same as a :class:`Refusal` (403 no token set, 401, 429)
  or None, which each admin-only blueprint answers in its own form (the dashboard's sign-in page,
  the softphone's JSON); :func:`set_cookie` / :func:`delete_cookie` sign a browser in and out.
- CSRF: every admin form carries ``csrf_token()`` (an HMAC of a random nonce held in an
  HttpOnly, SameSite=Strict cookie) and its POST view calls :func:`check_csrf` first.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass

from flask import current_app, g, request
from werkzeug.exceptions import BadRequest, TooManyRequests

from ivr.web.security import limits

COOKIE = "ivr_admin"
COOKIE_PATH = "/"
COOKIE_SECONDS = 12 * 3600
CSRF_COOKIE = "ivr_csrf"
CSRF_FIELD = "csrf_token"


def token() -> str | None:
    value = current_app.config.get("ADMIN_TOKEN")
    return str(value) if value not in (None, "") else None


def cookie_value(admin_token: str) -> str:
    return hmac.new(admin_token.encode(), b"ivr-dashboard-session", hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def is_admin() -> bool:
    """The request carries the admin token (bearer) or its sign-in cookie. A bearer token is
    checked like a sign-in (:func:`try_token`): a wrong one counts, and while this client backs
    off even the right one raises TooManyRequests, so guessing through any route is throttled.
    The cookie is an HMAC of the token (256 bits), not worth throttling."""
    expected = token()
    if expected is None:
        return False
    if same(request.cookies.get(COOKIE), cookie_value(expected)):
        return True
    given = bearer()
    return given is not None and try_token(given)


def set_cookie(response, admin_token: str):
    response.set_cookie(COOKIE, cookie_value(admin_token), max_age=COOKIE_SECONDS, httponly=True,
                        samesite="Strict", secure=request.is_secure, path=COOKIE_PATH)
    return response


def delete_cookie(response):
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


def try_token(given: str | None) -> bool:
    """Whether ``given`` is the token; raises TooManyRequests while this client must wait."""
    cfg = current_app.config
    key = limits.client_key("admin-login")
    wait = limits.wait_left(key)
    if wait > 0:
        raise _too_many(wait)
    if same(given, token() or ""):
        limits.clear(key)
        return True
    limits.fail(key, int(cfg.get("ADMIN_FREE_FAILURES", 5)), float(cfg.get("ADMIN_BACKOFF_SECONDS", 2)))
    return False


@dataclass(frozen=True)
class Refusal:
    """Why a request is not the admin's: 403 (no IVR_ADMIN_TOKEN: admin pages are off), 401 (no
    or a wrong token; ``error`` says which) or 429 (backing off; ``retry_after`` seconds)."""
    status: int
    error: str | None = None
    retry_after: int | None = None


WRONG = "That token is not right."


def attempt(given: str | None) -> Refusal | None:
    """One sign-in with ``given``: None when it is the token, else 401 (or 429 while backing off)."""
    try:
        if try_token(given):
            return None
    except TooManyRequests as exc:
        return Refusal(429, exc.description, exc.retry_after)
    return Refusal(401, WRONG)


def check() -> Refusal | None:
    """None when this request is the admin's (:func:`is_admin`), else why not."""
    if token() is None:
        return Refusal(403)
    try:
        if is_admin():   # a bearer token counts like a sign-in
            return None
    except TooManyRequests as exc:
        return Refusal(429, exc.description, exc.retry_after)
    return Refusal(401, WRONG if bearer() is not None else None)


def _too_many(wait: float) -> TooManyRequests:
    exc = TooManyRequests(f"Too many wrong admin tokens from this address: try again in {math.ceil(wait)} s.")
    exc.retry_after = math.ceil(wait)
    return exc


# -- CSRF ----------------------------------------------------------------------------------------
def _csrf_for(nonce: str) -> str:
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(secret, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The hidden-field value for this browser's forms (creates its nonce on first use)."""
    nonce = request.cookies.get(CSRF_COOKIE) or g.get("ivr_csrf_nonce")
    if not nonce:
        nonce = g.ivr_csrf_nonce = secrets.token_urlsafe(24)
    return _csrf_for(nonce)


def save_csrf_cookie(response):
    """after_request: store a nonce minted during this request."""
    nonce = g.get("ivr_csrf_nonce")
    if nonce and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="Strict", secure=request.is_secure,
                            path=COOKIE_PATH)
    return response


def check_csrf() -> None:
    """Raise 400 unless the form's token matches this browser's nonce cookie."""
    nonce = request.cookies.get(CSRF_COOKIE)
    given = request.form.get(CSRF_FIELD, "")
    if not nonce or not same(given, _csrf_for(nonce)):
        raise BadRequest("The form has expired or did not come from this site: reload the page and try again.")


def init_app(app) -> None:
    # IVR_ADMIN_TOKEN's length is checked with the other settings (ivr.config.check_admin_token)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.after_request(save_csrf_cookie)
