"""A number's settings and what Twilio sends beside the call flow, against small apps of our own
(not the hotline), with the app's own request log asserted: parameters, methods, order."""
from __future__ import annotations

import email.utils
import json
import math

import pytest
from click.testing import CliRunner
from werkzeug.wrappers import Response

from ivr.phone import Phone
from ivr.phone.cli import call_command
from ivr.phone.number import NumberError, load_number_file
from ivr.phone.settings import PhoneSettings

from .apps import ScriptedApp, twiml, wav_bytes

MENU = twiml('<Gather numDigits="1" action="/chosen"><Say>Press a key.</Say></Gather>')


def _menu_app(**extra):
    return ScriptedApp({
        "/voice": MENU,
        "/chosen": lambda req: twiml(f"<Say>You chose {req.values['Digits']}.</Say><Hangup/>"),
        "/status": lambda req: Response("", 204),
        **extra,
    })


def _forms(app, path):
    return [s.form or s.args for s in app.seen if s.path == path]


NUMBER_FILE = """
[number]
voice_url = "http://localhost/voice"
voice_method = "GET"
status_callback = "http://localhost/status"
status_callback_method = "GET"
status_callback_events = ["initiated", "ringing", "answered", "completed"]
account_sid = "AC00000000000000000000000000000001"
from = "+8613912345678"
to = "+8612333"
params = { CallerName = "Wang Fang" }

[number.from_location]
city = "SHANGHAI"
state = "SHANGHAI"
zip = "200000"
country = "CN"
"""


def test_a_number_file_sets_method_parameters_and_locations(tmp_path):
    path = tmp_path / "phone.toml"
    path.write_text(NUMBER_FILE, encoding="utf-8")
    app = _menu_app()
    call = Phone(app=app, **load_number_file(path)).run(["3"])
    first = app.seen[2]  # after the initiated and ringing status callbacks
    assert (first.method, first.path) == ("GET", "/voice") and first.form == {}
    voice = first.args
    assert voice["AccountSid"] == "AC00000000000000000000000000000001"
    assert voice["From"] == voice["Caller"] == "+8613912345678"
    assert voice["FromCity"] == voice["CallerCity"] == "SHANGHAI" and voice["FromZip"] == "200000"
    assert voice["FromCountry"] == voice["CallerCountry"] == "CN"
    assert voice["ToCountry"] == voice["CalledCountry"] == "CN"  # the default for 12333
    assert voice["CallerName"] == "Wang Fang"
    chosen = next(s for s in app.seen if s.path == "/chosen")
    assert chosen.method == "POST" and chosen.form["FromState"] == "SHANGHAI"  # the Gather's own method
    assert {s.method for s in app.seen if s.path == "/status"} == {"GET"}
    assert call.heard[-1] == "You chose 3."


def test_a_bad_number_file_says_what_is_wrong(tmp_path):
    path = tmp_path / "phone.toml"
    path.write_text('[number]\nvoice_ur = "http://x/voice"\n', encoding="utf-8")
    with pytest.raises(NumberError, match="no setting 'voice_ur'"):
        load_number_file(path)
    path.write_text('[number]\nstatus_callback_events = ["hung-up"]\n', encoding="utf-8")
    with pytest.raises(NumberError, match="status_callback_events"):
        load_number_file(path)


def test_the_account_sid_is_the_same_for_every_call_of_a_configuration():
    app = _menu_app()
    Phone(app=app).run(["1"])
    Phone(app=app).run(["2"])
    Phone(app=app, called="+8610012333").run(["3"])
    sids = [form["AccountSid"] for form in _forms(app, "/voice")]
    assert sids[0] == sids[1] != sids[2] and sids[0].startswith("AC") and len(sids[0]) == 34
    assert PhoneSettings().account_sid == PhoneSettings().account_sid


