"""--record: a valid telephone WAV whose DTMF tones decode back to the keys pressed."""
import io

import numpy as np
import pytest
import soundfile
from werkzeug.wrappers import Response

from ivr.phone import Phone, audio

from .apps import ScriptedApp, twiml, wav_bytes
from .goertzel import decode, goertzel_power


def _app():
    return ScriptedApp({
        "/voice": twiml('<Play digits="9"/><Gather numDigits="3" action="/second"><Say>Enter three digits.</Say>'
                        "</Gather>"),
        "/second": twiml('<Gather action="/third"><Say language="cmn-CN" voice="Polly.Zhiyu">请输入密码，以井号结束</Say></Gather>'),
        "/third": twiml("<Play>/tone.wav</Play><Say>Goodbye.</Say>"),
        "/tone.wav": lambda req: Response(wav_bytes(1.0, rate=16000, freq=440), content_type="audio/wav"),
    })


def _rms(samples, start, seconds):
    chunk = samples[int(start * audio.RATE):int((start + seconds) * audio.RATE)]
    return float(np.sqrt(np.mean(chunk ** 2))) if len(chunk) else 0.0


def test_recording_is_8khz_mono_pcm16_and_tones_decode_to_the_keys(tmp_path):
    path = tmp_path / "call.wav"
    call = Phone(app=_app()).run(["123", "*0#"], record=path)
    info = soundfile.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.format) == (8000, 1, "PCM_16", "WAV")
    samples, _ = soundfile.read(str(path), dtype="float64")
    assert abs(len(samples) / 8000 - call.ctx.clock.now) < 0.01
    # 9 is the app's <Play digits>, then the caller's keys, finish key included: it was pressed.
    assert decode(samples) == "9123*0#"


def test_recording_holds_the_prompts_where_the_transcript_puts_them(tmp_path):
    call = Phone(app=_app()).run(["123", "*0#"], record=tmp_path / "call.wav")
    samples, _ = soundfile.read(str(tmp_path / "call.wav"), dtype="float64")
    for event in call.events:
        if event["verb"] == "Say":
            assert event["duration"] > 0.3
            assert _rms(samples, event["at"], event["duration"]) > 0.01, event  # TTS speech is there
    play = next(e for e in call.events if e.get("url", "").endswith("/tone.wav"))
    frame = samples[int((play["at"] + 0.2) * 8000):][:800]
    power_440 = goertzel_power(frame, 440, 8000)
    assert power_440 > 50 * goertzel_power(frame, 1000, 8000)  # the 16 kHz file, resampled, at its place
    gather = next(e for e in call.events if e["verb"] == "Gather")
    # Before the keys the caller was silent: the reaction time right after the prompt.
    prompt = next(e for e in call.events if e["verb"] == "Say")
    assert _rms(samples, prompt["at"] + prompt["duration"] + 0.05, 0.8) < 1e-4
    assert gather["digits"] == "123"


def test_in_memory_recording(tmp_path):
    call = Phone(app=_app()).run(["5", "#"], record=True)
    samples, rate = soundfile.read(io.BytesIO(call.recording_wav()))
    assert rate == 8000 and decode(samples) == "95#"


def test_unrecorded_call_has_no_audio():
    call = Phone(app=_app()).run(["123"])
    with pytest.raises(ValueError):
        call.recording_wav()
