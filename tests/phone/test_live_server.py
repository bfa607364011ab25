"""The local phone against a real ``ivr serve``: scenarios over HTTP with the development test
clock, and the hotline's own call records after ``ivr call``, ``ivr test`` and ``ivr load``."""
from __future__ import annotations

import json
import math
import os
import re
import subprocess

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ivr.hotline.models import Call as CallRecord
from ivr.cli import main
from ivr.testing import hotline_number, seeded_hotline_app
from ivr.phone.scenario import load_paths, run
from ivr.phone.targets import AppTarget

from .hotline_server import ROOT, HotlineServer
from tests.servers import IVR

SCENARIOS = ROOT / "scenarios"


def _records(database_url: str) -> list[CallRecord]:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(CallRecord)))
    finally:
        engine.dispose()


def _ivr(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
    return subprocess.run([str(IVR), *args], capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)


@pytest.fixture(scope="module")
def test_clock_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("live-test-clock")
    server = HotlineServer({"VOICE_MODE": "say", "TEST_CLOCK": True}, directory)
    server.database_url = f"sqlite:///{directory / 'hotline.sqlite3'}"
    yield server
    server.stop()


def test_ivr_test_runs_the_shipped_scenarios_against_a_live_server(test_clock_server):
    url = test_clock_server.url
    done = _ivr("test", str(SCENARIOS), "--url", url, "--status-callback", url + "/status")
    summary = re.search(r"(\d+) passed, (\d+) failed, (\d+) skipped", done.stdout)
    assert summary, done.stdout + done.stderr
    passed, failed, skipped = map(int, summary.groups())
    assert passed >= 45 and failed == 0 and done.returncode == 0, done.stdout
    assert passed + skipped == len(load_paths([SCENARIOS]))
    # The server's records: every call ended, as Twilio's status callback ends it.
    records = _records(test_clock_server.database_url)
    assert len(records) >= passed
    assert [r.call_sid for r in records if r.ended_at is None or r.duration is None] == []


def test_ivr_load_leaves_no_call_in_progress(test_clock_server):
    url = test_clock_server.url
    before = {r.call_sid for r in _records(test_clock_server.database_url)}
    done = _ivr("load", "--url", url, "--calls", "6", "--concurrency", "2",
                "--status-callback", url + "/status", "2", "9")
    assert done.returncode == 0, done.stdout + done.stderr
    new = [r for r in _records(test_clock_server.database_url) if r.call_sid not in before]
    assert len(new) == 6 and all(r.ended_at is not None and r.duration for r in new)


def test_a_server_without_the_test_clock_runs_nothing_that_pins_the_time_and_says_so(tmp_path):
    server = HotlineServer({"VOICE_MODE": "say"}, tmp_path)
    try:
        done = _ivr("test", str(SCENARIOS / "navigation.toml"), "--url", server.url)
    finally:
        server.stop()
    assert done.returncode == 1
    assert "0 passed, 0 failed" in done.stdout and "ignored the test clock" in done.stdout
    assert "Nothing ran" in done.stderr and "IVR_TEST_CLOCK=true" in done.stderr


def test_the_test_clock_is_refused_on_a_server_that_takes_real_calls(tmp_path):
    from ivr import create_app
    from ivr.web.test_clock import TestClockRefused

    with pytest.raises(TestClockRefused, match="TWILIO_AUTH_TOKEN"):
        create_app({"TEST_CLOCK": True, "TWILIO_AUTH_TOKEN": "secret",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})


def test_a_header_does_nothing_without_the_test_clock(tmp_path):
    from ivr.phone import Phone
    from ivr.phone.targets import app_phone

    app = seeded_hotline_app({"VOICE_MODE": "say"}, tmp_path)
    phone = app_phone(app, headers={"X-IVR-Test-Now": "2026-11-28T10:00:00+08:00"})
    assert isinstance(phone, Phone)
    call = phone.run(["2"])
    assert not any(r.get("test_clock") for r in call.requests)


def test_ivr_call_in_process_completes_its_record_with_the_transcripts_duration(tmp_path):
    database = f"sqlite:///{tmp_path / 'calls.sqlite3'}"
    done = CliRunner().invoke(main, ["call", "-c", f"DATABASE_URL={database}", "-c", "VOICE_MODE=say",
                                             "--json", "2", "9", "hangup"])
    assert done.exit_code == 0, done.output
    call = json.loads(done.output)
    [record] = _records(database)
    assert record.call_sid == call["call_sid"] and record.ended_at is not None
    assert record.duration == math.ceil(call["duration"])
    status = [r for r in call["requests"] if r["url"].endswith("/voice/status")]
    assert len(status) == 1 and status[0]["status"] == 200


def test_scenarios_in_process_leave_every_record_ended_with_its_duration(tmp_path):
    target = AppTarget(lambda config: seeded_hotline_app({**config, "VOICE_MODE": "say"}, tmp_path),
                       number=hotline_number)
    results = [run(s, target) for s in load_paths([SCENARIOS / "navigation.toml"])]
    assert all(r.status == "passed" for r in results), [r.message for r in results if r.status != "passed"]
    durations = {r.call.sid: math.ceil(r.call.duration) for r in results}
    records = {}
    for phone in target._phones.values():
        records.update({rec.call_sid: rec for rec in _records(str(phone.app.extensions["ivr_db"].engine.url))})
    assert set(durations) <= set(records)
    assert {sid: records[sid].duration for sid in durations} == durations
    assert all(records[sid].ended_at is not None for sid in durations)


def _ivr_call(tmp_path, *args):
    return _ivr("call", "-c", f"DATABASE_URL=sqlite:///{tmp_path / 'cli.sqlite3'}", "-c", "VOICE_MODE=say", *args)


def test_the_terminal_shows_the_callers_transcript_not_the_servers_log(tmp_path):
    quiet = _ivr_call(tmp_path, "2", "9")
    assert quiet.returncode == 0, quiet.stderr
    assert "Say [en-US]" in quiet.stdout
    assert "webhook" not in quiet.stdout + quiet.stderr and "DEVELOPMENT MODE" not in quiet.stderr
    loud = _ivr_call(tmp_path, "-v", "2", "9")
    assert "INFO webhook" in loud.stderr and "route=/voice/input" in loud.stderr
    log = tmp_path / "server.log"
    filed = _ivr_call(tmp_path, "--server-log", str(log), "2", "9")
    assert "webhook" not in filed.stdout + filed.stderr
    assert "route=/voice/status" in log.read_text(encoding="utf-8")


def test_the_hotlines_id_number_and_password_are_masked_in_the_transcript(tmp_path):
    keys = ("2", "1", "110101199003074573#", "074573#", "1")
    shown = _ivr_call(tmp_path, *keys)
    assert "110101199003074573" not in shown.stdout and "074573" not in shown.stdout.replace("12333", "")
    assert "•" * 18 in shown.stdout
    as_json = _ivr_call(tmp_path, "--json", *keys)
    assert "110101199003074573" not in as_json.stdout
    revealed = _ivr_call(tmp_path, "--show-secrets", *keys)
    assert "110101199003074573" in revealed.stdout


def test_progress_events_do_not_end_the_record_and_completed_does(tmp_path):
    from ivr.phone.targets import app_phone

    app = seeded_hotline_app({"VOICE_MODE": "say"}, tmp_path)
    phone = app_phone(app, **hotline_number(app), hold_callbacks=True,
                      status_callback_events=("initiated", "ringing", "answered", "completed"))
    call = phone.dial()
    call.press("2")
    call.hangup()
    pending = call.callbacks.pending
    assert [p.params["CallStatus"] for p in pending] == ["initiated", "ringing", "in-progress", "completed"]
    completed = pending.pop()
    assert [p.params["CallStatus"] for p in call.callbacks.drain()] == ["initiated", "ringing", "in-progress"]
    database = str(app.extensions["ivr_db"].engine.url)
    [record] = _records(database)
    assert record.ended_at is None  # progress events do not end the call
    pending.append(completed)
    call.drain_callbacks()
    [record] = _records(database)
    assert record.ended_at is not None and record.duration == math.ceil(call.duration)
    assert record.outcome == "abandoned"  # the caller hung up before the hotline ended the call