def test_status_callbacks_arrive_in_twilio_order_with_their_parameters(make_phone):
    app = _menu_app()
    call = make_phone(app, status_callback="/status",
                      status_callback_events=("initiated", "ringing", "answered", "completed")).run(["1"])
    paths = app.paths()
    assert paths == ["/status", "/status", "/voice", "/status", "/chosen", "/status"]
    status = _forms(app, "/status")
    assert [f["CallStatus"] for f in status] == ["initiated", "ringing", "in-progress", "completed"]
    assert [f["SequenceNumber"] for f in status] == ["0", "1", "2", "3"]
    assert {f["CallbackSource"] for f in status} == {"call-progress-events"}
    assert {f["CallSid"] for f in status} == {call.sid}
    completed = status[-1]
    assert completed["CallDuration"] == str(math.ceil(call.duration)) and completed["Duration"] == "1"
    assert "CallDuration" not in status[0]
    stamps = [email.utils.parsedate_to_datetime(f["Timestamp"]) for f in status]
    assert stamps == sorted(stamps) and stamps[0].tzinfo is not None


def test_only_completed_is_sent_by_default_and_a_failure_is_reported_not_fatal(make_phone):
    app = _menu_app()
    del app.routes["/status"]  # the app answers 404
    call = make_phone(app, status_callback="/status").run(["1"])
    assert app.paths() == ["/voice", "/chosen", "/status"]
    assert call.status == "completed" and call.heard[-1] == "You chose 1."
    [error] = call.errors
    assert error["code"] == 11200 and error["fatal"] is False and error["url"].endswith("/status")
    assert "Error 11200" in call.transcript and "/status" in call.transcript


def _survey_app():
    """Like Twilio's survey sample: the action creates the answer, the transcription fills it in
    (and fails if the answer is not there yet)."""
    answers: dict = {}

    def saved(req):
        answers[req.form["RecordingSid"]] = {"text": None}
        return twiml("<Say>Thanks.</Say><Hangup/>")

    def transcribed(req):
        if req.form["RecordingSid"] not in answers:
            return Response("no such answer", status=500)
        answers[req.form["RecordingSid"]]["text"] = req.form["TranscriptionText"]
        return Response("", 204)

    app = ScriptedApp({
        "/voice": twiml('<Say>Tell us.</Say><Record action="/saved" transcribeCallback="/transcribed" '
                        'recordingStatusCallback="/recording"/>'),
        "/saved": saved, "/transcribed": transcribed,
        "/recording": lambda req: Response("", 204), "/status": lambda req: Response("", 204),
    })
    app.answers = answers
    return app


def test_transcription_and_recording_status_arrive_after_the_action(make_phone):
    app = _survey_app()
    call = make_phone(app, status_callback="/status").run(["say:the queue was too long"])
    # The call ends half a second after the action; the recording is ready a second after it
    # ended, the transcription later still (ivr.phone.callbacks).
    assert app.paths() == ["/voice", "/saved", "/status", "/recording", "/transcribed"]
    assert not call.errors
    assert list(app.answers.values()) == [{"text": "the queue was too long"}]
    recording = _forms(app, "/recording")[0]
    assert recording["RecordingStatus"] == "completed" and recording["RecordingSource"] == "RecordVerb"
    transcription = _forms(app, "/transcribed")[0]
    assert transcription["TranscriptionStatus"] == "completed"
    assert transcription["RecordingSid"] == recording["RecordingSid"] == _forms(app, "/saved")[0]["RecordingSid"]


def test_a_test_can_hold_the_callbacks_and_drain_them():
    app = _survey_app()
    call = Phone(app=app, status_callback="http://localhost/status", hold_callbacks=True).run(["say:hello"])
    assert app.paths() == ["/voice", "/saved"]
    assert [p.kind for p in call.callbacks.pending] == ["status", "recording", "transcription"]
    sent = call.drain_callbacks()
    assert [p.kind for p in sent] == ["status", "recording", "transcription"]
    assert app.paths()[2:] == ["/status", "/recording", "/transcribed"] and not call.callbacks.pending


def test_the_enqueue_wait_url_loops_until_an_agent_answers(make_phone):
    app = ScriptedApp({
        "/voice": twiml('<Enqueue waitUrl="/wait" action="/done">support</Enqueue>'),
        "/wait": lambda req: twiml(f"<Say>Waited {req.form['QueueTime']} s</Say><Play>/music.wav</Play>"),
        "/music.wav": lambda req: Response(wav_bytes(3.0), content_type="audio/wav"),
        "/done": lambda req: twiml(f"<Say>{req.form['QueueResult']}</Say>"),
    })
    call = make_phone(app, queue_wait_seconds=10, dial_seconds=5).run()
    waits = _forms(app, "/wait")
    assert len(waits) >= 3
    times = [int(f["QueueTime"]) for f in waits]
    assert times == sorted(times) and times[0] == 0 and times[-1] >= 6
    assert call.heard[-1] == "bridged" and not call.warnings


