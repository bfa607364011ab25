"""``ivr twilio setup`` against a fake Twilio REST API on a loopback port (no internet)."""
from __future__ import annotations

import subprocess
import threading

import pytest
import requests
from click.testing import CliRunner
from werkzeug.serving import make_server

from ivr.cli import main
from ivr.cli.twilio_setup import (RebasedHttpClient, SetupError, check_base_url, check_webhook,
                              configure_number, make_client, normalise_number)
from tests.conftest import make_app
from tests.security.conftest import VENV_BIN
from tests.security.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioServer

REAL_POST = requests.post
NUMBER = "+14155550100"
BASE = "https://abc.ngrok.app"
WANTED = {
    "VoiceUrl": "https://abc.ngrok.app/voice", "VoiceMethod": "POST",
    "VoiceFallbackUrl": "https://abc.ngrok.app/voice/fallback", "VoiceFallbackMethod": "POST",
    "StatusCallback": "https://abc.ngrok.app/voice/status", "StatusCallbackMethod": "POST",
}


@pytest.fixture
def fake():
    with FakeTwilioServer() as fake:
        yield fake


def run(fake, *args, **env):
    environment = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                   "IVR_TWILIO_API_BASE": fake.url, "IVR_PUBLIC_URL": None, "IVR_TRUST_PROXY": None,
                   "IVR_TWILIO_AUTH_TOKEN": None, "IVR_TWILIO_ACCOUNT_SID": None}
    environment.update(env)
    return CliRunner().invoke(main, ["twilio", "setup", *args], env=environment)


def test_setup_sets_voice_fallback_and_status_urls(fake):
    fake.add_number(NUMBER, friendly_name="IVR test line", voice_url="https://demo.twilio.com/welcome/voice/",
                    voice_method="GET", voice_fallback_method="GET")
    result = run(fake, "--number", NUMBER, "--base-url", BASE + "/", "--no-check")
    assert result.exit_code == 0, result.output
    [update] = fake.updates
    # Only what differs is sent (the status callback method was POST already).
    assert update.form == {k: v for k, v in WANTED.items() if k != "StatusCallbackMethod"}
    assert update.auth == (ACCOUNT_SID, AUTH_TOKEN)
    number = next(iter(fake.numbers.values()))
    assert number["voice_url"] == "https://abc.ngrok.app/voice"
    assert number["voice_fallback_url"] == "https://abc.ngrok.app/voice/fallback"
    assert number["status_callback"] == "https://abc.ngrok.app/voice/status"
    out = result.output
    assert f'{NUMBER} ({number["sid"]} "IVR test line")' in out
    assert "voice URL:" in out and "https://demo.twilio.com/welcome/voice/ -> https://abc.ngrok.app/voice" in out
    assert "voice method:" in out and "GET -> POST" in out
    assert "fallback URL:" in out and "(none) -> https://abc.ngrok.app/voice/fallback" in out
    assert "status callback:" in out and "(none) -> https://abc.ngrok.app/voice/status" in out
    assert "changed 5 setting(s)" in out
    assert f"now call {NUMBER}" in out
    # The server must be told the public URL, or signatures will not match.
    assert "IVR_PUBLIC_URL=https://abc.ngrok.app" in out


def test_the_list_call_asks_for_that_number(fake):
    fake.add_number(NUMBER)
    run(fake, "--number", NUMBER, "--base-url", BASE, "--no-check")
    lookup = fake.requests[0]
    assert lookup.method == "GET" and lookup.query["PhoneNumber"] == NUMBER
    assert lookup.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"


def test_second_run_changes_nothing(fake):
    fake.add_number(NUMBER)
    assert run(fake, "--number", NUMBER, "--base-url", BASE, "--no-check").exit_code == 0
    result = run(fake, "--number", NUMBER, "--base-url", BASE, "--no-check")
    assert result.exit_code == 0, result.output
    assert "already set up: nothing to change" in result.output
    assert len(fake.updates) == 1


