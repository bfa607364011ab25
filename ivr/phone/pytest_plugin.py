"""pytest plugin (entry point ``ivr_phone``): a ``phone`` fixture that calls a TwiML app.

The phone calls the ``phone_app`` fixture's WSGI app in-process. Give it one of:

- a ``phone_app`` fixture of your own (in conftest.py), returning the app;
- ``--phone-app MODULE:NAME``, the ini setting ``phone_app`` or the env ``IVR_PHONE_APP``
  (``myapp:app``, ``myapp:create_app``, ``myapp:create_app()`` or ``myapp``, as ``flask --app``);
  a factory is called for every test, so each test gets a fresh app;

or call a running server over HTTP with ``--phone-url URL`` (or ``IVR_PHONE_URL``).

    def test_menu(phone):
        call = phone.dial()
        call.expect("press 1")
        call.press("1")
        call.expect_hangup()

Fixtures: ``phone_app`` (the WSGI app), ``phone_settings`` (``Phone`` keyword arguments:
``url`` the entry webhook, a path on the app, default /voice; ``caller``, ``dial_outcome``...),
``phone`` (an ``ivr.phone.Phone``).
"""
from __future__ import annotations

import os

import pytest

APP_ENV = "IVR_PHONE_APP"
URL_ENV = "IVR_PHONE_URL"


def pytest_addoption(parser):
    group = parser.getgroup("ivr-phone", "ivr local phone")
    group.addoption("--phone-app", metavar="MODULE:NAME",
                    help="the WSGI app the phone fixture calls in-process: module:app, module:create_app, "
                    f"module:create_app() or module [ini phone_app, env {APP_ENV}]")
    group.addoption("--phone-url", default=os.environ.get(URL_ENV),
                    help=f"call this TwiML webhook over HTTP in the phone fixture [env {URL_ENV}]")
    group.addoption("--phone-auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"),
                    help="sign the phone's requests with this Twilio auth token")
    parser.addini("phone_app", "the WSGI app the phone fixture calls in-process (MODULE:NAME)")


def _app_spec(config) -> tuple[str | None, str]:
    """(spec, where it was given): the option wins over the ini file, which wins over the env."""
    for spec, where in ((config.getoption("phone_app"), "--phone-app"), (config.getini("phone_app"), "ini phone_app"),
                        (os.environ.get(APP_ENV), APP_ENV)):
        if spec:
            return spec, where
    return None, ""


@pytest.fixture
def phone_app(request):
    """The WSGI app the phone calls in-process: the one ``--phone-app``/ini ``phone_app``/
    ``IVR_PHONE_APP`` names. Override this fixture to give one yourself."""
    from ivr.phone.app_loader import AppLoadError, load_app

    spec, where = _app_spec(request.config)
    if spec is None:
        pytest.fail("the phone fixture has no app to call. Give it one: a `phone_app` fixture in conftest.py "
                    "returning your WSGI app, or --phone-app MODULE:NAME (ini `phone_app`, env "
                    f"{APP_ENV}) in-process, or --phone-url URL (env {URL_ENV}) over HTTP", pytrace=False)
    try:
        return load_app(spec)
    except AppLoadError as exc:
        problem = f"{where}: {exc}"
    pytest.fail(problem, pytrace=False)  # outside the except: no "during handling" chain


@pytest.fixture
def phone_settings() -> dict:
    """Keyword arguments for the ``Phone``: ``url`` (the entry webhook; in-process a path on the
    app, default /voice; ignored with --phone-url), any ``PhoneSettings`` field. Override to
    change them for the tests that see your fixture."""
    return {}


@pytest.fixture
def phone(request, phone_settings):
    """An ``ivr.phone.Phone`` calling ``phone_app`` in-process, or ``--phone-url`` over HTTP."""
    from ivr.phone.phone import Phone
    from ivr.phone.targets import app_phone

    settings = dict(phone_settings)
    entry = settings.pop("url", None) or "/voice"
    settings.setdefault("auth_token", request.config.getoption("phone_auth_token"))
    url = request.config.getoption("phone_url")
    if url:
        return Phone(url, **settings)
    return app_phone(request.getfixturevalue("phone_app"), entry, **settings)
