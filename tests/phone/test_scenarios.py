"""Scenario files: parsing, running (pass, fail with transcript), JUnit output."""
import xml.etree.ElementTree as ET

import pytest

from ivr.phone import scenario as scenarios
from ivr.phone.phone import Phone

from .apps import ScriptedApp, cookie_app, twiml

MENU = ScriptedApp({
    "/voice": twiml('<Gather numDigits="1" action="/pick"><Say>Welcome.</Say><Say>Press 1 for news.</Say></Gather>'
                    "<Say>Goodbye.</Say>"),
    "/pick": lambda req: twiml(f"<Say>News item {req.form['Digits']}.</Say><Hangup/>"),
    "/other": twiml("<Say>Other entry.</Say>"),
    "/busy": twiml('<Dial action="/dialled">+8610</Dial>'),
    "/dialled": lambda req: twiml(f"<Say>Line {req.form['DialCallStatus']}.</Say>"),
})


def _write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(path, app=MENU):
    phone = Phone(app=app)
    return [scenarios.run(s, lambda _s: phone) for s in scenarios.load_file(path)]


def test_passing_and_failing_scenarios(tmp_path):
    path = _write(tmp_path, '''
[[scenario]]
name = "news"
steps = [
  { expect = "press 1 for NEWS" },
  { press = "1" },
  { expect_regex = "News item \\\\d\\\\." },
  { expect_hangup = true },
]

[[scenario]]
name = "wrong prompt"
steps = [{ expect = "Welcome" }, { press = "1" }, { expect = "Weather" }]

[[scenario]]
name = "silence"
steps = [{ press = "_" }, { expect = "Goodbye." }, { expect_hangup = true }]

[[scenario]]
name = "other entry"
path = "/other"
steps = [{ expect = "Other entry" }]

[[scenario]]
name = "busy line"
path = "/busy"
dial_outcome = "busy"
steps = [{ expect_event = { verb = "Dial", status = "busy" } }, { expect = "Line busy." }]
''')
    results = _run(path)
    assert [(r.scenario.name, r.status) for r in results] == [
        ("news", "passed"), ("wrong prompt", "failed"), ("silence", "passed"), ("other entry", "passed"),
        ("busy line", "passed")]
    failed = results[1]
    assert failed.message.startswith("step 3 (expect 'Weather'): expected a prompt matching 'Weather'")
    assert "News item 1." in failed.message  # what was heard instead
    assert "Caller         presses 1" in failed.message  # and the transcript


def test_expect_cannot_skip_past_an_input_point(tmp_path):
    path = _write(tmp_path, '[[scenario]]\nname = "x"\nsteps = [{ expect = "News item" }]\n')
    result, = _run(path)
    assert result.status == "failed" and "waiting for the caller's input" in result.message


def test_errors_fail_a_scenario_unless_allowed(tmp_path):
    app = ScriptedApp({"/voice": twiml("<Say>hi</Say><Play>/missing.wav</Play><say>typo</say>")})
    path = _write(tmp_path, '''
[[scenario]]
name = "strict"
steps = [{ expect = "hi" }]

[[scenario]]
name = "lenient"
allow_errors = true
allow_warnings = true
steps = [{ expect = "hi" }, { expect_error = 11200 }]
''')
    strict, lenient = _run(path, app)
    assert strict.status == "failed" and "error 11200" in strict.message and "warning 12200" in strict.message
    assert lenient.status == "passed"


def test_cookie_state_scenario(tmp_path):
    path = _write(tmp_path, '''
[[scenario]]
name = "three picks"
steps = [{ press = "1" }, { press = "2" }, { press = "3" }, { expect = "You picked 1 2 3." }]
''')
    assert _run(path, cookie_app())[0].status == "passed"


@pytest.mark.parametrize("body, message", [
    ("", "no [[scenario]] tables"),
    ("[[scenario]\n", "s.toml"),
])
def test_bad_files_say_what_is_wrong(tmp_path, body, message):
    with pytest.raises(scenarios.ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        scenarios.load_file(_write(tmp_path, body))


@pytest.mark.parametrize("body, message", [
    ('[[scenario]]\nname = "a"\nsteps = []', "no steps"),
    ('[[scenario]]\nname = "a"\nsteps = [{ wait = 3 }]', "unknown step 'wait'"),
    ('[[scenario]]\nname = "a"\nsteps = [{ press = "12x" }]', "bad key token"),
    ('[[scenario]]\nname = "a"\nsteps = [{ press = "1", expect = "x" }]', "exactly one"),
    ('[[scenario]]\nname = "a"\nsteps = [{ hangup = false }]', "write hangup = true"),
    ('[[scenario]]\nname = "a"\ncolour = 1\nsteps = [{ press = "1" }]', "unknown keys ['colour']"),
    ('[[scenario]]\nname = "a"\nsteps = [{ press = "1" }]\n[[scenario]]\nname = "a"\nsteps = [{ press = "1" }]',
     "duplicate name"),
])
def test_a_bad_scenario_fails_with_the_reason_and_the_others_still_run(tmp_path, body, message):
    good = '\n[[scenario]]\nname = "good"\nsteps = [{ press = "1" }, { expect = "And another." }]\n'
    path = _write(tmp_path, body + "\n" + good)
    loaded = scenarios.load_file(path)
    bad = [s for s in loaded if s.problem]
    assert len(bad) == 1 and message in bad[0].problem and str(path) in bad[0].problem
    results = _run(path, cookie_app())
    assert [r.status for r in results if r.scenario.problem] == ["failed"]
    assert next(r for r in results if r.scenario.problem).message == bad[0].problem
    assert [r.status for r in results if r.scenario.name == "good"] == ["passed"]


def test_config_tables_merge(tmp_path):
    path = _write(tmp_path, '''
[config]
NOW = "2026-11-25T10:00:00+08:00"
[[scenario]]
name = "a"
config = { VOICE_MODE = "say" }
steps = [{ press = "1" }]
''')
    scenario, = scenarios.load_file(path)
    assert scenario.config == {"NOW": "2026-11-25T10:00:00+08:00", "VOICE_MODE": "say"}


def test_junit_report(tmp_path):
    from ivr.phone import junit

    path = _write(tmp_path, '[[scenario]]\nname = "ok"\nsteps = [{ expect = "Welcome" }]\n'
                            '[[scenario]]\nname = "bad"\nsteps = [{ expect = "Nope" }]\n')
    results = _run(path)
    junit.write(results, tmp_path / "junit.xml")
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    ok, bad = suite.findall("testcase")
    assert ok.get("name") == "ok" and ok.find("failure") is None
    assert "Nope" in bad.find("failure").get("message")
    assert "Welcome." in bad.find("system-out").text