def test_dry_run_changes_nothing(fake):
    fake.add_number(NUMBER)
    result = run(fake, "--number", NUMBER, "--base-url", BASE, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: 3 setting(s) would change; nothing was changed" in result.output
    assert fake.updates == []


def test_base_url_defaults_to_ivr_public_url(fake):
    fake.add_number(NUMBER)
    result = run(fake, "--number", NUMBER, "--no-check", IVR_PUBLIC_URL="https://hotline.example.org")
    assert result.exit_code == 0, result.output
    assert fake.updates[0].form["VoiceUrl"] == "https://hotline.example.org/voice"
    assert "IVR_PUBLIC_URL=" not in result.output       # already consistent


def test_a_twiml_app_on_the_number_is_detached(fake):
    fake.add_number(NUMBER, voice_application_sid="AP" + "b" * 32)
    result = run(fake, "--number", NUMBER, "--base-url", BASE, "--no-check")
    assert result.exit_code == 0, result.output
    assert fake.updates[0].form["VoiceApplicationSid"] == ""
    assert next(iter(fake.numbers.values()))["voice_application_sid"] is None
    assert "overrides the voice URL: detached" in result.output


def test_a_number_on_a_sip_trunk_is_refused(fake):
    fake.add_number(NUMBER, trunk_sid="TK" + "c" * 32)
    result = run(fake, "--number", NUMBER, "--base-url", BASE, "--no-check")
    assert result.exit_code == 1
    assert "SIP trunk" in result.output and fake.updates == []


def test_unknown_number_lists_the_accounts_numbers(fake):
    fake.add_number("+14155550199")
    fake.add_number("+442071838750")
    result = run(fake, "--number", NUMBER, "--base-url", BASE, "--no-check")
    assert result.exit_code == 1
    assert f"{NUMBER} is not a phone number of this Twilio account" in result.output
    assert "+14155550199, +442071838750" in result.output
    assert fake.updates == []


def test_a_partial_match_is_not_the_number(fake):
    """Twilio's PhoneNumber filter matches patterns; only the exact number is ever updated."""
    fake.add_number(NUMBER + "9")
    result = run(fake, "--number", NUMBER, "--base-url", BASE, "--no-check")
    assert result.exit_code == 1 and fake.updates == []


def test_wrong_credentials(fake):
    fake.add_number(NUMBER)
    result = run(fake, "--number", NUMBER, "--base-url", BASE, "--no-check", TWILIO_AUTH_TOKEN="wrong")
    assert result.exit_code == 1
    assert "HTTP 401" in result.output and "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.output


def test_missing_credentials(fake):
    result = run(fake, "--number", NUMBER, "--base-url", BASE, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None)
    assert result.exit_code == 1
    assert "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.output
    assert fake.requests == []


@pytest.mark.parametrize("base,fragment", [
    (None, "no public URL"),
    ("http://127.0.0.1:5000", "Twilio cannot reach 127.0.0.1"),
    ("http://localhost:5000", "Twilio cannot reach localhost"),
    ("http://192.168.1.20:5000", "Twilio cannot reach 192.168.1.20"),
    ("abc.ngrok.app", "must be an http(s) URL"),
    ("https://abc.ngrok.app/voice", "without /voice"),
])
def test_unusable_base_urls_are_explained(fake, base, fragment):
    fake.add_number(NUMBER)
    args = ["--number", NUMBER, "--no-check"] + (["--base-url", base] if base else [])
    result = run(fake, *args)
    assert result.exit_code == 1
    assert fragment in result.output
    assert fake.updates == []


def test_number_formats():
    assert normalise_number("+1 (415) 555-0100") == NUMBER
    assert normalise_number("+86 10 1233 3000") == "+861012333000"
    for bad in ("4155550100", "+0123456789", "+1-415-CALL-NOW", ""):
        with pytest.raises(SetupError):
            normalise_number(bad)


def test_configure_number_with_the_twilio_client(fake):
    """The library call directly: twilio's Client, its requests pointed at the fake."""
    fake.add_number(NUMBER, status_callback="https://old.example/status")
    client = make_client(ACCOUNT_SID, AUTH_TOKEN, api_base=fake.url)
    assert isinstance(client.http_client, RebasedHttpClient)
    result = configure_number(client, "+1 415 555 0100", BASE)
    assert result.applied
    assert {c.field: (c.old, c.new) for c in result.changes} == {
        "voice_url": ("", "https://abc.ngrok.app/voice"),
        "voice_fallback_url": (None, "https://abc.ngrok.app/voice/fallback"),
        "status_callback": ("https://old.example/status", "https://abc.ngrok.app/voice/status"),
    }
    assert fake.updates[0].form == {"VoiceUrl": WANTED["VoiceUrl"], "VoiceFallbackUrl": WANTED["VoiceFallbackUrl"],
                                    "StatusCallback": WANTED["StatusCallback"]}


def test_check_base_url_accepts_public_hosts():
    assert check_base_url("https://abc.ngrok.app/") == "https://abc.ngrok.app"
    assert check_base_url("https://example.org/ivr") == "https://example.org/ivr"


# ---------------------------------------------------------------- the signed test request

@pytest.fixture
def hotline_server(tmp_path):
    """The hotline on a real loopback HTTP server, answering as https://abc.ngrok.app."""
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_URL=BASE)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["ivr_db"].dispose()


