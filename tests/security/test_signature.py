"""X-Twilio-Signature on every /voice webhook: twilio-python's vectors, real signed requests, proxies."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import tomllib
import xml.etree.ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder

from ivr.web.security import webhooks as security
from tests.conftest import ROOT, make_app
from tests.security.conftest import TOKEN, SignedClient, sign
from tests.twiml import Caller, new_sid, parse

# twilio-python's tests/unit/test_request_validator.py (reference §2.13): token "12345".
V_TOKEN = "12345"
V_URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
V_PARAMS = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309",
            "To": "+18005551212", "Caller": "+14158675309"}
V_EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
V_WITH_443 = "kvajT1Ptam85bY51eRf/AJRuM3w="
V_HTTP_80 = "0ZXoZLH/DfblKGATFgpif+LLRf4="
V_HTTP_1234 = "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
V_DUPLICATES = "IK+Dwps556ElfBT0I3Rgjkr1wJU="
V_BODY = '{"property": "value", "boolean": true}'
V_BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
V_BODY_SIGNATURE = "a9nBmqA0ju/hNViExpshrM61xv4="

EN = tomllib.loads((ROOT / "prompts/en-US.toml").read_text("utf-8"))
WEBHOOKS = ["/voice", "/voice/input", "/voice/timeout", "/voice/dial-status", "/voice/recorded",
            "/voice/hold", "/voice/status", "/voice/fallback"]


def form(**extra) -> dict:
    return {"CallSid": new_sid(), "AccountSid": "AC" + "0" * 32, "From": "+8613800138000",
            "To": "+8612333", "CallStatus": "in-progress", "Direction": "inbound",
            "ApiVersion": "2010-04-01", **extra}


@pytest.fixture
def signed_app(tmp_path):
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN)
    yield app
    app.extensions["ivr_db"].dispose()


# ---------------------------------------------------------------- the published vectors

def test_twilio_python_vectors_compute_as_published():
    v = RequestValidator(V_TOKEN)
    assert v.compute_signature(V_URI, V_PARAMS) == V_EXPECTED
    assert v.compute_signature(V_URI.replace(".com", ".com:443"), V_PARAMS) == V_WITH_443
    http = V_URI.replace("https", "http")
    assert v.compute_signature(http.replace(".com", ".com:80"), V_PARAMS) == V_HTTP_80
    assert v.compute_signature(http.replace(".com", ".com:1234"), V_PARAMS) == V_HTTP_1234
    assert v.compute_hash(V_BODY) == V_BODY_HASH
    # The algorithm, written out: URL + sorted name+value pairs, HMAC-SHA1, base64.
    text = V_URI + "".join(k + V_PARAMS[k] for k in sorted(V_PARAMS))
    mac = hmac.new(V_TOKEN.encode(), text.encode(), hashlib.sha1).digest()
    assert base64.b64encode(mac).decode() == V_EXPECTED


def _verify(app, base_url, path, *, data=None, signature=None, headers=None, method="POST",
            content_type=None, proxy_hops=0):
    """Run security.verify_request on a request built like Twilio's (through ProxyFix if asked)."""
    builder = EnvironBuilder(path=path, base_url=base_url, method=method, data=data,
                             headers={**(headers or {}), **({"X-Twilio-Signature": signature} if signature else {})},
                             content_type=content_type)
    environ = builder.get_environ()
    if proxy_hops:
        seen = {}
        ProxyFix(lambda env, start: seen.update(env) or [], x_for=proxy_hops, x_proto=proxy_hops,
                 x_host=proxy_hops, x_port=proxy_hops, x_prefix=proxy_hops)(environ, None)
        environ = seen
    with app.request_context(environ):
        return security.verify_request(V_TOKEN)


