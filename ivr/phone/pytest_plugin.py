"""pytest plugin (entry point ``ivr_phone``): a ``phone`` fixture that calls a TwiML app.

By default the phone calls this project's hotline in-process, each test on a fresh SQLite
database holding the demo accounts. Point it elsewhere with ``--phone-url URL`` (or IVR_PHONE_URL) to call any webhook over
HTTP, or override the ``phone_app`` fixture to call your own WSGI app in-process:

    def test_english_menu(phone):
        call = phone.dial()
        call.expect("For English, press 2")
        call.press("2")
        call.expect("personal account")
        call.hangup()

Fixtures: ``phone_app_config`` (dict given to ``ivr.create_app``), ``phone_app`` (the WSGI
app), ``phone`` (an ``ivr.phone.Phone``), ``phone_template_database`` (the seeded SQLite file),
``phone_audio_dir`` (prompt audio for the session).
"""
from __future__ import annotations

import os
import shutil

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("ivr-phone", "ivr local phone")
    group.addoption("--phone-url", default=os.environ.get("IVR_PHONE_URL"),
                    help="call this TwiML webhook over HTTP in the phone fixture [env IVR_PHONE_URL]")
    group.addoption("--phone-auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"),
                    help="sign the phone's requests with this Twilio auth token")


@pytest.fixture(scope="session")
def phone_template_database(tmp_path_factory):
    """A SQLite file with the hotline's schema, demo accounts and the scenarios' made-up
    accounts, built once per session (hashing the demo passwords is slow) and copied per test."""
    from ivr.phone.ourapp import seeded_hotline_app

    path = tmp_path_factory.mktemp("phone-template") / "template.sqlite3"
    app = seeded_hotline_app({"DATABASE_URL": f"sqlite:///{path}"})
    app.extensions["ivr_db"].dispose()
    return path


@pytest.fixture(scope="session")
def phone_audio_dir(tmp_path_factory):
    """Prompt audio rendered during the session (kept out of the developer's instance folder)."""
    return tmp_path_factory.mktemp("phone-audio")


@pytest.fixture
def phone_app_config(tmp_path, phone_template_database, phone_audio_dir) -> dict:
    """Settings for the in-process hotline: a fresh copy of the seeded database and the
    session's audio folder. Override to add settings (keep DATABASE_URL)."""
    database = tmp_path / "phone.sqlite3"
    shutil.copyfile(phone_template_database, database)
    return {"DATABASE_URL": f"sqlite:///{database}", "AUDIO_DIR": str(phone_audio_dir)}


@pytest.fixture
def phone_app(phone_app_config):
    """The WSGI app the phone calls in-process. Override it to test another app."""
    from ivr.phone.ourapp import hotline_app

    return hotline_app(phone_app_config)


@pytest.fixture
def phone(request):
    """An ``ivr.phone.Phone`` calling ``phone_app`` in-process, or ``--phone-url`` over HTTP."""
    from ivr.phone.phone import Phone
    from ivr.phone.targets import app_phone

    url = request.config.getoption("phone_url")
    token = request.config.getoption("phone_auth_token")
    if url:
        return Phone(url, auth_token=token)
    return app_phone(request.getfixturevalue("phone_app"), auth_token=token)
