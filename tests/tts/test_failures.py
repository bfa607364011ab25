"""Engine failures give a clear error naming the prompt: never a bad file, never a hang."""
import pytest

from ivr.tts import TTSError
from ivr.tts.engine import TTSWorker
from ivr.tts.store import PromptAudio
from ivr.tts.wav import duration_bounds

from .conftest import make_app

WELCOME_EN = "Hello, welcome to the 12333 social security hotline."


def store_with(config, worker: TTSWorker | None, **extra) -> PromptAudio:
    """A store on the test folders; ``worker`` None means the real shared pyttsx3 worker."""
    return PromptAudio(config["AUDIO_DIR"], config["PROMPTS_DIR"], {**config, **extra}, worker=worker)


@pytest.mark.parametrize("mode, message", [
    ("empty", r"prompt 'welcome' \(en-US\): the TTS engine wrote an empty WAV file \(44 bytes: header only\)"),
    ("no-file", r"prompt 'welcome' \(en-US\): the TTS engine wrote no file"),
    ("short", r"prompt 'welcome' \(en-US\): implausible duration 0\.20 s"),
    ("silence", r"prompt 'welcome' \(en-US\): the TTS engine wrote silence"),
    ("crash", r"prompt 'welcome' \(en-US\): the TTS worker process exited unexpectedly"),
    ("no-ready", r"prompt 'welcome' \(en-US\): could not initialize espeak"),
])
def test_bad_engine_output_is_a_clear_error(config, audio_dir, fake_worker, mode, message):
    store = store_with(config, fake_worker(mode))
    with pytest.raises(TTSError, match=message) as info:
        store.ensure_static("en-US", "welcome", WELCOME_EN)
    assert (info.value.prompt_id, info.value.lang) == ("welcome", "en-US")
    assert not (audio_dir / "en-US" / "welcome.wav").exists()  # no bad file left behind
    assert store.manifest.data()["static"] == {}


def test_hanging_engine_is_killed_at_the_time_limit(config, fake_worker):
    worker = fake_worker("hang")
    store = store_with(config, worker, TTS_TIMEOUT=1)
    with pytest.raises(TTSError, match=r"prompt 'goodbye' \(zh-CN\): .*no result within the 1 s time limit"):
        store.ensure_static("zh-CN", "goodbye", "感谢您的来电，再见。")
    assert worker.pid is None  # killed, not left hanging


def test_worker_recovers_after_a_timeout(config):
    worker = TTSWorker()
    try:
        hurried = store_with(config, worker, TTS_TIMEOUT=0.001)
        with pytest.raises(TTSError, match="time limit"):
            hurried.ensure_static("en-US", "goodbye", "Thank you for calling. Goodbye.")
        store_with(config, worker).ensure_static("en-US", "goodbye", "Thank you for calling. Goodbye.")
    finally:
        worker.close()


def test_unknown_voice_names_the_prompt(config, fake_worker):
    store = store_with(config, None, TTS_VOICES={"en-US": "no-such-voice"})
    with pytest.raises(TTSError, match=r"prompt 'welcome' \(en-US\): espeak-ng has no voice 'no-such-voice'"):
        store.ensure_static("en-US", "welcome", WELCOME_EN)
    # The Mandarin voice is unaffected, and the worker still renders after the error.
    store.ensure_static("zh-CN", "welcome", "您好，欢迎致电12333社会保障服务热线。")


def test_back_to_back_renders_never_cancel_or_mix_up(config):
    """pyttsx3's espeak driver returns from runAndWait() before the audio exists and cancels an
    utterance started while espeak is busy; 40 alternating renders must all succeed, each file
    holding its own text (same text, same size give or take espeak's jitter)."""
    store = store_with(config, None)
    texts = {"zh-CN": ["请按1。", "感谢您的来电，祝您生活愉快，再见。"],
             "en-US": ["Press 1.", "Thank you for calling the social security hotline, have a nice day, goodbye."]}
    sizes: dict[tuple[str, str], set[int]] = {}
    for i in range(40):
        lang = ("zh-CN", "en-US")[i % 2]
        text = texts[lang][(i // 2) % 2]
        spaced = text + " " * (i // 4)  # a distinct text each time: no cache hits
        sizes.setdefault((lang, text), set()).add(store.ensure_dynamic(lang, "t", spaced).path.stat().st_size)
    for found in sizes.values():
        assert max(found) - min(found) < 0.05 * max(found)
    for lang, (short, long) in texts.items():
        assert max(sizes[(lang, short)]) * 2 < min(sizes[(lang, long)])


def test_failed_render_in_play_mode_raises_for_say_fallback(config, fake_worker):
    app = make_app(config)
    app.extensions["ivr_audio"].store.worker = fake_worker("empty")
    audio = app.extensions["ivr_audio"]
    with pytest.raises(TTSError, match="prompt 'balance'"):
        audio.audio_path("en-US", "balance", "Your medical insurance balance is 5 yuan.", dynamic=True, render=True)
    assert audio.audio_path("en-US", "balance", "Your medical insurance balance is 5 yuan.",
                            dynamic=True, render=False) is None
    assert app.test_client().get("/audio/en-US/welcome.wav").status_code == 503


def test_duration_bounds_reject_another_texts_audio():
    long_text = "For your personal account, press 1. For card services, press 2. For an agent, press 0."
    low, high = duration_bounds(long_text, 160)
    assert low > 2.0  # the 0.9 s of "Goodbye." is not this prompt
    assert high < 25  # nor is a run-on of several prompts
    low, high = duration_bounds("您好，欢迎致电12333人力资源和社会保障服务热线。", 150)
    assert 3.5 < low and high < 30
