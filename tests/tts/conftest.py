import sys
from pathlib import Path

import pytest
from flask import Flask

from ivr.config import DEFAULTS
from ivr.tts.engine import TTSWorker
from ivr.tts.store import PromptAudio

FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")

ZH = """\
welcome = "您好，欢迎致电12333社会保障服务热线。"
main_menu = "个人账户查询，请按1。人工服务，请按0。"
goodbye = "感谢您的来电，再见。"
balance = "您的医疗保险个人账户余额为{amount}。"
"""
EN = """\
welcome = "Hello, welcome to the 12333 social security hotline."
main_menu = "For your personal account, press 1. For an agent, press 0."
goodbye = "Thank you for calling. Goodbye."
balance = "Your medical insurance balance is {amount}."
"""
STATIC_IDS = ["goodbye", "main_menu", "welcome"]


@pytest.fixture
def prompts_dir(tmp_path) -> Path:
    d = tmp_path / "prompts"
    d.mkdir()
    (d / "zh-CN.toml").write_text(ZH, encoding="utf-8")
    (d / "en-US.toml").write_text(EN, encoding="utf-8")
    return d


@pytest.fixture
def audio_dir(tmp_path) -> Path:
    return tmp_path / "audio"


@pytest.fixture
def config(prompts_dir, audio_dir) -> dict:
    return {**DEFAULTS, "PROMPTS_DIR": str(prompts_dir), "AUDIO_DIR": str(audio_dir)}


@pytest.fixture
def store(config) -> PromptAudio:
    return PromptAudio.from_config(config)


def make_app(config: dict) -> Flask:
    from ivr.web import audio

    app = Flask("tts_tests")
    app.config.update(config)
    audio.init_app(app)
    app.register_blueprint(audio.bp)
    return app


@pytest.fixture
def app(config) -> Flask:
    return make_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def fake_worker():
    """A worker running tests/tts/fake_engine.py in the given failure mode."""
    workers = []

    def make(mode: str) -> TTSWorker:
        worker = TTSWorker([sys.executable, str(FAKE_ENGINE), mode])
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.close()


def render_all(store: PromptAudio, langs=("zh-CN", "en-US"), force=False):
    jobs, counts = store.plan(langs, force=force)
    with store.batch(langs) as batch:
        for job in jobs:
            batch.render(job)
    assert batch.failures == [] and batch.rendered == len(jobs)
    return jobs, counts
