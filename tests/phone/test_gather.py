"""<Gather>: defaults, completion rules, barge-in, fall-through and actionOnEmptyResult."""
from ivr.phone import clock

from .apps import ScriptedApp, twiml


def _echo(req):
    """Says back what the Gather sent, so tests can see it."""
    digits = req.values.get("Digits")
    speech = req.values.get("SpeechResult")
    return twiml(f"<Say>digits={digits} speech={speech} via {req.method}</Say>")


def test_default_action_posts_back_to_the_document(make_phone):
    def voice(req):
        if "Digits" in req.form:
            return _echo(req)
        return twiml("<Gather><Say>Enter your number then hash</Say></Gather><Say>no input</Say>")

    app = ScriptedApp({"/ivr/menu": voice})
    call = make_phone(app, path="/ivr/menu").run(["123#"])
    assert app.paths() == ["/ivr/menu", "/ivr/menu"]
    assert call.heard[-1] == "digits=123 speech=None via POST"  # finish key not in Digits
    assert call.events[1] == {"verb": "Gather", "at": call.events[1]["at"], "digits": "123"}


def test_relative_action_and_get_method(make_phone):
    app = ScriptedApp({"/a/b": twiml('<Gather action="c?x=1" method="GET"><Say>go</Say></Gather>'), "/a/c": _echo})
    call = make_phone(app, path="/a/b").run(["9#"])
    assert app.seen[1].path == "/a/c" and app.seen[1].method == "GET"
    assert app.seen[1].args["x"] == "1" and app.seen[1].args["Digits"] == "9"
    assert call.heard[-1] == "digits=9 speech=None via GET"


def test_num_digits_submits_at_once_and_drops_the_rest(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather numDigits="2" action="/r"><Say>two</Say></Gather>'), "/r": _echo})
    call = make_phone(app).run(["1234"])
    assert app.seen[1].form["Digits"] == "12"
    gather = next(e for e in call.events if e["verb"] == "Gather")
    assert gather["dropped"] == "34" and "timed_out" not in gather


def test_empty_finish_on_key_makes_hash_a_digit_and_timeout_submits(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather finishOnKey="" timeout="3" action="/r"><Say>x</Say></Gather>'),
                       "/r": _echo})
    call = make_phone(app).run(["12#"])
    assert app.seen[1].form["Digits"] == "12#"
    gather = next(e for e in call.events if e["verb"] == "Gather")
    assert gather["timed_out"] is True
    say_end = call.events[0]["duration"]
    expected = say_end + clock.REACTION_SECONDS + clock.keys_seconds("12#") + 3
    assert abs(gather["at"] - expected) < 2e-3


def test_star_as_finish_key(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather finishOnKey="*" action="/r"><Say>x</Say></Gather>'), "/r": _echo})
    make_phone(app).run(["55#*"])
    assert app.seen[1].form["Digits"] == "55#"


def test_no_input_falls_through_without_a_request(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather action="/r" timeout="7"><Say>Enter</Say></Gather>'
                                       "<Say>We did not get that.</Say><Hangup/>"), "/r": _echo})
    call = make_phone(app).run(["_"])
    assert app.paths() == ["/voice"]
    assert call.heard == ["Enter", "We did not get that."]
    gather = call.events[1]
    assert gather["verb"] == "Gather" and gather["digits"] == "" and gather["timed_out"]
    assert abs(call.events[2]["at"] - (call.events[0]["duration"] + 7)) < 2e-3
    assert call.ended_by == "app"


def test_finish_key_alone_is_no_input(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather action="/r"><Say>Enter</Say></Gather><Say>nothing</Say>'),
                       "/r": _echo})
    call = make_phone(app).run(["#"])
    assert app.paths() == ["/voice"]
    assert call.heard[-1] == "nothing"


def test_action_on_empty_result_requests_the_action_without_digits(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather action="/r" actionOnEmptyResult="true"><Say>Enter</Say></Gather>'
                                       "<Say>never heard</Say>"), "/r": _echo})
    call = make_phone(app).run(["_"])
    assert app.paths() == ["/voice", "/r"]
    assert "Digits" not in app.seen[1].form and app.seen[1].form["msg"] == "Gather End"
    assert "never heard" not in call.heard


def test_verbs_after_a_submitted_gather_are_skipped(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather numDigits="1" action="/r"><Say>x</Say></Gather><Say>after</Say>'),
                       "/r": twiml("<Say>next document</Say>")})
    call = make_phone(app).run(["1"])
    assert call.heard == ["x", "next document"]


