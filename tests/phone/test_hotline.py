"""The shipped scenarios (scenarios/*.toml) against our hotline: in-process, and over HTTP
against ``ivr serve``; plus the phone fixture and a recorded hotline call."""
import hashlib
import io
import json
import logging
from pathlib import Path

import pytest
import soundfile

from ivr.phone import scenario as scenarios
from ivr.testing import seeded_hotline_app
from ivr.phone.targets import AppTarget, HttpTarget

from .goertzel import decode
from .hotline_server import ROOT, HotlineServer

SCENARIOS = scenarios.load_paths([ROOT / "scenarios"])
IDS = [f"{Path(s.file).stem}::{s.name}" for s in SCENARIOS]


@pytest.fixture(autouse=True)
def quiet_app_logs():
    logging.disable(logging.INFO)  # the hotline logs every webhook; keep failures readable
    yield
    logging.disable(logging.NOTSET)


@pytest.fixture(scope="session")
def in_process(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("hotline-in-process")
    base = {"VOICE_MODE": "say", "AUDIO_DIR": str(scratch / "audio")}
    return AppTarget(lambda config: seeded_hotline_app(config, scratch), base)


@pytest.fixture(scope="session")
def over_http(tmp_path_factory):
    """One `ivr serve` per distinct scenario [config], prompts as <Play> audio (rendered by the
    local TTS once per session) so the X-Prompt-Text path is exercised too."""
    audio = tmp_path_factory.mktemp("hotline-audio")
    servers: dict[str, HotlineServer] = {}

    def url_for(config):
        full = {"VOICE_MODE": "play", "AUDIO_DIR": str(audio), **config}
        key = hashlib.sha1(json.dumps(full, sort_keys=True).encode()).hexdigest()[:10]
        if key not in servers:
            servers[key] = HotlineServer(full, tmp_path_factory.mktemp(f"hotline-{key}"))
        return servers[key].url

    yield HttpTarget("unused: every shipped scenario names its config", url_for)
    for server in servers.values():
        server.stop()


def _check(result):
    assert result.status == "passed", result.message


def test_every_scenario_pins_the_clock():
    # Agent hours depend on the time of day: a scenario without NOW would pass or fail by the clock.
    assert all("NOW" in s.config for s in SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_scenario_in_process(scenario, in_process):
    _check(scenarios.run(scenario, in_process))


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_scenario_over_http(scenario, over_http):
    result = scenarios.run(scenario, over_http)
    _check(result)
    heard = [e for e in result.call.events if e["verb"] in ("Say", "Play")]
    assert heard and all(e["verb"] == "Play" and e.get("text") for e in heard)  # audio with its text


def test_phone_fixture_calls_the_hotline(phone):
    call = phone.dial(caller="+8613700000000")
    call.expect("普通话服务请按1")
    call.press("2")
    call.expect("For your personal account, press 1.")
    call.press("1")
    call.press("110101199003074573#")
    call.press("074573#")
    call.press("1")
    call.expect("Your medical insurance personal account balance is 1,234 yuan 56 fen.")
    call.hangup()
    assert call.status == "completed" and not call.errors and not call.warnings


def test_recorded_hotline_call_decodes_to_the_keys(phone, tmp_path):
    path = tmp_path / "hotline.wav"
    call = phone.run(["2", "1", "110101199003074573#", "074573#", "2"], record=path)
    assert "Your basic pension personal account holds 45,678 yuan 90 fen." in call.heard
    samples, rate = soundfile.read(str(path))
    assert rate == 8000 and abs(len(samples) / rate - call.ctx.clock.now) < 0.01
    assert decode(samples) == "21110101199003074573#074573#2"


@pytest.mark.parametrize("public_url", [None, "https://ivr.example.com"])
def test_signed_calls_pass_the_hotlines_signature_check(phone_app_config, public_url):
    from ivr.testing import hotline_app
    from ivr.phone.targets import app_phone

    config = {**phone_app_config, "TWILIO_AUTH_TOKEN": "secret-token", "VOICE_MODE": "say"}
    if public_url:
        config["PUBLIC_URL"] = public_url
    app = hotline_app(config)
    call = app_phone(app).run(["2", "3"])  # the token comes from the app's config
    assert call.ctx.settings.url == (public_url or "http://localhost") + "/voice"
    assert "Other ways to check your balance." in call.heard[-1] and not call.errors
    refused = app_phone(app, auth_token="not-the-token").run(["2"])
    assert [(e["code"], e["message"]) for e in refused.errors] == [(11200, "HTTP 403")]


def test_recorded_call_with_prompts_as_audio(phone_app_config, tmp_path):
    """VOICE_MODE=play: the recording holds the app's own WAV prompts, fetched over the transport."""
    from ivr.testing import hotline_app
    from ivr.phone.targets import app_phone

    app = hotline_app({**phone_app_config, "VOICE_MODE": "play"})
    call = app_phone(app).run(["1", "3", "2"], record=tmp_path / "play.wav")
    plays = [e for e in call.events if e["verb"] == "Play"]
    assert plays and all(e["url"].startswith("http://localhost/audio/") and e["text"] for e in plays)
    assert plays[-2]["text"].startswith("支付宝查询") and plays[-1]["text"].startswith("微信请按1")
    samples, rate = soundfile.read(str(tmp_path / "play.wav"))
    assert decode(samples) == "132"
    for play in plays:  # each file's own length, where the transcript puts it
        info = soundfile.info(io.BytesIO(app.test_client().get(play["url"]).data))
        assert abs(play["duration"] - info.frames / info.samplerate) < 2e-3


def test_ivr_test_runs_shipped_scenarios_in_process(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ivr.cli import main

    monkeypatch.setenv("IVR_AUDIO_DIR", str(tmp_path / "audio"))
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["test", str(ROOT / "scenarios" / "language.toml"), "-c", "VOICE_MODE=say",
                                       "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS") == 6 and "6 passed, 0 failed, 0 skipped" in result.output
    assert junit.read_text(encoding="utf-8").count("<testcase") == 6


def test_ivr_call_in_process_uses_the_configured_hotline(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ivr.cli import main

    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    monkeypatch.setenv("IVR_AUDIO_DIR", str(tmp_path / "audio"))
    result = CliRunner().invoke(main, ["call", "--json", "-c", "VOICE_MODE=say", "-c", "NOW=2026-11-25T20:00:00+08:00",
                                       "2", "0"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    said = [e["text"] for e in data["events"] if e["verb"] == "Say"]
    assert said[-2].startswith("Our agents are not available now.")  # -c NOW reached the app
    assert data["ended_by"] == "caller"
