"""A test clock for development servers: ``IVR_TEST_CLOCK=true`` lets a request name its "now".

Scenario files pin the time their calls happen at (``NOW`` in ``[config]``: business hours,
holidays). In-process that is app config; against a running server (``ivr test --url``) the
local phone sends it on every webhook instead, as the ``X-IVR-Test-Now`` header (an ISO
date-time). A server started with ``IVR_TEST_CLOCK=true`` uses it for that request, for the
menus and the account service alike, and says so with ``X-IVR-Test-Clock: on`` in the answer
(so the phone can tell a server that ignored it). Anyone who can reach such a server can set
its clock, so it is for development only: the app refuses to start with it while
``TWILIO_AUTH_TOKEN`` is set (a server that takes real calls). Not a blueprint: a request hook.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app, g, has_app_context, has_request_context, request

TEST_NOW_HEADER = "X-IVR-Test-Now"
ACK_HEADER = "X-IVR-Test-Clock"


class TestClockRefused(RuntimeError):
    """IVR_TEST_CLOCK on a server that takes real Twilio calls."""


def now_setting():
    """What stands in for "now" in this request: the test clock's header when allowed, else
    the NOW setting (None: the real time)."""
    if has_request_context() and current_app.config.get("TEST_CLOCK"):
        given = request.headers.get(TEST_NOW_HEADER)
        if given:
            try:
                moment = dt.datetime.fromisoformat(given.strip())
            except ValueError:
                current_app.logger.warning("ignored a malformed %s header", TEST_NOW_HEADER)
            else:
                g.ivr_test_clock = True
                return moment
    # An app context without a request: the webhook lane (which leaves requests naming a time to
    # Flask, so only the NOW setting applies), a command. No app at all: the real time.
    return current_app.config.get("NOW") if has_app_context() else None


def init_app(app) -> None:
    if not app.config.get("TEST_CLOCK"):
        return
    if app.config.get("TWILIO_AUTH_TOKEN"):
        raise TestClockRefused("IVR_TEST_CLOCK is for development servers only: refused while "
                               "TWILIO_AUTH_TOKEN is set (this server takes real calls)")
    app.logger.warning("TEST CLOCK: requests may set the time with the %s header (development only)",
                       TEST_NOW_HEADER)

    @app.after_request
    def _acknowledge(response):
        if g.get("ivr_test_clock"):
            response.headers[ACK_HEADER] = "on"
        return response

    accounts = getattr(getattr(app.extensions.get("ivr_hotline"), "services", None), "accounts", None)
    if accounts is not None and hasattr(accounts, "_now_fn"):
        fixed = accounts._now_fn

        def now():
            moment = now_setting()
            if moment is None:
                return fixed()
            moment = moment if isinstance(moment, dt.datetime) else dt.datetime.fromisoformat(str(moment))
            from ivr.hotline.calls import BEIJING

            return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)

        accounts._now_fn = now
