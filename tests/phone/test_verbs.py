"""Say, Play, Pause, Redirect, Hangup, Reject, Dial, Enqueue/Leave, Record, end of document."""
from urllib.parse import quote

import pytest
from werkzeug.wrappers import Response

from ivr.phone import clock

from .apps import ScriptedApp, twiml, wav_bytes


def test_say_carries_text_language_voice_and_loop(make_phone):
    app = ScriptedApp({"/voice": twiml('<Say language="cmn-CN" voice="Polly.Zhiyu" loop="2">您好，欢迎致电</Say>'
                                       "<Say>Plain <emphasis>English</emphasis> text</Say>")})
    call = make_phone(app).run()
    first, second = call.events[:2]
    assert first["text"] == "您好，欢迎致电" and first["language"] == "cmn-CN"
    assert first["voice"] == "Polly.Zhiyu" and first["loop"] == 2
    assert abs(first["duration"] - 2 * 7 / clock.CJK_CHARS_PER_SECOND) < 2e-3
    assert second["text"] == "Plain English text" and second["language"] == "en-US"  # SSML read through
    assert abs(second["at"] - first["duration"]) < 2e-3
    assert call.ended_by == "app" and call.status == "completed"


def test_say_loop_zero_repeats_a_thousand_times():
    from ivr.phone import Phone

    app = ScriptedApp({"/voice": twiml('<Say loop="0">ring</Say>')})
    call = Phone(app=app).run()
    assert call.events[0]["loop"] == 1000
    assert abs(call.duration - 1000 * clock.speaking_seconds("ring", "en-US")) < 0.01


def test_play_fetches_resolves_and_times_the_file(make_phone):
    def audio(req):
        return Response(wav_bytes(1.5), content_type="audio/x-wav",
                        headers={"X-Prompt-Text": quote("普通话请按1", encoding="utf-8")})

    app = ScriptedApp({"/menu/voice": twiml("<Play>../audio/a.wav</Play><Play>/audio/b.wav</Play>"),
                       "/audio/a.wav": audio,
                       "/audio/b.wav": lambda req: Response(wav_bytes(0.25), content_type="audio/wav")})
    call = make_phone(app, path="/menu/voice").run()
    a, b = call.events[:2]
    assert a["url"].endswith("/audio/a.wav") and a["text"] == "普通话请按1"
    assert abs(a["duration"] - 1.5) < 2e-3
    assert b["url"].endswith("/audio/b.wav") and "text" not in b  # foreign audio: text unknown
    assert abs(b["duration"] - 0.25) < 2e-3
    assert [s.method for s in app.seen[1:]] == ["GET", "GET"]


def test_play_audio_is_cached_across_calls_of_a_phone(make_phone):
    app = ScriptedApp({"/voice": twiml("<Play>/a.wav</Play>"),
                       "/a.wav": lambda req: Response(wav_bytes(0.5), content_type="audio/wav")})
    phone = make_phone(app)
    phone.run()
    phone.run()
    assert app.paths() == ["/voice", "/a.wav", "/voice"]


def test_play_failures_are_errors_the_call_survives(make_phone):
    app = ScriptedApp({"/voice": twiml("<Play>/missing.wav</Play><Play>/page.html</Play><Say>still here</Say>"),
                       "/page.html": lambda req: Response("<html/>", content_type="text/html")})
    call = make_phone(app).run()
    assert [(e["code"], e["fatal"]) for e in call.errors] == [(11200, False), (12300, False)]
    assert call.heard == ["still here"]


def test_play_digits_and_pause(make_phone):
    app = ScriptedApp({"/voice": twiml('<Play digits="12w#"/><Pause/><Pause length="3"/><Say>x</Say>')})
    call = make_phone(app).run()
    play, pause1, pause3, say = call.events[:4]
    assert play["digits"] == "12w#"
    assert abs(play["duration"] - (3 * clock.PLAY_DIGIT_SECONDS + 0.5)) < 2e-3
    assert pause1["length"] == 1 and pause3["length"] == 3
    assert abs(say["at"] - (play["duration"] + 4)) < 2e-3