@pytest.mark.parametrize("base,signature", [
    ("https://mycompany.com", V_EXPECTED),
    ("https://mycompany.com", V_WITH_443),           # Twilio signed with :443; we see no port
    ("https://mycompany.com:443", V_EXPECTED),       # we see :443; Twilio signed without
    ("https://mycompany.com:1234", V_EXPECTED),      # the port is dropped on https
    ("http://mycompany.com", V_HTTP_80),
    ("http://mycompany.com:1234", V_HTTP_1234),
])
def test_vectors_validate_through_verify_request(signed_app, base, signature):
    ok, reason, url = _verify(signed_app, base, "/myapp.php?foo=1&bar=2", data=V_PARAMS, signature=signature)
    assert ok, (reason, url)


def test_vector_with_repeated_fields(signed_app):
    body = "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"
    ok, reason, _ = _verify(signed_app, "https://mycompany.com", "/myapp.php?foo=1&bar=2", data=body,
                            signature=V_DUPLICATES, content_type="application/x-www-form-urlencoded")
    assert ok, reason


def test_vector_json_body_with_body_sha256(signed_app):
    path = f"/myapp.php?foo=1&bar=2&bodySHA256={V_BODY_HASH}"
    ok, reason, _ = _verify(signed_app, "https://mycompany.com", path, data=V_BODY,
                            signature=V_BODY_SIGNATURE, content_type="application/json")
    assert ok, reason
    tampered = V_BODY.replace("value", "VALUE")
    ok, _, _ = _verify(signed_app, "https://mycompany.com", path, data=tampered,
                       signature=V_BODY_SIGNATURE, content_type="application/json")
    assert not ok


def test_vectors_fail_for_the_wrong_scheme_params_or_token(signed_app):
    assert not _verify(signed_app, "http://mycompany.com", "/myapp.php?foo=1&bar=2", data=V_PARAMS,
                       signature=V_EXPECTED)[0]          # https signature, http request (the ngrok trap)
    assert not _verify(signed_app, "https://mycompany.com", "/myapp.php?foo=1&bar=2",
                       data={**V_PARAMS, "Digits": "1235"}, signature=V_EXPECTED)[0]
    assert not _verify(signed_app, "https://mycompany.com", "/myapp.php?foo=1&bar=3", data=V_PARAMS,
                       signature=V_EXPECTED)[0]
    ok, reason, _ = _verify(signed_app, "https://mycompany.com", "/myapp.php?foo=1&bar=2", data=V_PARAMS)
    assert not ok and reason == "missing X-Twilio-Signature"


def test_vector_behind_a_proxy_via_forwarded_headers(signed_app):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "mycompany.com", "X-Forwarded-For": "54.1.2.3"}
    ok, reason, url = _verify(signed_app, "http://127.0.0.1:5000", "/myapp.php?foo=1&bar=2", data=V_PARAMS,
                              signature=V_EXPECTED, headers=headers, proxy_hops=1)
    assert ok, (reason, url)
    assert url == V_URI
    # Without ProxyFix the app sees http://127.0.0.1:5000/... and must refuse.
    ok, _, url = _verify(signed_app, "http://127.0.0.1:5000", "/myapp.php?foo=1&bar=2", data=V_PARAMS,
                         signature=V_EXPECTED, headers=headers)
    assert not ok and url.startswith("http://127.0.0.1:5000/")


def test_vector_through_public_url(tmp_path):
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=V_TOKEN, PUBLIC_URL="https://mycompany.com/")
    ok, reason, url = _verify(app, "http://127.0.0.1:5000", "/myapp.php?foo=1&bar=2", data=V_PARAMS,
                              signature=V_EXPECTED)
    assert ok and url == V_URI, (reason, url)


# ---------------------------------------------------------------- real signed webhooks

@pytest.mark.parametrize("path", WEBHOOKS)
def test_every_webhook_refuses_a_missing_signature_with_a_plain_403(signed_app, path, caplog):
    caplog.set_level(logging.WARNING, logger="ivr")
    data = form(Digits="1")
    response = signed_app.test_client().post(path, data=data)
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    assert "<Response" not in response.get_data(as_text=True)
    rejected = [r for r in caplog.records if r.getMessage() == "webhook signature rejected"]
    assert len(rejected) == 1
    assert rejected[0].fields["reason"] == "missing X-Twilio-Signature"
    assert rejected[0].fields["call"] == data["CallSid"]
    assert rejected[0].fields["url"] == "http://localhost" + path


