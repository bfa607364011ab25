"""Never fail the caller: a database outage, a broken handler, a broken apology, a text-to-speech
failure -- every webhook still answers 200 with TwiML, apologising and hanging up where it cannot
go on, and the log line names the CallSid."""
from __future__ import annotations

import logging
import tomllib

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from ivr.web import reply
from tests.conftest import ROOT, make_app
from tests.twiml import Caller, parse

EN = tomllib.loads((ROOT / "prompts/en-US.toml").read_text("utf-8"))
ZH = tomllib.loads((ROOT / "prompts/zh-CN.toml").read_text("utf-8"))
WEBHOOKS = ["/voice", "/voice/input", "/voice/timeout", "/voice/dial-status", "/voice/recorded",
            "/voice/hold", "/voice/status", "/voice/fallback"]


def take_the_database_away(app, tmp_path):
    """What a database outage looks like to the app: every connection attempt fails."""
    db = app.extensions["ivr_db"]
    db.dispose()   # the open connections too (a SQLite file's webhook connection stays open)
    gone = sa.create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'gone.sqlite3'}")
    db.engine = gone
    db.Session = sessionmaker(gone, expire_on_commit=False)
    app.extensions["ivr_hotline"].services.accounts.Session = db.Session


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_database_outage_still_answers_twiml(tmp_path, path, caplog):
    caplog.set_level(logging.INFO, logger="ivr")
    app = make_app(tmp_path)
    caller = Caller(app.test_client(), sid="CAoutage")
    caller.keys("2")
    take_the_database_away(app, tmp_path)
    doc = caller.post(path, Digits="3", DialCallStatus="busy", RecordingUrl="https://x/RE1",
                      RecordingDuration="4", CallDuration="20", CallStatus="completed", ErrorCode="11200")
    assert doc.root.tag == "Response"
    if path not in ("/voice/status", "/voice/hold"):
        # The state cannot be read, so the language is unknown: the apology in every language, the
        # default first (issue 16: an English caller hears English too).
        assert doc.heard == ZH["app_error"] + " " + EN["app_error"] and doc.hangs_up
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures and all(r.fields.get("call") in ("CAoutage", None) for r in failures)
    assert any(r.fields.get("call") == "CAoutage" for r in failures)


def test_a_failure_mid_call_apologises_in_the_callers_language(tmp_path, monkeypatch):
    app = make_app(tmp_path)
    caller = Caller(app.test_client())
    caller.keys("2")                               # English
    calls = app.extensions["ivr_hotline"].calls

    def broken_save(*a, **k):
        raise sa.exc.OperationalError("UPDATE calls", {}, Exception("database is locked"))

    monkeypatch.setattr(calls, "save", broken_save)
    doc = caller.press("3")
    assert doc.heard == EN["app_error"] and doc.hangs_up


def test_even_a_broken_apology_is_twiml(tmp_path, monkeypatch, caplog):
    """The handler fails, then rendering the apology fails too: the last-resort TwiML, not a 500."""
    caplog.set_level(logging.INFO, logger="ivr")
    app = make_app(tmp_path)
    caller = Caller(app.test_client(), sid="CAdoubly")
    caller.keys("2")
    engine = app.extensions["ivr_hotline"].engine

    def broken(*a, **k):
        raise RuntimeError("no prompts")

    monkeypatch.setattr(engine, "on_digits", broken)
    monkeypatch.setattr(engine, "apology", broken)
    response = app.test_client().post("/voice/input", data={"CallSid": "CAdoubly", "Digits": "1"})
    doc = parse(response)
    assert doc.xml == reply.LAST_RESORT_TWIML and doc.hangs_up
    assert [s for s in doc.speech] == [("cmn-CN", "抱歉，系统出现故障，请稍后再拨。"),
                                       ("en-US", "Sorry, something went wrong. Please call again later.")]
    assert any(r.getMessage() == "apology could not be rendered" for r in caplog.records)


def test_an_unreadable_request_gets_the_apology(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="ivr")
    app = make_app(tmp_path)
    response = app.test_client().post("/voice/input", data={"CallSid": "CAbig", "Digits": "1" * 600_000})
    doc = parse(response)
    assert doc.heard == ZH["app_error"] + " " + EN["app_error"] and doc.hangs_up   # language unknown
    [record] = [r for r in caplog.records if r.getMessage() == "webhook request unreadable"]
    assert record.fields["error"] == "413 Request Entity Too Large"


def test_unknown_paths_keep_their_http_errors(tmp_path):
    """Only real webhooks turn errors into TwiML: a wrong URL on the number should show as a 404
    in Twilio's debugger, a wrong method as 405."""
    app = make_app(tmp_path)
    client = app.test_client()
    assert client.post("/voice/nowhere").status_code == 404
    assert client.put("/voice").status_code == 405
    assert client.get("/nowhere").status_code == 404


def test_a_text_to_speech_failure_falls_back_to_say(tmp_path, monkeypatch):
    app = make_app(tmp_path, VOICE_MODE="play", PUBLIC_URL="https://ivr.example.test")
    audio = app.extensions.get("ivr_audio")
    assert audio is not None

    def broken(*a, **k):
        raise RuntimeError("espeak-ng crashed")

    monkeypatch.setattr(audio, "audio_path", broken)
    caller = Caller(app.test_client())
    doc = caller.dial()
    assert doc.gather is not None and doc.root.find(".//Play") is None
    assert [el.tag for el in doc.gather] == ["Say"] * 4
    assert caller.press("2").speech == [("en-US", EN["main_menu"])]


def test_a_signed_oversized_request_is_refused_unread(tmp_path):
    """With signing on, a body over WEBHOOK_MAX_BYTES cannot be checked: it is not parsed, and the
    caller hears the documented apology with status 200 (issue 16; was a 403)."""
    from tests.security.conftest import TOKEN, sign

    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, WEBHOOK_MAX_BYTES=10_000)
    data = {"CallSid": "CAbig", "Digits": "1" * 20_000}
    response = app.test_client().post("/voice/input", data=data,
                                      headers={"X-Twilio-Signature": sign("http://localhost/voice/input", data)})
    assert response.status_code == 200
    doc = parse(response)
    assert doc.heard == ZH["app_error"] + " " + EN["app_error"] and doc.hangs_up and doc.gather is None
    small = {"CallSid": "CAsmall", "Digits": "1"}
    response = app.test_client().post("/voice/input", data=small,
                                      headers={"X-Twilio-Signature": sign("http://localhost/voice/input", small)})
    assert parse(response).gather is not None