def test_play_loops_like_say_in_a_gather(make_phone):
    """<Play> and <Say> share their loop: every loop adds to one event; a key pressed once every
    prompt was heard cuts the last one's loops short; silence lets them all play."""
    app = ScriptedApp({"/voice": twiml('<Gather numDigits="1" action="/r"><Say loop="2">Press 1.</Say>'
                                       '<Play loop="3">/a.wav</Play></Gather>'),
                       "/a.wav": lambda req: Response(wav_bytes(0.5), content_type="audio/wav"),
                       "/r": twiml("<Hangup/>")})
    single = clock.speaking_seconds("Press 1.", "en-US")
    say, play = make_phone(app).run(["1"]).events[:2]
    assert say["loop"] == 2 and abs(say["duration"] - 2 * single) < 2e-3
    assert play["loop"] == 3 and abs(play["duration"] - 0.5) < 2e-3
    say, play = make_phone(app).run(["_"]).events[:2]
    assert abs(say["duration"] - 2 * single) < 2e-3 and abs(play["duration"] - 1.5) < 2e-3
    assert list(say) == ["verb", "at", "text", "language", "loop", "duration"]
    assert list(play) == ["verb", "at", "url", "duration", "loop"]


def test_play_with_bad_digits_is_skipped_with_a_warning(make_phone):
    app = ScriptedApp({"/voice": twiml('<Play digits="12x" loop="2"/><Say>after</Say>')})
    call = make_phone(app).run()
    assert [e["verb"] for e in call.events[:2]] == ["Warning", "Say"]
    assert call.events[1]["at"] == 0.0


def test_redirect_defaults_to_post_and_resolves_relative(make_phone):
    app = ScriptedApp({"/a/start": twiml("<Redirect>next</Redirect><Say>unreachable</Say>"),
                       "/a/next": twiml('<Redirect method="GET">/b/last?k=v</Redirect>'),
                       "/b/last": lambda req: twiml(f"<Say>{req.method} {req.args.get('k')} "
                                                    f"{req.args.get('CallSid', '')[:2]}</Say>")})
    call = make_phone(app, path="/a/start").run()
    assert [(s.method, s.path) for s in app.seen] == [("POST", "/a/start"), ("POST", "/a/next"), ("GET", "/b/last")]
    assert call.heard == ["GET v CA"]
    assert app.seen[1].form["CallSid"] == call.sid


def test_hangup_stops_the_document(make_phone):
    app = ScriptedApp({"/voice": twiml("<Say>bye</Say><Hangup/><Say>never</Say>")})
    call = make_phone(app).run()
    assert call.heard == ["bye"] and call.events[-1]["by"] == "app"


def test_empty_response_ends_the_call(make_phone):
    call = make_phone(ScriptedApp({"/voice": twiml("")})).run()
    assert call.events == [] and call.ended_by == "app" and call.duration == 0


@pytest.mark.parametrize("reason, status", [("busy", "busy"), ("rejected", "no-answer")])
def test_reject_as_first_verb_never_answers(make_phone, reason, status):
    app = ScriptedApp({"/voice": twiml(f'<Reject reason="{reason}"/>'), "/status": lambda r: Response("", 204)})
    call = make_phone(app, status_callback="/status").run()
    assert call.status == status and call.duration == 0 and call.ended_by == "reject"
    assert app.seen[-1].form["CallStatus"] == status and app.seen[-1].form["CallDuration"] == "0"


def test_reject_after_answering_just_hangs_up(make_phone):
    call = make_phone(ScriptedApp({"/voice": twiml("<Say>hello</Say><Reject/>")})).run()
    assert call.status == "completed" and call.events[-1]["answered"] is True


@pytest.mark.parametrize("outcome", ["completed", "busy", "no-answer", "failed"])
def test_dial_posts_its_outcome_to_the_action(make_phone, outcome):
    app = ScriptedApp({"/voice": twiml('<Dial action="/after" timeout="20" callerId="+8612333">'
                                       "<Number>+8610123</Number></Dial><Say>unreachable</Say>"),
                       "/after": lambda req: twiml(f"<Say>{req.form['DialCallStatus']}</Say>")})
    call = make_phone(app, dial_outcome=outcome, dial_seconds=42).run()
    form = app.seen[1].form
    assert form["DialCallStatus"] == outcome and form["DialCallSid"].startswith("CA")
    assert call.heard == [outcome]
    dial = call.events[0]
    assert dial["to"] == ["+8610123"] and dial["status"] == outcome
    if outcome == "completed":
        assert form["DialCallDuration"] == "42" and dial["duration"] == 42
        assert abs(call.events[1]["at"] - (clock.RING_SECONDS + 42)) < 2e-3
    else:
        assert "DialCallDuration" not in form
    if outcome == "no-answer":
        assert abs(call.events[1]["at"] - 20) < 2e-3


