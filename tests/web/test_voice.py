"""ivr.web.voice: what the webhook decorators promise every route (the call flows themselves are
tests/test_call_flow.py's)."""
from __future__ import annotations

import logging
import tomllib

import pytest
import sqlalchemy as sa

from ivr.hotline.models import Call, Voicemail
from tests.conftest import ROOT
from tests.twiml import Caller

ZH = tomllib.loads((ROOT / "prompts/zh-CN.toml").read_text("utf-8"))
CALL_ROUTES = ["/voice/input", "/voice/timeout", "/voice/dial-status", "/voice/recorded"]
ROUTES = ["/voice", *CALL_ROUTES, "/voice/hold", "/voice/status", "/voice/fallback"]
FORM = {"Digits": "3", "DialCallStatus": "completed", "RecordingUrl": "https://api.twilio.com/RE1",
        "RecordingDuration": "4", "CallDuration": "20", "CallStatus": "completed", "ErrorCode": "11200"}


@pytest.mark.parametrize("path", CALL_ROUTES)
def test_an_unknown_call_starts_at_the_top_menu_without_asking_the_handler(app, client, path):
    caller = Caller(client)
    doc = caller.post(path, **FORM)
    assert doc.speech == [("cmn-CN", ZH["main_menu"])] and doc.gather is not None
    with app.extensions["ivr_db"].Session() as s:
        call = s.get(Call, caller.sid)
        assert call.state["path"] == ["main"] and call.state["keys"] == []   # the key was not taken
        assert s.scalars(sa.select(Voicemail)).all() == []                  # nor the recording


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_logs_one_timed_line(client, path, caplog):
    caplog.set_level(logging.INFO, logger="ivr")
    caller = Caller(client)
    caller.dial()
    caplog.clear()
    caller.post(path, **FORM)
    [line] = [r for r in caplog.records if r.name == "ivr"]
    assert line.fields["call"] == caller.sid and line.fields["route"] == path
    assert isinstance(line.fields["ms"], float)


@pytest.mark.parametrize("path", ROUTES)
def test_no_webhook_answers_500_whatever_breaks(app, client, path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="ivr")
    caller = Caller(client)
    caller.dial()
    hotline = app.extensions["ivr_hotline"]

    def broken(*a, **k):
        raise RuntimeError("broken")

    for name in ("load", "save", "complete", "record_error", "add_voicemail"):
        monkeypatch.setattr(hotline.calls, name, broken)
    for name in ("start", "on_digits", "on_timeout", "on_dial_result", "on_recording", "hold"):
        monkeypatch.setattr(hotline.engine, name, broken)
    response = client.post(path, data={"CallSid": caller.sid, **FORM})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert response.get_data(as_text=True).startswith("<?xml")
    assert any(r.levelno >= logging.ERROR and r.fields.get("call") == caller.sid for r in caplog.records)
