"""The pytest plugin, as a user meets it: installed by entry point, in a fresh pytest run."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from ivr.phone.pytest_plugin import APP_ENV, _app_spec

USER_TESTS = textwrap.dedent('''
    import pytest
    from werkzeug.wrappers import Request, Response

    def my_app(environ, start_response):
        req = Request(environ)
        if req.path == "/voice":
            body = '<Response><Gather numDigits="1" action="/menu"><Say>Press 1 for hours.</Say></Gather></Response>'
        else:
            body = f"<Response><Say>Open nine to five, you pressed {req.form['Digits']}.</Say></Response>"
        return Response(body, content_type="text/xml")(environ, start_response)

    @pytest.fixture
    def phone_app():
        return my_app

    def test_hours(phone):
        call = phone.dial()
        call.expect("Press 1")
        call.press("1")
        call.expect("Open nine to five, you pressed 1")
        call.expect_hangup()

    def test_expectation_failure_shows_the_transcript(phone):
        call = phone.dial()
        call.press("1")
        call.expect("Closed on Sundays")
''')


def test_phone_fixture_in_a_user_suite(tmp_path):
    (tmp_path / "test_user.py").write_text(USER_TESTS, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    out = result.stdout
    assert "1 failed, 1 passed" in out, out
    assert "ExpectationFailed: expected a prompt matching 'Closed on Sundays'" in out
    assert "presses 1" in out  # the transcript in the failure


EXAMPLE_TEST = textwrap.dedent('''
    def test_hours(phone):
        call = phone.run(["1"])
        assert call.heard[-2].startswith("We are open Monday to Friday")
        assert call.ended_by == "app"
''')
ROOT = Path(__file__).resolve().parents[2]


def _pytest(tmp_path, *args, env=None, ini=None):
    """A user's pytest run in ``tmp_path``, with this checkout (the example app) importable."""
    (tmp_path / "test_user.py").write_text(EXAMPLE_TEST, encoding="utf-8")
    if ini is not None:
        (tmp_path / "pytest.ini").write_text(ini, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in (APP_ENV, "IVR_PHONE_URL")}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    environ.update(env or {})
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, env=environ, timeout=120)
    return done.stdout + done.stderr


def test_without_an_app_the_fixture_says_what_to_set(tmp_path):
    out = _pytest(tmp_path)
    assert "1 error" in out, out
    assert "the phone fixture has no app to call" in out
    assert "`phone_app` fixture in conftest.py" in out and "--phone-app MODULE:NAME" in out and APP_ENV in out
    assert "Traceback" not in out


def test_phone_app_option_names_the_app(tmp_path):
    out = _pytest(tmp_path, "--phone-app", "examples.flask_menu.app:create_app")
    assert "1 passed" in out, out


def test_the_ini_setting_wins_over_the_environment(tmp_path):
    out = _pytest(tmp_path, ini="[pytest]\nphone_app = examples.flask_menu.app:create_app\n",
                  env={APP_ENV: "no_such_module_at_all:app"})
    assert "1 passed" in out, out


def test_a_bad_spec_is_named_in_the_error(tmp_path):
    out = _pytest(tmp_path, env={APP_ENV: "examples.flask_menu.app:nothing_here"})
    assert "1 error" in out, out
    assert (f"{APP_ENV}: 'examples.flask_menu.app:nothing_here': module 'examples.flask_menu.app' "
            "has no attribute 'nothing_here'") in out
    assert "During handling" not in out and "Traceback" not in out


class _Config:
    def __init__(self, option=None, ini=""):
        self.option, self.ini = option, ini

    def getoption(self, name):
        return self.option

    def getini(self, name):
        return self.ini


def test_where_the_spec_comes_from(monkeypatch):
    monkeypatch.setenv(APP_ENV, "from_env:app")
    assert _app_spec(_Config("from_option:app", "from_ini:app")) == ("from_option:app", "--phone-app")
    assert _app_spec(_Config(None, "from_ini:app")) == ("from_ini:app", "ini phone_app")
    assert _app_spec(_Config()) == ("from_env:app", APP_ENV)
    monkeypatch.delenv(APP_ENV)
    assert _app_spec(_Config()) == (None, "")
