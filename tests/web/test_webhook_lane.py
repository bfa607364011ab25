"""ivr.web.webhook_lane: Twilio's webhooks answered without Flask's request machinery (issue 17),
exactly as Flask answers them, and every request it does not take left to Flask untouched."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import given, settings, strategies as st
from werkzeug.test import EnvironBuilder

from ivr.hotline.models import Call
from tests.conftest import make_app
from tests.security.conftest import TOKEN, SignedClient
from tests.twiml import Caller, new_sid


@pytest.fixture
def no_flask(monkeypatch):
    """Flask's request dispatch fails: whatever still answers, the lane answered."""

    def refuse(self):
        raise AssertionError("Flask's dispatch ran")

    monkeypatch.setattr(Flask, "full_dispatch_request", refuse)


def _stored(app, sid):
    with app.extensions["ivr_db"].Session() as s:
        call = s.get(Call, sid)
        return None if call is None else (call.state, call.menu, call.language, call.outcome, call.steps)


def test_a_whole_call_is_answered_by_the_lane(tmp_path, no_flask):
    app = make_app(tmp_path)
    caller = Caller(app.test_client())
    assert caller.dial().gather is not None
    caller.press("2")            # English
    doc = caller.press("1")      # personal account: asks for the ID number
    assert doc.gather is not None and "ID" in " ".join(text for _, text in doc.speech)
    state = _stored(app, caller.sid)
    assert state[4] == 3 and state[0]["awaiting"] != "menu"   # three webhooks, now taking an entry


KEYS = st.lists(st.sampled_from(["1", "2", "3", "4", "5", "9", "0", "*", "#", "", "12", "110101199003074573"]),
                max_size=8)


@settings(max_examples=25, deadline=None)
@given(KEYS)
def test_the_lane_answers_and_stores_what_flask_does(tmp_path_factory, keys):
    """Two hotlines, one with the lane switched off: every answer and every stored state alike."""
    lane = make_app(tmp_path_factory.mktemp("lane"))
    flask = make_app(tmp_path_factory.mktemp("flask"), WEBHOOK_LANE=False)
    sid = new_sid()
    callers = [Caller(app.test_client(), sid=sid) for app in (lane, flask)]
    docs = [c.dial().xml for c in callers]
    assert docs[0] == docs[1]
    for key in keys:
        docs = []
        for c in callers:
            if c.doc.gather is None:
                docs.append(c.post("/voice/timeout").xml)
            else:
                docs.append(c.press(key).xml if key else c.silence().xml)
        assert docs[0] == docs[1]
        assert _stored(lane, sid) == _stored(flask, sid)
    for app in (lane, flask):
        app.extensions["ivr_db"].dispose()


def test_a_signed_webhook_is_answered_by_the_lane(tmp_path, no_flask):
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, SOFTPHONE=False, TEST_CLOCK=False)
    client = SignedClient(app.test_client())
    sid = new_sid()
    r = client.post("/voice", {"CallSid": sid, "From": "+8613800138000"})
    assert r.status_code == 200 and b"<Gather" in r.data


def test_behind_a_proxy_the_lane_checks_the_url_twilio_signed(tmp_path, no_flask):
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, TRUST_PROXY="1", SOFTPHONE=False, TEST_CLOCK=False)
    client = SignedClient(app.test_client(), base="https://abc.ngrok.app",
                          headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "abc.ngrok.app"})
    r = client.post("/voice", {"CallSid": new_sid()})
    assert r.status_code == 200 and b"<Gather" in r.data


def test_a_forged_signature_gets_flasks_403_and_log_line(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="ivr")
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, SOFTPHONE=False, TEST_CLOCK=False)
    sid = new_sid()
    r = app.test_client().post("/voice", data={"CallSid": sid}, headers={"X-Twilio-Signature": "forged"})
    assert r.status_code == 403
    assert any(rec.getMessage() == "webhook signature rejected" for rec in caplog.records)
    assert _stored(app, sid) is None


@pytest.mark.parametrize("how", ["query", "get", "test clock", "json", "too large", "short body"])
def test_what_the_lane_does_not_take_flask_answers(tmp_path, how, monkeypatch):
    app = make_app(tmp_path, WEBHOOK_MAX_BYTES=2048, TEST_CLOCK=True)
    client = app.test_client()
    sid = new_sid()
    dispatched = []
    real = Flask.full_dispatch_request

    def counting(self):
        dispatched.append(self)
        return real(self)

    monkeypatch.setattr(Flask, "full_dispatch_request", counting)
    form = {"CallSid": sid, "From": "+8613800138000"}
    if how == "query":
        r = client.post("/voice?x=1", data=form)
    elif how == "get":
        r = client.get("/voice", query_string=form)
    elif how == "test clock":
        r = client.post("/voice", data=form, headers={"X-IVR-Test-Now": "2026-12-07T10:00:00+08:00"})
        assert r.headers.get("X-IVR-Test-Clock") == "on"
    elif how == "json":
        r = client.post("/voice", json=form)
    elif how == "too large":
        r = client.post("/voice", data={**form, "Junk": "x" * 4096})
    else:   # the client went away: fewer bytes than its Content-Length
        body = b"CallSid=" + sid.encode()
        env = EnvironBuilder(path="/voice", method="POST", data=body,
                             content_type="application/x-www-form-urlencoded").get_environ()
        env["CONTENT_LENGTH"] = str(len(body) + 50)
        status = []
        answer = b"".join(app.wsgi_app(env, lambda s, h, e=None: status.append(s)))
        assert dispatched, "Flask did not answer"
        assert status == ["200 OK"] and b"<Hangup" in answer   # as before the lane: an apology
        return
    assert dispatched, "Flask did not answer"
    assert r.status_code == 200 and r.mimetype == "text/xml"


def test_switched_off_everything_goes_through_flask(tmp_path, no_flask):
    app = make_app(tmp_path, WEBHOOK_LANE=False)
    with pytest.raises(AssertionError, match="Flask's dispatch ran"):
        app.test_client().post("/voice", data={"CallSid": new_sid()})


def test_a_failure_in_the_lane_is_an_apology_not_a_500(tmp_path, monkeypatch, caplog, no_flask):
    caplog.set_level(logging.INFO, logger="ivr")
    app = make_app(tmp_path)
    caller = Caller(app.test_client())
    caller.dial()

    def broken(*a, **k):
        raise RuntimeError("broken")

    monkeypatch.setattr(app.extensions["ivr_hotline"].calls, "save", broken)
    doc = caller.press("1")
    assert doc.gather is None and "Hangup" in doc.xml
    assert any(r.levelno == logging.ERROR and r.fields.get("call") == caller.sid for r in caplog.records)
    with app.extensions["ivr_db"].engine.connect() as conn:
        steps = conn.execute(sa.select(Call.steps).where(Call.call_sid == caller.sid)).scalar_one()
    assert steps == 1   # the failed webhook's save was rolled back, nothing half-written
