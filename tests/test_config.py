"""Configuration: the SOFTPHONE switch (default on; IVR_SOFTPHONE=false leaves /phone out of the
app and never imports ivr.web.softphone) and how on/off values are read from the environment."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.config import DEFAULTS, parse_bool
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-token-config"


@pytest.fixture
def build(tmp_path):
    """make_app, with every app it built disposed of afterwards."""
    apps = []

    def build_app(**overrides):
        app = make_app(tmp_path, **overrides)
        apps.append(app)
        return app

    yield build_app
    for app in apps:
        app.extensions["ivr_db"].dispose()


def test_the_softphone_is_on_by_default(build, monkeypatch):
    monkeypatch.delenv("IVR_SOFTPHONE", raising=False)
    assert DEFAULTS["SOFTPHONE"] is None          # on in development, off in production mode
    app = build()
    assert app.config["SOFTPHONE"] is True
    client = app.test_client()
    assert client.get("/phone").status_code == 200
    assert client.post("/phone/calls", json={}).status_code == 201
    assert "phone_page" in app.blueprints


def test_softphone_off_answers_404_and_registers_nothing(build):
    app = build(SOFTPHONE=False)
    client = app.test_client()
    assert client.get("/phone").status_code == 404
    assert client.post("/phone/calls", json={}).status_code == 404
    assert "phone_page" not in app.blueprints
    assert "ivr_softphone" not in app.extensions
    assert not [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/phone")]
    # The hotline itself is unaffected.
    assert client.post("/voice", data={"CallSid": "CAconfig1", "From": "+8613800138000"}).status_code == 200


def test_pages_linking_to_the_softphone_still_render_when_it_is_off(build):
    app = build(SOFTPHONE=False, ADMIN_TOKEN=ADMIN_TOKEN)
    response = app.test_client().get("/dashboard", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Dashboard" in page and 'href="/phone"' not in page   # no link to a page that is not there


@pytest.mark.parametrize("value, on", [(v, False) for v in ("false", "False", "FALSE", "0", "no", "off", " Off ")]
                         + [(v, True) for v in ("true", "True", "1", "yes", "on")])
def test_env_values_turn_the_softphone_on_and_off(build, monkeypatch, value, on):
    monkeypatch.setenv("IVR_SOFTPHONE", value)
    app = build()
    assert app.config["SOFTPHONE"] is on
    assert app.test_client().get("/phone").status_code == (200 if on else 404)


@pytest.mark.parametrize("value", ["maybe", "2", '"sometimes"'])
def test_other_env_values_are_refused_by_name(tmp_path, monkeypatch, value):
    monkeypatch.setenv("IVR_SOFTPHONE", value)
    with pytest.raises(ValueError, match="IVR_SOFTPHONE"):
        make_app(tmp_path)


def test_parse_bool():
    assert parse_bool("X", True) is True and parse_bool("X", False) is False
    assert parse_bool("X", 1) is True and parse_bool("X", 0) is False
    for bad in (None, 2, -1, 0.0, [], "", "y"):
        with pytest.raises(ValueError, match="IVR_X"):
            parse_bool("X", bad)


_PROBE = """
import json, sys
from ivr import create_app
app = create_app()
client = app.test_client()
# A webhook first: a worker answering only Twilio never loads the local phone's audio stack.
client.post("/voice", data={"CallSid": "CAprobe", "From": "+8613800138000"})
numpy_for_webhooks = "numpy" in sys.modules
status = client.get("/phone").status_code
app.extensions["ivr_db"].dispose()
print(json.dumps({"imported": "ivr.web.softphone" in sys.modules, "status": status,
                  "numpy_for_webhooks": numpy_for_webhooks}))
"""


def _probe(tmp_path: Path, softphone: str | None) -> dict:
    """Create the app from the environment in a fresh interpreter; what it imported, /phone's status."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
    env.update({"IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
                "IVR_AUDIO_DIR": str(tmp_path / "audio"), "IVR_VOICE_MODE": "say",
                "IVR_SECRET_KEY": "test-secret"})
    if softphone is not None:
        env["IVR_SOFTPHONE"] = softphone
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_softphone_off_never_imports_its_module(tmp_path):
    assert _probe(tmp_path, "false") == {"imported": False, "status": 404, "numpy_for_webhooks": False}


def test_softphone_on_imports_it_in_a_fresh_interpreter(tmp_path):
    # The control for the test above: the probe does see the module when the softphone is on.
    # The page is served, yet the phone (numpy, soundfile) is loaded only when a browser dials.
    assert _probe(tmp_path, None) == {"imported": True, "status": 200, "numpy_for_webhooks": False}


def test_ivr_now_without_offset_is_beijing_time_everywhere(build):
    import datetime as dt

    from ivr.hotline.calls import parse_now

    utc = dt.timezone.utc
    assert parse_now("2026-11-25T10:00:00") == dt.datetime(2026, 11, 25, 2, 0, tzinfo=utc)
    assert parse_now("2026-11-25T10:00:00+00:00") == dt.datetime(2026, 11, 25, 10, 0, tzinfo=utc)
    # The account service (lockouts, loss reports) reads the same setting as the same instant.
    app = build(NOW="2026-11-25T10:00:00")
    assert app.extensions["ivr_hotline"].services.accounts.now() == dt.datetime(2026, 11, 25, 2, 0, tzinfo=utc)
