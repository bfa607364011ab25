import os
import shutil
from pathlib import Path

import pytest

from ivr import create_app
from tests.twiml import Caller

ROOT = Path(__file__).resolve().parent.parent
# A Wednesday in Beijing: 10:00 is inside agent hours, 20:00 outside.
IN_HOURS = "2026-11-25T10:00:00+08:00"
OUT_OF_HOURS = "2026-11-25T20:00:00+08:00"


def make_app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": overrides.pop("DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.sqlite3'}"),
        "AUDIO_DIR": str(tmp_path / "audio"),
        "VOICE_MODE": "say",
        "NOW": IN_HOURS,
        "SECRET_KEY": "test-secret",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    app.extensions["ivr_db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def caller(client):
    return Caller(client)


@pytest.fixture
def menus_copy(tmp_path):
    """A writable copy of the shipped menus.toml, for tests that change one thing."""
    path = tmp_path / "menus.toml"
    shutil.copy(ROOT / "menus.toml", path)
    return path