@pytest.mark.parametrize("path", WEBHOOKS)
def test_every_webhook_refuses_a_forged_signature(signed_app, path):
    client = signed_app.test_client()
    data = form(Digits="1")
    forged = {
        "other token": sign("http://localhost" + path, data, token="not-the-token"),
        "other params": sign("http://localhost" + path, {**data, "Digits": "2"}),
        "other url": sign("https://localhost" + path, data),
        "garbage": "not base64 at all \u00e9",
    }
    for name, signature in forged.items():
        response = client.post(path, data=data, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403, name


@pytest.mark.parametrize("path", WEBHOOKS)
def test_every_webhook_accepts_a_correct_signature(signed_app, path):
    doc = parse(SignedClient(signed_app.test_client()).post(path, data=form(Digits="1",
                                                                               DialCallStatus="completed")))
    assert doc.root.tag == "Response"


def test_a_whole_signed_call_and_its_records(signed_app):
    caller = Caller(SignedClient(signed_app.test_client()))
    caller.keys("2", "3")
    doc = caller.press("1")
    assert "WeChat" in doc.heard
    from ivr.hotline.models import Call

    with signed_app.extensions["ivr_db"].Session() as s:
        assert s.get(Call, caller.sid).menu == "check_ways"


def test_a_forged_request_changes_nothing(signed_app):
    """A 403 is decided before the handler: no call record, no state change."""
    client = signed_app.test_client()
    caller = Caller(SignedClient(client))
    caller.keys("2")                                             # English main menu
    response = client.post("/voice/input", data=form(CallSid=caller.sid, Digits="3"),
                           headers={"X-Twilio-Signature": "AAAA"})
    assert response.status_code == 403
    assert caller.press("4").heard == EN["law_menu"]           # still at the main menu
    from ivr.hotline.models import Call

    with signed_app.extensions["ivr_db"].Session() as s:
        assert s.query(Call).count() == 1


def test_signed_get_webhook_with_the_query_in_the_url(signed_app):
    sid = new_sid()
    path = f"/voice?CallSid={sid}&From=%2B8613800138000&CallStatus=ringing"
    signature = sign("http://localhost" + path, None)
    client = signed_app.test_client()
    assert parse(client.get(path, headers={"X-Twilio-Signature": signature})).gather is not None
    # The same signature on a changed query is refused.
    assert client.get(path.replace("ringing", "in-progress"),
                      headers={"X-Twilio-Signature": signature}).status_code == 403


def test_hmac_sha256_signature_settings_header(signed_app):
    data = form()
    url = "http://localhost/voice"
    signature = RequestValidator(TOKEN).compute_signature(url, data, "HMAC_SHA256")
    headers = {"X-Twilio-Signature": signature,
               "X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"}
    client = signed_app.test_client()
    assert client.post("/voice", data=data, headers=headers).status_code == 200
    # The same bytes claimed as SHA1 do not pass.
    assert client.post("/voice", data=data, headers={"X-Twilio-Signature": signature}).status_code == 403


# ---------------------------------------------------------------- ngrok and reverse proxies

NGROK = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "abc.ngrok.app", "X-Forwarded-For": "54.172.60.1"}


def test_behind_ngrok_without_trust_proxy_signatures_fail(signed_app):
    """The most reported failure: Twilio signed https://abc.ngrok.app/voice, Flask sees http://..."""
    data = form()
    response = signed_app.test_client().post(
        "/voice", data=data, base_url="http://127.0.0.1:5000",
        headers={**NGROK, "X-Twilio-Signature": sign("https://abc.ngrok.app/voice", data)})
    assert response.status_code == 403


