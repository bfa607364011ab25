"""Flask's cookie session, opened only when the request carries the cookie.

Twilio never sends a session cookie, yet Flask's default interface builds a signing serializer
(itsdangerous, key derivation included) for every request before finding no cookie: a fifth of a
menu webhook's framework cost (docs/benchmarks.md). A request without the cookie gets an empty
session straight away; anything that writes to it is saved exactly as before, and an empty
session nobody touched is not saved at all.
"""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class CookieOnlySessionInterface(SecureCookieSessionInterface):
    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        # An empty session nobody touched: nothing to set, delete or vary on (Flask would read
        # seven cookie settings from the config first to reach the same conclusion).
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)


def init_app(app) -> None:
    app.session_interface = CookieOnlySessionInterface()
