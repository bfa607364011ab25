"""The cookie session is skipped for cookieless requests (every Twilio webhook) and still works for
anything that uses it: written, signed, read back, and a forged cookie is refused."""
from __future__ import annotations

from flask import session

from ivr.web.security.sessions import CookieOnlySessionInterface
from tests.conftest import make_app


def _app(tmp_path):
    app = make_app(tmp_path)

    @app.get("/_test/session/set/<value>")
    def set_value(value):
        session["value"] = value
        return "ok"

    @app.get("/_test/session/get")
    def get_value():
        return session.get("value", "-")

    return app


def test_the_app_uses_the_cookie_only_interface(tmp_path):
    assert isinstance(make_app(tmp_path).session_interface, CookieOnlySessionInterface)


def test_a_webhook_without_a_cookie_sets_none(tmp_path):
    client = _app(tmp_path).test_client()
    response = client.post("/voice", data={"CallSid": "CAsession1", "From": "+8613800138000"})
    assert response.status_code == 200 and b"<Response>" in response.data
    assert "Set-Cookie" not in response.headers
    assert client.get("/_test/session/get").get_data(as_text=True) == "-"


def test_a_session_written_is_signed_and_read_back(tmp_path):
    client = _app(tmp_path).test_client()
    response = client.get("/_test/session/set/blue")
    assert "session=" in response.headers["Set-Cookie"]
    assert client.get("/_test/session/get").get_data(as_text=True) == "blue"


def test_a_forged_cookie_gives_an_empty_session(tmp_path):
    client = _app(tmp_path).test_client()
    client.set_cookie("session", "eyJ2YWx1ZSI6InJlZCJ9.forged.signature")
    assert client.get("/_test/session/get").get_data(as_text=True) == "-"