@pytest.mark.parametrize("trust", [True, 1, "true", "1"])
def test_behind_ngrok_with_trust_proxy(tmp_path, trust):
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, TRUST_PROXY=trust)
    client = SignedClient(app.test_client(), base="https://abc.ngrok.app", headers=NGROK)
    caller = Caller(client)
    assert caller.keys("2").heard.startswith("For your personal account")
    assert caller.press("3").gather is not None


def test_trust_proxy_with_forwarded_port(tmp_path):
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, TRUST_PROXY=True)
    data = form()
    headers = {**NGROK, "X-Forwarded-Port": "443",
               "X-Twilio-Signature": sign("https://abc.ngrok.app/voice", data)}
    assert app.test_client().post("/voice", data=data, base_url="http://127.0.0.1:5000",
                                  headers=headers).status_code == 200
    # A proxy on a non-standard port: Twilio signed https://lb.example.org:8443/voice.
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "lb.example.org", "X-Forwarded-Port": "8443",
               "X-Twilio-Signature": sign("https://lb.example.org:8443/voice", data)}
    assert app.test_client().post("/voice", data=data, base_url="http://127.0.0.1:5000",
                                  headers=headers).status_code == 200


def test_trust_proxy_does_not_let_a_forger_choose_the_host(tmp_path):
    """Forwarded headers only change which URL is checked; the HMAC still needs the token."""
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, TRUST_PROXY=True)
    data = form()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
               "X-Twilio-Signature": sign("https://abc.ngrok.app/voice", data)}
    assert app.test_client().post("/voice", data=data, headers=headers).status_code == 403


def test_trust_proxy_with_a_path_prefix(tmp_path):
    """Twilio calls https://example.org/ivr/voice; the proxy strips /ivr and says so."""
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, TRUST_PROXY=True)
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "example.org", "X-Forwarded-Prefix": "/ivr"}
    client = app.test_client()
    data = form()
    response = client.post("/voice", data=data, headers={
        **headers, "X-Twilio-Signature": sign("https://example.org/ivr/voice", data)})
    doc = parse(response)
    assert doc.gather.get("action") == "/ivr/voice/input"     # the next webhook goes through the proxy too


def test_public_url_builds_the_signed_url(tmp_path):
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_URL="https://abc.ngrok.app")
    caller = Caller(SignedClient(app.test_client(), base="https://abc.ngrok.app"))
    doc = caller.keys("2")
    assert doc.gather.get("action") == "https://abc.ngrok.app/voice/input"
    assert caller.press("3").gather is not None                # absolute action URLs, signed as such
    # Signed for the address the server really listens on: refused, Twilio never calls that.
    data = form()
    response = app.test_client().post("/voice", data=data, base_url="http://127.0.0.1:5000",
                                      headers={"X-Twilio-Signature": sign("http://127.0.0.1:5000/voice", data)})
    assert response.status_code == 403


def test_public_url_keeps_the_query_string(tmp_path):
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_URL="https://abc.ngrok.app")
    data = form()
    url = "https://abc.ngrok.app/voice?source=setup%20check&x=1"
    response = app.test_client().post("/voice?source=setup%20check&x=1", data=data,
                                      headers={"X-Twilio-Signature": sign(url, data)})
    assert response.status_code == 200


@pytest.mark.parametrize("key,value,message", [
    ("TRUST_PROXY", "maybe", "IVR_TRUST_PROXY"),
    ("TRUST_PROXY", -1, "IVR_TRUST_PROXY"),
    ("PUBLIC_URL", "abc.ngrok.app", "IVR_PUBLIC_URL"),
    ("PUBLIC_URL", "https://abc.ngrok.app/voice?x=1", "IVR_PUBLIC_URL"),
])
def test_bad_proxy_settings_stop_the_app_with_a_clear_message(tmp_path, key, value, message):
    with pytest.raises(ValueError, match=message):
        make_app(tmp_path, **{key: value})


def test_proxy_hops_parsing():
    assert [security.proxy_hops(v) for v in (None, False, "", 0, "false", "no")] == [0] * 6
    assert [security.proxy_hops(v) for v in (True, 1, "true", "1", "yes")] == [1] * 5
    assert security.proxy_hops(2) == security.proxy_hops("2") == 2


