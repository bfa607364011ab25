"""Signatures: twilio-python's published vectors, and every request of a call validating."""
import re

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Response

from ivr.phone.signing import signature

from .apps import ScriptedApp, twiml, wav_bytes

TOKEN = "12345"
VECTOR_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
                 "From": "+14158675309", "To": "+18005551212"}


@pytest.mark.parametrize("url, expected", [
    ("https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
])
def test_twilio_python_vectors(url, expected):
    assert signature(TOKEN, url, VECTOR_PARAMS) == expected


def _validating_app():
    """Checks X-Twilio-Signature on every request the way a careful app does."""
    validator = RequestValidator(TOKEN)
    results = []

    def check(req):
        results.append((req.path, validator.validate(req.url, req.form, req.headers.get("X-Twilio-Signature", ""))))

    def voice(req):
        check(req)
        return twiml('<Play>/tone.wav</Play><Gather method="GET" action="/step?from=gather" numDigits="1">'
                     '<Say>Press a key</Say></Gather>')

    def step(req):
        check(req)
        return twiml('<Redirect>/moved</Redirect>')

    def moved(req):
        check(req)
        return Response("", status=302, headers={"Location": "/final"})

    def final(req):
        check(req)
        return twiml("<Say>Done</Say>")

    def tone(req):
        check(req)
        return Response(wav_bytes(0.5), content_type="audio/wav")

    def status(req):
        check(req)
        return Response("", status=204)

    app = ScriptedApp({"/voice": voice, "/step": step, "/moved": moved, "/final": final, "/tone.wav": tone,
                       "/status": status})
    return app, results


def test_every_request_of_a_call_is_signed(make_phone):
    app, results = _validating_app()
    call = make_phone(app, auth_token=TOKEN, status_callback="/status").run(["7"])
    assert call.heard[-1] == "Done"
    assert [path for path, _ in results] == ["/voice", "/tone.wav", "/step", "/moved", "/final", "/status"]
    assert all(ok for _, ok in results), results
    gather_get = next(s for s in app.seen if s.path == "/step")
    assert gather_get.method == "GET" and gather_get.args["Digits"] == "7" and gather_get.args["from"] == "gather"


def test_wrong_token_fails_validation(make_phone):
    app, results = _validating_app()
    make_phone(app, auth_token="not-the-token").run(["7"])
    assert results and not any(ok for _, ok in results)


def test_no_token_no_signature_header(make_phone):
    app = ScriptedApp({"/voice": twiml("<Say>hi</Say>")})
    make_phone(app).run()
    assert "X-Twilio-Signature" not in app.seen[0].headers
    assert app.seen[0].headers["User-Agent"].startswith("TwilioProxy/")


def test_standard_parameters(make_phone):
    app = ScriptedApp({"/voice": twiml('<Gather numDigits="2"><Say>Two digits</Say></Gather>'),
                       })
    app.routes["/voice"] = lambda req: (twiml('<Gather numDigits="2"><Say>Two digits</Say></Gather>')
                                        if "Digits" not in req.form else twiml("<Hangup/>"))
    call = make_phone(app, caller="+8613911112222", called="+861012333").run(["42"])
    first, second = app.seen
    assert re.fullmatch(r"CA[0-9a-f]{32}", first.form["CallSid"]) and first.form["CallSid"] == call.sid
    assert re.fullmatch(r"AC[0-9a-f]{32}", first.form["AccountSid"])
    assert first.form["From"] == first.form["Caller"] == "+8613911112222"
    assert first.form["To"] == first.form["Called"] == "+861012333"
    assert first.form["Direction"] == "inbound" and first.form["ApiVersion"] == "2010-04-01"
    assert first.form["CallStatus"] == "ringing" and "Digits" not in first.form
    assert second.form["CallStatus"] == "in-progress"
    assert second.form["CallSid"] == call.sid
    assert second.form["Digits"] == "42" and second.form["msg"] == "Gather End"
