"""GET /audio/... and the audio_path() contract the TwiML layer uses."""
import re
from pathlib import Path
from urllib.parse import unquote

from ivr.tts.store import PromptAudio

from .conftest import render_all
from .helpers import assert_telephony_wav, write_tone

WELCOME_ZH = "您好，欢迎致电12333社会保障服务热线。"


def service(app):
    return app.extensions["ivr_audio"]


def test_static_prompt_is_served_as_cacheable_wav(app, client, store):
    render_all(store)
    resp = client.get("/audio/zh-CN/welcome.wav")
    assert resp.status_code == 200
    assert resp.mimetype == "audio/wav"
    assert resp.headers["ETag"] and resp.headers["Last-Modified"]
    assert resp.cache_control.public and resp.cache_control.max_age == 3600
    assert unquote(resp.headers["X-Prompt-Text"]) == WELCOME_ZH
    assert re.fullmatch(r"[A-Za-z0-9%._~-]+", resp.headers["X-Prompt-Text"])  # ASCII-safe header
    assert_telephony_wav(resp.data, WELCOME_ZH, 150)
    again = client.get("/audio/zh-CN/welcome.wav", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304
    assert client.head("/audio/en-US/goodbye.wav").status_code == 200


def test_unknown_prompts_are_404(client, store):
    render_all(store)
    for url in ("/audio/zh-CN/nope.wav", "/audio/fr-FR/welcome.wav", "/audio/zh-CN/balance.wav",
                "/audio/zh-CN/..%2Fmanifest.wav", "/audio/zh-CN/balance/0123456789abcdef0123456789abcdef.wav",
                "/audio/zh-CN/balance/not-a-key.wav"):
        assert client.get(url).status_code == 404, url


def test_static_route_renders_a_missing_prompt(client, audio_dir):
    resp = client.get("/audio/en-US/goodbye.wav")
    assert resp.status_code == 200
    assert_telephony_wav(resp.data, "Thank you for calling. Goodbye.", 160)
    assert (audio_dir / "en-US" / "goodbye.wav").read_bytes() == resp.data


def test_audio_path_static(app, client, store):
    audio = service(app)
    assert audio.audio_path("zh-CN", "welcome", WELCOME_ZH, dynamic=False, render=False) is None
    render_all(store)
    assert audio.audio_path("zh-CN", "welcome", WELCOME_ZH, dynamic=False, render=False) == "/audio/zh-CN/welcome.wav"
    # Audio for exactly that text only: other text under the same id is not this file.
    assert audio.audio_path("zh-CN", "welcome", "别的文字。", dynamic=False, render=False) is None


def test_audio_path_renders_when_asked(app, client, audio_dir):
    audio = service(app)
    path = audio.audio_path("en-US", "main_menu", "For your personal account, press 1. For an agent, press 0.",
                            dynamic=False, render=True)
    assert path == "/audio/en-US/main_menu.wav"
    assert client.get(path).status_code == 200
    assert audio.audio_path("en-US", "main_menu", "For your personal account, press 1. For an agent, press 0.",
                            dynamic=False, render=False) == path


def test_audio_path_dynamic(tmp_path):
    """Issue 16: a keyed name, no text in the manifest or the headers, a URL for one call that expires."""
    import json
    import time as _time

    from ivr.hotline.models import Call
    from tests.conftest import make_app as hotline_app

    app = hotline_app(tmp_path, TWILIO_AUTH_TOKEN="production-token")
    client = app.test_client()
    audio = service(app)
    text = "您的医疗保险个人账户余额为1234.56元。"
    sid = "CA" + "7" * 32
    with app.extensions["ivr_db"].Session() as s, s.begin():
        s.add(Call(call_sid=sid, state={}))
    with app.test_request_context("/voice/input", method="POST", data={"CallSid": sid}):
        assert audio.audio_path("zh-CN", "balance", text, dynamic=True, render=False) is None
        path = audio.audio_path("zh-CN", "balance", text, dynamic=True, render=True)
        assert audio.audio_path("zh-CN", "balance", text, dynamic=True, render=False) == path
    assert re.fullmatch(r"/audio/zh-CN/balance/[0-9a-f]{32}\.wav\?c=CA7{32}&e=[0-9]+&t=[0-9a-f]{32}", path)
    resp = client.get(path)
    assert resp.status_code == 200 and resp.mimetype == "audio/wav"
    assert "X-Prompt-Text" not in resp.headers
    assert resp.cache_control.private and not resp.cache_control.public
    assert_telephony_wav(resp.data, text, 150)
    manifest = (Path(app.config["AUDIO_DIR"]) / "manifest.json").read_text("utf-8")
    assert "1234.56" not in manifest and text not in manifest
    assert all(e["text"] == "" for e in json.loads(manifest)["dynamic"].values())
    # Another process (another gunicorn worker) finds it through the manifest.
    other = PromptAudio.from_config(app.config)
    assert other.lookup_dynamic("zh-CN", text).path.read_bytes() == resp.data
    # Guessing does not work: not without the tag, not for another call, not once expired.
    bare = path.split("?")[0]
    assert client.get(bare).status_code == 404
    assert client.get(path.replace(sid, "CA" + "8" * 32)).status_code == 404
    expired = re.sub(r"e=[0-9]+", f"e={int(_time.time()) - 1}", path)
    assert client.get(expired).status_code == 404
    # The URL goes with the call.
    from sqlalchemy import update

    with app.extensions["ivr_db"].Session() as s, s.begin():
        s.execute(update(Call).where(Call.call_sid == sid).values(ended_at=Call.started_at))
    assert client.get(path).status_code == 404


def test_audio_path_recording_wins(app, client, store, prompts_dir):
    render_all(store)
    recording = write_tone(prompts_dir / "recorded" / "en-US" / "welcome.wav")
    audio = service(app)
    text = "Hello, welcome to the 12333 social security hotline."
    assert audio.audio_path("en-US", "welcome", text, dynamic=False, render=False) == "/audio/en-US/welcome.wav"
    resp = client.get("/audio/en-US/welcome.wav")
    assert resp.data == recording and resp.headers["ETag"].startswith('"rec-')
    assert unquote(resp.headers["X-Prompt-Text"]) == text


def test_audio_path_never_raises_for_missing_files(app, store, audio_dir):
    audio = service(app)
    render_all(store)
    (audio_dir / "zh-CN" / "goodbye.wav").unlink()
    assert audio.audio_path("zh-CN", "goodbye", "感谢您的来电，再见。", dynamic=False, render=False) is None
    (audio_dir / "manifest.json").write_text("{not json", encoding="utf-8")
    assert audio.audio_path("zh-CN", "welcome", WELCOME_ZH, dynamic=False, render=False) is None
    assert audio.audio_path("zh-CN", "balance", "余额为1元。", dynamic=True, render=False) is None
    assert audio.audio_path("xx-XX", "welcome", "hi", dynamic=False, render=False) is None
