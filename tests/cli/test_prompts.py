"""ivr prompts render / ivr prompts check, run as commands against real prompt folders."""
import json

import pytest
from click.testing import CliRunner

from ivr.cli.prompts import prompts_group

from tests.tts.conftest import ZH, audio_dir, prompts_dir  # noqa: F401 - fixtures shared with tests/tts
from tests.tts.helpers import write_tone


@pytest.fixture
def run(prompts_dir, audio_dir, monkeypatch):
    monkeypatch.setenv("IVR_PROMPTS_DIR", str(prompts_dir))
    monkeypatch.setenv("IVR_AUDIO_DIR", str(audio_dir))

    def invoke(*args):
        return CliRunner().invoke(prompts_group, list(args), catch_exceptions=False)

    return invoke


def test_render_then_nothing_to_do(run, audio_dir):
    result = run("render")
    assert result.exit_code == 0, result.output
    assert "Rendering 6 prompts" in result.output
    assert "Rendered 6 in" in result.output and "up to date 0; recorded 0." in result.output
    assert len(json.loads((audio_dir / "manifest.json").read_text(encoding="utf-8"))["static"]) == 6
    result = run("render")
    assert result.exit_code == 0 and "Rendered 0 in" in result.output and "up to date 6" in result.output


def test_render_one_language_and_force(run, audio_dir):
    assert "Rendered 3 in" in run("render", "--lang", "en-US").output
    assert not (audio_dir / "zh-CN").exists()
    assert "Rendered 3 in" in run("render", "--lang", "en-US", "--force").output
    assert run("render", "--lang", "de-DE").exit_code == 2


def test_render_failure_names_the_prompt(run, monkeypatch):
    monkeypatch.setenv("IVR_TTS_VOICES", '{"zh-CN": "no-such-voice"}')
    result = run("render")
    assert result.exit_code == 1
    assert "error: prompt 'goodbye' (zh-CN): espeak-ng has no voice 'no-such-voice'" in result.output
    assert "3 prompt(s) failed to render" in result.output
    assert "Rendered 3 in" in result.output  # English still rendered


def test_check_reports_every_kind_of_problem(run, prompts_dir):
    write_tone(prompts_dir / "recorded" / "zh-CN" / "welcome.wav")  # fine
    write_tone(prompts_dir / "recorded" / "zh-CN" / "main_menu.wav", rate=44100, channels=2)
    write_tone(prompts_dir / "recorded" / "en-US" / "goodbye.wav", subtype="FLOAT")
    write_tone(prompts_dir / "recorded" / "en-US" / "old_prompt.wav")
    write_tone(prompts_dir / "recorded" / "en-US" / "balance.wav")
    write_tone(prompts_dir / "recorded" / "fr-FR" / "welcome.wav")
    (prompts_dir / "recorded" / "en-US" / "notes.txt").write_text("not audio")
    (prompts_dir / "recorded" / "en-US" / "welcome.wav").write_bytes(b"RIFF....garbage")
    result = run("check")
    assert result.exit_code == 1
    out = result.output
    rec = prompts_dir / "recorded"
    assert "zh-CN prompt 'goodbye': no audio (no recording and no render)" in out
    assert "zh-CN prompt 'welcome'" not in out  # its recording is its audio
    assert f"{rec}/zh-CN/main_menu.wav: wrong format for prompt 'main_menu': 44100 Hz, not 8000 Hz; " \
           "2 channels, not mono" in out
    assert f"{rec}/en-US/goodbye.wav: wrong format for prompt 'goodbye': sample format FLOAT" in out
    assert f"{rec}/en-US/welcome.wav: wrong format for prompt 'welcome': not a readable WAV file" in out
    assert f"{rec}/en-US/old_prompt.wav: recording with no prompt: en-US has no prompt 'old_prompt'" in out
    assert f"{rec}/en-US/balance.wav: prompt 'balance' is dynamic" in out
    assert f"{rec}/fr-FR/welcome.wav: not a recording of any prompt" in out
    assert f"{rec}/en-US/notes.txt: not a recording of any prompt" in out
    assert "problem(s): 3 bad-recording, 5 no-audio, 4 orphan-recording" in out


def test_check_passes_after_render(run, prompts_dir):
    assert run("check").exit_code == 1
    assert run("render").exit_code == 0
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "OK: 6 static prompts have audio" in result.output
    # A changed text makes its render stale again.
    (prompts_dir / "zh-CN.toml").write_text(ZH.replace("再见。", "再会。"), encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1
    assert "zh-CN prompt 'goodbye': no audio (its render is out of date (text or voice changed))" in result.output


def test_missing_prompt_files_are_a_clear_error(run, prompts_dir):
    (prompts_dir / "en-US.toml").unlink()
    for command in ("render", "check"):
        result = run(command)
        assert result.exit_code == 1 and "missing prompt file for en-US" in result.output
