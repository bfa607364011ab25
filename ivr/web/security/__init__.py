"""The web layer's security, one module per job (docs/security.md):

- ``webhooks``: request checks: X-Twilio-Signature on ``/voice``, ProxyFix, public URL, body caps;
- ``errors``: what a failed request gets (TwiML apology on a webhook, JSON elsewhere, never a 500
  page);
- ``admin``: the admin token: sign-in, back-off, cookie, CSRF (dashboard and softphone);
- ``limits``: per-client request limits in the database (softphone, admin sign-in);
- ``sessions``: Flask's cookie session opened only when the request carries one;
- ``headers``: security headers of the browser pages.

``init_app(app)`` installs the request-wide parts, in this order.
"""
from __future__ import annotations


def init_app(app) -> None:
    from ivr.web.security import admin, errors, sessions, webhooks

    webhooks.init_app(app)   # ProxyFix, X-Twilio-Signature, body caps (issue 7, 16)
    errors.init_app(app)     # no error pages: TwiML on /voice, JSON elsewhere
    sessions.init_app(app)   # no session cookie, no signer: what every Twilio request is
    admin.init_app(app)      # admin token length, CSRF tokens for admin forms (issue 16)