def via(local: str):
    """requests.post, but what is addressed to https://abc.ngrok.app goes to the local server
    (what the tunnel does); the signature stays computed for the public URL."""
    def post(url, **kw):
        return REAL_POST(url.replace(BASE, local), **kw)
    return post


def test_check_webhook_passes_against_the_real_app(hotline_server):
    outcome = check_webhook(BASE, AUTH_TOKEN, post=via(hotline_server))
    assert outcome.ok, outcome.message


def test_check_webhook_reports_a_token_mismatch(hotline_server):
    outcome = check_webhook(BASE, "another-token", post=via(hotline_server))
    assert not outcome.ok
    assert "403" in outcome.message and "TWILIO_AUTH_TOKEN" in outcome.message


def test_check_webhook_reports_a_dead_tunnel():
    from tests.security.conftest import free_port

    outcome = check_webhook(f"http://127.0.0.1:{free_port()}", AUTH_TOKEN)
    assert not outcome.ok and "could not reach" in outcome.message


def test_check_webhook_reports_something_that_is_not_the_hotline(fake):
    outcome = check_webhook(fake.url, AUTH_TOKEN)      # answers JSON 401, not TwiML
    assert not outcome.ok and "not TwiML" in outcome.message


def test_cli_runs_the_check_through_the_tunnel(fake, hotline_server, monkeypatch):
    fake.add_number(NUMBER)
    monkeypatch.setattr(requests, "post", via(hotline_server))
    result = run(fake, "--number", NUMBER, "--base-url", BASE, IVR_PUBLIC_URL=BASE)
    assert result.exit_code == 0, result.output
    assert "check: OK: https://abc.ngrok.app/voice/status answered a signed request with TwiML" in result.output


def test_cli_check_failure_exits_1(fake, hotline_server, monkeypatch):
    fake.add_number(NUMBER)
    fake.auth_token = "0" * 32                  # another account's token: the server refuses it
    monkeypatch.setattr(requests, "post", via(hotline_server))
    result = run(fake, "--number", NUMBER, "--base-url", BASE, TWILIO_AUTH_TOKEN="0" * 32)
    assert result.exit_code == 1
    assert "check: FAILED:" in result.output and "403" in result.output
    assert len(fake.updates) == 1               # the number was still set up


def test_ivr_twilio_setup_as_a_real_process(fake, tmp_path):
    fake.add_number(NUMBER)
    env = {"PATH": str(VENV_BIN), "HOME": str(tmp_path), "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
           "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_TWILIO_API_BASE": fake.url}
    proc = subprocess.run([str(VENV_BIN / "ivr"), "twilio", "setup", "--number", NUMBER, "--base-url", BASE,
                           "--no-check"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "changed 3 setting(s)" in proc.stdout
    assert fake.updates[0].form == {
        "VoiceUrl": WANTED["VoiceUrl"], "VoiceFallbackUrl": WANTED["VoiceFallbackUrl"],
        "StatusCallback": WANTED["StatusCallback"]}
