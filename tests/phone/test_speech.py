"""The local phone speaks: the pytest fixture, the CLI token, scenario steps with confidence."""
import pytest
from click.testing import CliRunner

from ivr.phone import scenario as scenarios
from ivr.phone.errors import PhoneError
from ivr.phone.keys import CallerInput


def test_the_phone_fixture_says_options_to_the_hotline(phone):
    call = phone.dial()
    call.press("2")
    call.expect("For your personal account, press 1.")
    call.say("I'd like to apply for a card")
    call.expect("Applying for a social security card.")
    call.press("*")
    call.say("law", confidence=0.2)
    call.expect("Did you mean policy and the law? To confirm, press 1 or say yes.")
    call.say("yes")
    call.expect("Policy and the law.")
    said = [(e["speech"], e["confidence"]) for e in call.events if e["verb"] == "Gather" and "speech" in e]
    assert said == [("I'd like to apply for a card", 0.9), ("law", 0.2), ("yes", 0.9)]
    call.hangup()


@pytest.mark.parametrize("token,speech,confidence", [
    ("say:查余额", "查余额", None), ("say@0.4:查余额", "查余额", 0.4), ("say@1:yes", "yes", 1.0),
    ("say: two words ", "two words", None),
])
def test_say_tokens(token, speech, confidence):
    given = CallerInput.parse(token)
    assert (given.speech, given.confidence) == (speech, confidence)
    assert CallerInput.parse(str(given)) == given


@pytest.mark.parametrize("token", ["say@1.5:x", "say@:x", "say@0.4:", "say:"])
def test_bad_say_tokens(token):
    with pytest.raises(PhoneError):
        CallerInput.parse(token)


def test_cli_token_reaches_the_hotline(tmp_path):
    from ivr.cli import main

    result = CliRunner().invoke(main, ["call", "--json", "1", "say@0.3:补卡", "1"],
                                env={"IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                                     "IVR_AUDIO_DIR": str(tmp_path / "audio"),
                                     "IVR_NOW": "2026-11-25T10:00:00+08:00"})
    assert result.exit_code == 0, result.output
    assert "您是要社保卡办理吗？" in result.output and "社保卡办理指南。" in result.output


def _load(tmp_path, steps: str):
    path = tmp_path / "s.toml"
    path.write_text(f'[[scenario]]\nname = "a"\nsteps = [{steps}]\n', encoding="utf-8")
    return scenarios.load_file(path)


def test_say_step_with_confidence(tmp_path):
    scenario, = _load(tmp_path, '{ say = "查余额", confidence = 0.35 }, { say = "是" }')
    assert [(s.kind, s.value, s.confidence) for s in scenario.steps] == [
        ("say", "查余额", 0.35), ("say", "是", None)]
    assert scenario.steps[0].describe() == "say '查余额' (confidence 0.35)"


@pytest.mark.parametrize("steps,message", [
    ('{ say = "x", confidence = 2 }', "confidence must be a number from 0 to 1"),
    ('{ say = "x", confidence = "high" }', "confidence must be a number from 0 to 1"),
    ('{ press = "1", confidence = 0.5 }', "exactly one"),
])
def test_bad_say_steps(tmp_path, steps, message):
    """A bad step fails its own scenario with the reason (the file's other scenarios still run)."""
    scenario, = _load(tmp_path, steps)
    assert scenario.problem and message in scenario.problem