def test_two_proxies_use_the_second_forwarded_value(tmp_path):
    """IVR_TRUST_PROXY=2: a load balancer behind ngrok; the outer proxy's values are the left ones."""
    app = make_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN, TRUST_PROXY=2)
    data = form()
    headers = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "abc.ngrok.app, lb.internal",
               "X-Forwarded-For": "54.172.60.1, 10.0.0.2",
               "X-Twilio-Signature": sign("https://abc.ngrok.app/voice", data)}
    assert app.test_client().post("/voice", data=data, headers=headers).status_code == 200


# ---------------------------------------------------------------- development mode

def test_development_mode_accepts_unsigned_and_says_so_once_per_process(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="ivr")
    monkeypatch.setattr(security, "_dev_mode_logged_pid", None)
    app = make_app(tmp_path)                       # no TWILIO_AUTH_TOKEN
    caller = Caller(app.test_client())
    caller.keys("2", "3", "1")
    warnings = [r for r in caplog.records if r.getMessage().startswith("DEVELOPMENT MODE")]
    assert len(warnings) == 1
    assert "TWILIO_AUTH_TOKEN" in warnings[0].getMessage()
    # A forked worker is another process: it says it again, once (what os.register_at_fork runs
    # in the child; a real fork is tests/web/test_server.py's business).
    monkeypatch.setattr(security.os, "getpid", lambda: -12345)
    security._forget_dev_mode_logged()
    caller.press("2")
    caller.press("3")
    warnings = [r for r in caplog.records if r.getMessage().startswith("DEVELOPMENT MODE")]
    assert len(warnings) == 2 and warnings[1].fields["pid"] == -12345


def test_signature_check_does_not_touch_other_paths(signed_app):
    client = signed_app.test_client()
    assert client.get("/nowhere").status_code == 404
    assert client.post("/voicemail-box").status_code == 404     # a prefix is not a webhook


def test_rejection_log_is_one_escaped_line_without_form_values(signed_app, caplog):
    caplog.set_level(logging.WARNING, logger="ivr")
    response = signed_app.test_client().post("/voice/%0Aforged-line", data={"Digits": "246810",
                                                                             "CallSid": "bad\nsid"})
    assert response.status_code == 403
    record = [r for r in caplog.records if r.getMessage() == "webhook signature rejected"][0]
    text = logging.Formatter().format(record) + " " + repr(record.fields)
    assert "\n" not in record.fields["route"] and record.fields["call"] == "-"
    assert "246810" not in text


def test_twiml_of_a_signed_webhook_parses(signed_app):
    response = SignedClient(signed_app.test_client()).post("/voice", data=form())
    assert ET.fromstring(response.get_data(as_text=True)).tag == "Response"


def test_get_query_is_checked_as_sent_not_as_werkzeug_decodes_it(signed_app):
    """werkzeug's request.url decodes %2A to * and %E4%BD%A0 to 你; Twilio signed the escapes."""
    sid = new_sid()
    path = f"/voice/input?CallSid={sid}&Digits=%2A&Note=%E4%BD%A0%7E&From=%2B8613800138000"
    client = signed_app.test_client()
    response = client.get(path, headers={"X-Twilio-Signature": sign("http://localhost" + path, None)})
    assert parse(response).root.tag == "Response"
    decoded = path.replace("%2A", "*").replace("%E4%BD%A0%7E", "你~")
    response = client.get(path, headers={"X-Twilio-Signature": sign("http://localhost" + decoded, None)})
    assert response.status_code == 403


def test_a_forked_worker_says_development_mode_again(tmp_path):
    """The real fork: the child forgets that its parent already said it."""
    import os

    security.log_dev_mode_once()
    assert security._dev_mode_logged_pid == os.getpid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: report what it remembers, then leave at once
        os.write(write, b"forgot" if security._dev_mode_logged_pid is None else b"remembered")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 20) == b"forgot"
