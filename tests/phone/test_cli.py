"""``ivr call``, ``ivr test`` and ``ivr load`` from the command line (against loopback apps)."""
import json
import xml.etree.ElementTree as ET

import soundfile
from click.testing import CliRunner

from ivr.cli import main
from ivr.phone.load import run_load
from ivr.phone.phone import Phone

from .apps import ScriptedApp, broken_app, twiml
from .goertzel import decode


def _menu():
    return ScriptedApp({
        "/voice": twiml('<Gather numDigits="1" action="/pick"><Say>Press 1 or 2.</Say></Gather><Say>Bye.</Say>'),
        "/pick": lambda req: twiml(f"<Say>You pressed {req.form['Digits']}.</Say>"),
        "/status": lambda req: ("", 204),
    })


def _invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_call_prints_a_transcript(serve):
    base = serve(_menu())
    result = _invoke("call", "--url", base + "/voice", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Press 1 or 2." in lines[1] and "presses 2" in lines[2] and "You pressed 2." in lines[3]
    assert lines[-1].startswith("Ended: completed, by app")


def test_call_json(serve):
    base = serve(_menu())
    result = _invoke("call", "--url", base + "/voice", "--json", "--from", "+8613000000000", "_")
    data = json.loads(result.output)
    assert data["status"] == "completed" and data["call_sid"].startswith("CA") and data["from"] == "+8613000000000"
    assert [e["verb"] for e in data["events"]] == ["Say", "Gather", "Say"]
    assert data["events"][0]["text"] == "Press 1 or 2." and data["events"][0]["language"] == "en-US"
    assert data["events"][1]["digits"] == ""
    assert data["duration"] > 5


def test_call_exit_status_reports_twilio_errors(serve):
    base = serve(broken_app())
    result = _invoke("call", "--url", base + "/500", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["events"][0] == {
        "verb": "Error", "at": 0.0, "code": 11200, "message": "HTTP 500", "url": base + "/500", "fatal": True}


def test_call_record_writes_dtmf(serve, tmp_path):
    base = serve(_menu())
    wav = tmp_path / "call.wav"
    result = _invoke("call", "--url", base + "/voice", "--record", str(wav), "1")
    assert result.exit_code == 0
    samples, rate = soundfile.read(str(wav))
    assert rate == 8000 and decode(samples) == "1"


def test_call_rejects_bad_keys():
    result = CliRunner().invoke(main, ["call", "--url", "http://127.0.0.1:9/voice", "12x"])
    assert result.exit_code != 0 and "bad key token" in result.output


def test_test_command_passes_fails_and_writes_junit(serve, tmp_path):
    base = serve(_menu())
    (tmp_path / "menu.toml").write_text('''
[[scenario]]
name = "press 1"
steps = [{ press = "1" }, { expect = "You pressed 1." }]
[[scenario]]
name = "expects the wrong thing"
steps = [{ press = "2" }, { expect = "You pressed 1." }]
''', encoding="utf-8")
    junit = tmp_path / "out.xml"
    result = _invoke("test", str(tmp_path), "--url", base + "/voice", "--junit", str(junit))
    assert result.exit_code == 1
    assert "PASS" in result.output and "FAIL" in result.output and "1 passed, 1 failed" in result.output
    assert "You pressed 2." in result.output  # the failing call's transcript
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "1"
    result = _invoke("test", str(tmp_path), "--url", base + "/voice", "-k", "press 1")
    assert result.exit_code == 0 and "1 passed, 0 failed" in result.output


def test_run_load_counts_calls_and_latencies(serve):
    app = _menu()
    report = run_load(Phone(serve(app) + "/voice"), calls=20, concurrency=4, keys=["1"])
    assert report.calls == 20 and report.failed == 0 and not report.errors
    assert len(report.latencies["POST /voice"]) == 20 and len(report.latencies["POST /pick"]) == 20
    p50, p90, p99 = report.percentiles("POST /voice")
    assert 0 < p50 <= p90 <= p99
    assert len(app.seen) == 40 and len({s.form["CallSid"] for s in app.seen}) == 20


def test_run_load_stops_at_the_time_bound(serve):
    report = run_load(Phone(serve(_menu()) + "/voice"), calls=10_000, concurrency=2, keys=["1"], max_seconds=0.3)
    assert 0 < report.calls < 10_000


def test_run_load_counts_errors(serve):
    report = run_load(Phone(serve(broken_app()) + "/500"), calls=5, concurrency=2)
    assert report.errors[11200] == 5


def test_load_command(serve, tmp_path):
    base = serve(_menu())
    (tmp_path / "plan.toml").write_text('[[scenario]]\nname = "one"\nsteps = [{ press = "1" }, '
                                        '{ expect = "You pressed 1." }]\n', encoding="utf-8")
    result = _invoke("load", "--url", base + "/voice", "--calls", "12", "--concurrency", "3",
                     "--scenario", str(tmp_path / "plan.toml"))
    assert result.exit_code == 0, result.output
    assert "Calls: 12 (12 ok, 0 failed)" in result.output and "calls/s" in result.output
    assert "POST /voice" in result.output and "POST /pick" in result.output and "Errors: none" in result.output


def test_interactive_call_reads_keys_from_the_terminal(serve, monkeypatch):
    import ivr.phone.cli as phone_cli

    monkeypatch.setattr(phone_cli, "_on_a_terminal", lambda: True)
    app = ScriptedApp({
        "/voice": twiml('<Gather numDigits="1" action="/pick"><Say>Press 1 or 2.</Say></Gather>'),
        "/pick": lambda req: twiml(f'<Gather action="/pick"><Say>You pressed {req.form["Digits"]}. Again?</Say>'
                                   "</Gather><Say>No more keys.</Say>"),
    })
    base = serve(app)
    result = CliRunner().invoke(main, ["call", "--url", base + "/voice"], input="7x\n2\n\n")
    out = result.output
    assert "Press 1 or 2." in out and "bad key token '7x'" in out
    assert "You pressed 2. Again?" in out  # 7x was refused, 2 went through
    assert "silence (timeout)" in out and "No more keys." in out  # Enter alone is silence
    assert out.rstrip().splitlines()[-1].startswith("Ended: completed, by app")
    assert [s.form.get("Digits") for s in app.seen] == [None, "2"]


def test_interactive_end_of_input_hangs_up(serve, monkeypatch):
    import ivr.phone.cli as phone_cli

    monkeypatch.setattr(phone_cli, "_on_a_terminal", lambda: True)
    result = CliRunner().invoke(main, ["call", "--url", serve(_menu()) + "/voice"], input="")
    assert "Hangup         by the caller" in result.output
    assert result.output.rstrip().endswith("Ended: completed, by caller, after 0.9 s")


def test_test_command_reports_a_bad_step_and_runs_the_other_scenarios(serve, tmp_path):
    base = serve(_menu())
    (tmp_path / "menu.toml").write_text('''
[[scenario]]
name = "misspelled"
steps = [{ pres = "1" }]
[[scenario]]
name = "press 1"
steps = [{ press = "1" }, { expect = "You pressed 1." }]
''', encoding="utf-8")
    result = _invoke("test", str(tmp_path), "--url", base + "/voice")
    assert result.exit_code == 1
    assert "1 passed, 1 failed" in result.output
    assert "PASS" in result.output and "::press 1" in result.output
    assert "unknown step 'pres'" in result.output and "scenario 1 (misspelled) step 1" in result.output


def test_load_progress_is_plain_lines_off_a_terminal(serve):
    base = serve(_menu())
    result = _invoke("load", "--url", base + "/voice", "--calls", "20", "--concurrency", "2", "1")
    lines = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert "calls" not in lines                              # no bare label left by a bar
    progress = [line for line in lines if line.startswith("calls: ")]
    assert progress[-1] == "calls: 20/20 (100%)" and len(progress) == 10   # each tenth, once
