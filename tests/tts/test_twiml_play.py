"""Through the real hotline webhooks: <Play> URLs in the TwiML resolve to 200 audio/wav."""
from urllib.parse import unquote, urlsplit

import pytest

from ivr import create_app
from ivr.accounts.seed import seed_demo
from tests.twiml import Caller

from .helpers import assert_telephony_wav

ID1, PW1 = "110101199003074573", "074573"  # a demo account (ivr.accounts.seed)


def hotline(tmp_path, **config):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}",
                      "AUDIO_DIR": str(tmp_path / "audio"), "NOW": "2026-11-25T10:00:00+08:00",
                      "SECRET_KEY": "test", **config})
    seed_demo(app.extensions["ivr_db"].Session)
    return app


@pytest.fixture
def play_app(tmp_path):
    app = hotline(tmp_path, VOICE_MODE="play", PUBLIC_URL="https://ivr.example.test")
    yield app
    app.extensions["ivr_db"].dispose()


def plays(doc) -> list[str]:
    return [el.text for el in doc.root.iter("Play")]


def fetch(client, url: str, lang: str):
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "ivr.example.test")
    resp = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert resp.status_code == 200, url
    assert resp.mimetype == "audio/wav"
    if "X-Prompt-Text" not in resp.headers:   # a dynamic read-out (issue 16): no text, a per-call URL
        assert parts.query and len(parts.path.split("/")) == 5
        return None
    text = unquote(resp.headers["X-Prompt-Text"])
    assert_telephony_wav(resp.data, text, {"zh-CN": 150, "en-US": 160}[lang])
    return text


@pytest.mark.parametrize("lang, key, balance", [
    ("zh-CN", "1", "您的医疗保险个人账户余额为一千二百三十四元五角六分。"),
    ("en-US", "2", "Your medical insurance personal account balance is 1,234 yuan 56 fen."),
])
def test_play_mode_call_is_all_local_audio(play_app, lang, key, balance):
    client = play_app.test_client()
    caller = Caller(client)
    heard = []
    for doc in (caller.dial(), caller.press(key), caller.press("1"), caller.press(ID1), caller.press(PW1),
                caller.press("1")):
        assert doc.speech == [], doc.xml  # no <Say>: every prompt is local audio
        heard += [(url, fetch(client, url, lang)) for url in plays(doc)]
    assert any(path.endswith("/audio/zh-CN/welcome.wav") for path, _ in heard)
    # the read-out plays as local audio (its text in the tagged URL: development mode)
    url = next(url for url, text in heard if text == balance)
    assert "x=" in urlsplit(url).query
    assert urlsplit(url).path.startswith(f"/audio/{lang}/")
    resp = client.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert_telephony_wav(resp.data, balance, {"zh-CN": 150, "en-US": 160}[lang])
    assert len(urlsplit(url).path.split("/")) == 5  # /audio/<lang>/<prompt>/<key>.wav: dynamic


def test_auto_mode_plays_what_exists_and_says_the_rest(tmp_path):
    app = hotline(tmp_path, VOICE_MODE="auto")
    try:
        client = app.test_client()
        first = Caller(client).dial()
        assert plays(first) == [] and first.speech  # nothing rendered yet: <Say>
        audio = app.extensions["ivr_audio"]
        catalogue = audio.store.catalogue
        for say_lang, text in first.speech:
            lang = {"cmn-CN": "zh-CN"}.get(say_lang, say_lang)  # Polly.Zhiyu's documented code
            prompt_id = next(i for i in catalogue.static_ids(lang) if catalogue.raw(i, lang) == text)
            audio.store.ensure_static(lang, prompt_id, text)
        again = Caller(client).dial()
        assert again.speech == [] and len(plays(again)) == len(first.speech)
        for url in plays(again):
            assert url.startswith("/audio/") or url.startswith("http://localhost/audio/")
            assert client.get(urlsplit(url).path).status_code == 200
    finally:
        app.extensions["ivr_db"].dispose()