def test_dial_without_action_continues(make_phone):
    app = ScriptedApp({"/voice": twiml("<Dial>+8610123</Dial><Say>after the call</Say>")})
    call = make_phone(app, dial_outcome="busy").run()
    assert call.heard == ["after the call"] and app.paths() == ["/voice"]


def _queue_app():
    def wait(req):
        return twiml(f"<Say>You are number {req.form['QueuePosition']} in {req.form['QueueSid'][:2]}</Say>"
                     + ("<Leave/>" if req.args.get("leave") else "") + "<Play>/music.wav</Play>")

    return ScriptedApp({
        "/voice": twiml('<Enqueue waitUrl="/wait" action="/done">support</Enqueue><Say>after</Say>'),
        "/leave": twiml('<Enqueue waitUrl="/wait?leave=1">support</Enqueue><Say>left the queue</Say>'),
        "/wait": wait,
        "/music.wav": lambda req: Response(wav_bytes(3.0), content_type="audio/wav"),
        "/done": lambda req: twiml(f"<Say>queue result {req.form['QueueResult']}</Say>"),
    })


def test_enqueue_plays_wait_music_then_an_agent_answers(make_phone):
    app = _queue_app()
    call = make_phone(app, dial_seconds=10).run()
    assert call.heard[:2] == ["You are number 1 in QU", app.seen[2].url]
    assert call.heard[-1] == "queue result bridged"
    done = next(s for s in app.seen if s.path == "/done").form
    assert done["QueueResult"] == "bridged" and int(done["QueueTime"]) >= 3
    assert call.events[0]["verb"] == "Enqueue" and call.events[0]["result"] == "bridged"


def test_leave_returns_to_the_next_verb(make_phone):
    app = _queue_app()
    call = make_phone(app, path="/leave").run()
    assert call.heard == ["You are number 1 in QU", "left the queue"]
    assert [e["verb"] for e in call.events][:3] == ["Enqueue", "Say", "Leave"]


def test_caller_gives_up_in_the_queue(make_phone):
    app = _queue_app()
    call = make_phone(app, queue_outcome="hangup").run()
    assert call.ended_by == "caller"
    assert next(s for s in app.seen if s.path == "/done").form["QueueResult"] == "hangup"
    assert "after" not in call.heard


def _record_app():
    return ScriptedApp({
        "/voice": twiml('<Say>Leave a message</Say><Record maxLength="20" action="/saved" '
                        'transcribeCallback="/transcribed"/><Say>No message recorded</Say>'),
        "/saved": lambda req: twiml(f"<Say>Saved {req.form['RecordingDuration']} seconds "
                                    f"key {req.form.get('Digits')}</Say>"),
        "/transcribed": lambda req: Response("", 204),
    })


def test_record_speech_posts_the_recording_and_transcription(make_phone):
    app = _record_app()
    call = make_phone(app).run(["say:please call me back about my pension"])
    saved = next(s for s in app.seen if s.path == "/saved").form
    assert saved["RecordingUrl"].startswith("https://api.twilio.com/2010-04-01/Accounts/AC")
    assert saved["RecordingSid"].startswith("RE") and "Digits" not in saved
    assert int(saved["RecordingDuration"]) >= 2
    transcribed = next(s for s in app.seen if s.path == "/transcribed").form
    assert transcribed["TranscriptionText"] == "please call me back about my pension"
    assert call.heard[-1].startswith("Saved")


def test_record_ended_by_a_key(make_phone):
    app = _record_app()
    call = make_phone(app).run(["#"])
    assert call.heard[-1] == "Saved 3 seconds key #"


def test_empty_recording_falls_through(make_phone):
    app = _record_app()
    call = make_phone(app).run(["_"])
    assert "/saved" not in app.paths()
    assert call.heard == ["Leave a message", "No message recorded"]
    assert call.events[1]["verb"] == "Beep"
    assert call.events[2] == {"verb": "Record", "at": call.events[2]["at"], "duration": 0, "empty": True}


def test_unsimulated_verbs_are_skipped_visibly(make_phone):
    app = ScriptedApp({"/voice": twiml('<Connect><Stream url="wss://example.com"/></Connect><Say>after</Say>')})
    call = make_phone(app).run()
    assert call.events[0] == {"verb": "Connect", "at": 0.0, "simulated": False}
    assert call.heard == ["after"] and not call.warnings