def test_key_during_nested_prompt_skips_the_rest(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather numDigits="1" action="/r"><Say>Welcome.</Say>'
                                       "<Say>For sales press 1.</Say><Say>For support press 2.</Say></Gather>"),
                       "/r": _echo})
    call = make_phone(app).dial()
    call.expect("sales")
    call.press("1")
    call.expect("digits=1")
    assert "For support press 2." not in call.heard
    assert call.heard == ["Welcome.", "For sales press 1.", "digits=1 speech=None via POST"]


def test_caller_waits_for_the_menu_once_not_for_its_loops(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather numDigits="1" action="/r"><Say loop="3">Press 1.</Say></Gather>'),
                       "/r": _echo})
    call = make_phone(app).run(["1"])
    say = call.events[0]
    single = clock.speaking_seconds("Press 1.", "en-US")
    assert say["loop"] == 3 and abs(say["duration"] - single) < 2e-3


def test_silence_lets_every_loop_play(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather><Say loop="3">Press 1.</Say><Pause length="2"/></Gather>')})
    call = make_phone(app).run(["_"])
    single = clock.speaking_seconds("Press 1.", "en-US")
    assert abs(call.events[0]["duration"] - 3 * single) < 2e-3
    assert call.events[1] == {"verb": "Pause", "at": call.events[1]["at"], "length": 2}
    assert abs(call.duration - (3 * single + 2 + 5)) < 2e-3


def test_speech_input(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather input="dtmf speech" action="/r"><Say>Say or press</Say></Gather>'),
                       "/r": _echo})
    call = make_phone(app).run(["say:account balance"])
    assert app.seen[1].form["SpeechResult"] == "account balance"
    assert float(app.seen[1].form["Confidence"]) > 0
    assert "Digits" not in app.seen[1].form
    assert call.heard[-1] == "digits=None speech=account balance via POST"


def test_speech_to_a_dtmf_gather_is_no_input(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather action="/r"><Say>Press</Say></Gather><Say>fell through</Say>'),
                       "/r": _echo})
    call = make_phone(app).run(["say:hello"])
    assert app.paths() == ["/voice"]
    gather = next(e for e in call.events if e["verb"] == "Gather")
    assert gather["ignored"] == "say:hello"
    assert call.heard[-1] == "fell through"
    # and the phone warns: a scenario that speaks where only keys are taken fails unless it allows it
    assert [w["code"] for w in call.warnings] == [0] and "does not accept speech" in call.warnings[0]["message"]


def test_speech_confidence_is_sent_as_given(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather input="dtmf speech" action="/r"><Say>Say</Say></Gather>'),
                       "/r": _echo})
    call = make_phone(app).run(["say@0.35:balance please"])
    assert app.seen[1].form["SpeechResult"] == "balance please"
    assert app.seen[1].form["Confidence"] == "0.35" and "Digits" not in app.seen[1].form
    assert "says 'balance please' (confidence 0.35)" in call.transcript
    call = make_phone(app).dial()
    call.say("balance", confidence=0.5)
    assert app.seen[-1].form["Confidence"] == "0.5"


def test_keys_to_a_speech_only_gather_are_no_input(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather input="speech" action="/r"><Say>Speak</Say></Gather><Say>fell</Say>'),
                       "/r": _echo})
    call = make_phone(app).run(["1"])
    assert app.paths() == ["/voice"] and call.heard[-1] == "fell"


def test_invalid_finish_on_key_warns_13310_and_uses_hash(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather finishOnKey="x" action="/r"><Say>x</Say></Gather>'), "/r": _echo})
    call = make_phone(app).run(["4#"])
    assert any(w["code"] == 13310 for w in call.warnings)
    assert app.seen[1].form["Digits"] == "4"


def test_bad_nesting_is_a_12200_warning_and_skipped(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather action="/r"><Redirect>/r</Redirect><Say>in</Say></Gather>'),
                       "/r": _echo})
    call = make_phone(app).run(["1#"])
    assert any(w["code"] == 12200 and "Redirect" in w["message"] for w in call.warnings)
    assert app.paths() == ["/voice", "/r"] and app.seen[1].form["Digits"] == "1"


def test_caller_hangs_up_when_keys_run_out(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather action="/r"><Say>Menu</Say></Gather><Say>after</Say>')})
    call = make_phone(app).run([])
    assert call.ended_by == "caller" and call.status == "completed"
    assert call.heard == ["Menu"] and call.events[-1] == {"verb": "Hangup", "at": call.events[-1]["at"], "by": "caller"}