def test_a_record_beeps_in_the_transcript_and_the_caller_can_speak_then_hang_up(make_phone):
    app = _survey_app()
    call = make_phone(app).run(["say+hangup:call me back"])
    assert call.ended_by == "caller"
    verbs = [e["verb"] for e in call.events]
    assert verbs[verbs.index("Beep") + 1] == "Record"
    assert "Beep" in call.transcript
    saved = _forms(app, "/saved")[0]
    assert saved["Digits"] == "hangup" and int(saved["RecordingDuration"]) >= 1
    assert "Thanks." not in call.heard  # nobody is left to hear the action's answer
    assert _forms(app, "/transcribed")[0]["TranscriptionText"] == "call me back"


def test_a_302_after_a_post_is_followed_as_a_get_that_keeps_the_call_parameters(make_phone):
    app = ScriptedApp({
        "/voice": MENU,
        "/chosen": lambda req: Response("", status=302, headers={"Location": "/next?from=menu"}),
        "/next": lambda req: twiml(f"<Say>{req.method} {req.args.get('from')} {req.args['Digits']}</Say>"),
    })
    call = make_phone(app).run(["7"])
    nxt = next(s for s in app.seen if s.path == "/next")
    assert nxt.method == "GET" and nxt.form == {}
    assert nxt.args["CallSid"] == call.sid and nxt.args["From"] == "+8613800138000"
    assert call.heard[-1] == "GET menu 7"


def _secret_app():
    def login(req):
        return Response(twiml('<Gather finishOnKey="#" action="/checked"><Say>Your PIN?</Say></Gather>'),
                        content_type="text/xml", headers={"X-IVR-Sensitive-Input": "1"})

    return ScriptedApp({"/voice": login, "/checked": lambda req: twiml("<Say>Checked.</Say>")})


def test_keys_at_a_sensitive_gather_are_masked_unless_asked():
    app = _secret_app()
    call = Phone(app=app).run(["123456#"])
    assert _forms(app, "/checked")[0]["Digits"] == "123456"  # the app gets them, of course
    assert "123456" not in call.transcript and "••••••" in call.transcript
    assert "123456" not in call.to_json() and "123456" in call.to_json(show_secrets=True)
    from ivr.phone.transcript import format_call

    assert "123456" in format_call(call, show_secrets=True)


def test_the_cli_takes_the_number_flags(serve, tmp_path):
    app = _secret_app()
    app.routes["/status"] = lambda req: Response("", 204)
    base = serve(app)
    runner = CliRunner()
    result = runner.invoke(call_command, [
        "--url", base + "/voice", "--voice-method", "GET", "--status-callback", base + "/status",
        "--status-callback-event", "answered", "--status-callback-event", "completed",
        "--param", "CallerName=Li Lei", "--from-city", "GUANGZHOU", "--json", "654321#"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "654321" not in result.output
    voice = next(s for s in app.seen if s.path == "/voice")
    assert voice.method == "GET" and voice.args["CallerName"] == "Li Lei"
    assert voice.args["FromCity"] == "GUANGZHOU" and voice.args["FromCountry"] == "CN"
    assert [s.form["CallStatus"] for s in app.seen if s.path == "/status"] == ["in-progress", "completed"]
    assert data["account_sid"] == voice.args["AccountSid"]
    again = runner.invoke(call_command, ["--url", base + "/voice", "--voice-method", "GET", "--json", "1#"])
    assert json.loads(again.output)["account_sid"] == data["account_sid"]  # stable between runs
    show = runner.invoke(call_command, ["--url", base + "/voice", "--show-secrets", "654321#"])
    assert "654321" in show.output


def test_interactive_keys_at_a_sensitive_gather_are_not_echoed(serve, monkeypatch):
    import ivr.phone.cli as cli

    monkeypatch.setattr(cli, "_on_a_terminal", lambda: True)
    app = _secret_app()
    base = serve(app)
    result = CliRunner().invoke(call_command, ["--url", base + "/voice"], input="123456#\n")
    assert result.exit_code == 0, result.output
    assert _forms(app, "/checked")[0]["Digits"] == "123456"
    assert "123456" not in result.output and "Checked." in result.output
