"""HTTP like Twilio: cookies, redirects, content types, limits, failures, fallback, callbacks."""
import socket

import pytest

from ivr.phone import Phone

from .apps import ScriptedApp, broken_app, cookie_app, routing_app, twiml


def test_cookies_are_kept_within_a_call_only(make_phone):
    phone = make_phone(cookie_app())
    call = phone.run(["3", "1", "4"])
    assert call.heard[-1] == "You picked 3 1 4."
    second = phone.run(["2", "7", "1"])  # a new call starts with no cookies
    assert second.heard[-1] == "You picked 2 7 1."


@pytest.mark.parametrize("key, heard", [
    ("1", "sales via GET"),  # 302 after POST: GET the new location
    ("2", "support got digits 2"),  # 307: POST again with the same form
    ("3", "moved via GET"),  # 301
    ("9", "other via GET"),  # 303
])
def test_http_redirects_are_followed(make_phone, key, heard):
    call = make_phone(routing_app()).run([key])
    assert call.heard[-1] == heard
    statuses = [r["status"] for r in call.requests]
    assert statuses[1] in (301, 302, 303, 307) and statuses[2] == 200


def test_redirect_loop_is_11215(make_phone):
    call = make_phone(broken_app(), path="/loop-a").run()
    assert [e["code"] for e in call.errors] == [11215]
    assert call.heard == ["An application error has occurred. Goodbye."]
    assert call.ended_by == "error"


@pytest.mark.parametrize("path", ["/308", "/302-no-location"])
def test_unfollowed_redirects_are_11216(make_phone, path):
    call = make_phone(broken_app(), path=path).run()
    assert [e["code"] for e in call.errors] == [11216]


@pytest.mark.parametrize("path, code", [
    ("/500", 11200), ("/404", 11200), ("/broken-xml", 12100), ("/not-response", 12100),
    ("/leading-space", 12100), ("/empty", 12100), ("/big", 11750), ("/no-ctype", 12300), ("/json", 12300),
])
def test_failures_use_twilio_codes_then_say_goodbye(make_phone, path, code):
    call = make_phone(broken_app(), path=path).run()
    assert [(e["code"], e["fatal"]) for e in call.errors] == [(code, True)]
    assert call.events[-1]["source"] == "twilio"
    assert call.heard == ["An application error has occurred. Goodbye."]
    assert call.ended_by == "error" and call.status == "completed"


def test_slow_answer_is_11205(make_phone):
    call = make_phone(broken_app(), path="/slow?s=0.6", timeout=0.2).run()
    assert [e["code"] for e in call.errors] == [11205]


def test_fallback_url_gets_error_code_and_url(make_phone):
    app = broken_app()
    call = make_phone(app, path="/500", fallback_url="/fallback").run()
    assert call.heard == ["Fallback for 11200"]
    fallback = app.seen[-1]
    assert fallback.path == "/fallback" and fallback.form["ErrorUrl"].endswith("/500")
    assert fallback.form["CallSid"] == call.sid


def test_failing_fallback_ends_with_the_goodbye(make_phone):
    call = make_phone(broken_app(), path="/500", fallback_url="/fallback-500").run()
    assert [e["code"] for e in call.errors] == [11200, 11200]
    assert call.heard == ["An application error has occurred. Goodbye."]


def test_plain_text_is_read_then_hang_up(make_phone):
    call = make_phone(broken_app(), path="/plain").run()
    assert call.heard == ["Our offices are closed."]
    assert call.events[0]["language"] == "en-US" and call.ended_by == "app"


def test_audio_document_is_played_then_hang_up(make_phone):
    app = broken_app()
    call = make_phone(app, path="/audio").run()
    assert call.events[0]["verb"] == "Play" and abs(call.events[0]["duration"] - 2.0) < 2e-3
    assert app.paths() == ["/audio"]  # the document itself is the audio: no second fetch
    assert call.events[-1]["verb"] == "Hangup"


def test_html_content_type_is_twiml(make_phone):
    assert make_phone(broken_app(), path="/html").run().heard == ["served as html"]


def test_schema_problems_are_warnings_and_the_call_carries_on(make_phone):
    call = make_phone(broken_app(), path="/lowercase").run()
    assert [w["code"] for w in call.warnings] == [12200]
    assert "<say>" in call.warnings[0]["message"]
    assert call.heard == ["Upper"] and not call.errors
    call = make_phone(broken_app(), path="/bad-attr").run()
    assert "'colour'" in call.warnings[0]["message"] and call.heard == ["still spoken"]


def test_loop_guard_stops_a_redirect_loop(make_phone):
    call = make_phone(broken_app(), path="/forever", max_requests=30).run()
    assert call.ended_by == "guard" and call.events[-1]["verb"] == "Guard"
    assert len(call.requests) == 31


def test_loop_guard_stops_by_call_length(make_phone):
    call = make_phone(broken_app(), path="/say-forever", time_limit=3600).run(["_"] * 10)
    assert call.ended_by == "guard" and "time limit" in call.events[-1]["message"]


def test_status_callback_reports_the_end(make_phone):
    app = ScriptedApp({"/voice": twiml("<Say>Hello there</Say><Pause length=\"3\"/>"),
                       "/status": lambda req: ("", 204)})
    app.routes["/status"] = broken_app().routes["/status"]
    call = make_phone(app, status_callback="/status").run()
    status = app.seen[-1]
    assert status.path == "/status" and status.form["CallStatus"] == "completed"
    assert status.form["CallDuration"] == "4"  # 0.73 s of speech + 3 s pause, rounded up
    assert status.form["CallSid"] == call.sid and status.form["CallbackSource"] == "call-progress-events"


def test_connection_refused_is_11205():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    call = Phone(f"http://127.0.0.1:{port}/voice").run()
    assert [e["code"] for e in call.errors] == [11205]


def test_in_process_calls_reach_only_the_apps_origin():
    app = ScriptedApp({"/voice": twiml("<Redirect>https://elsewhere.example.com/x</Redirect>")})
    call = Phone(app=app).run()
    assert [e["code"] for e in call.errors] == [11210]


def test_in_process_requests_arrive_as_a_server_would_send_them():
    """The WSGI transport builds the environ itself: path (percent-encoded UTF-8), query, form,
    headers and cookies must reach the app as they would over HTTP."""
    from flask import Flask, jsonify, request

    from ivr.phone.transport import WsgiTransport

    echo = Flask("echo")

    @echo.route("/<path:rest>", methods=["GET", "POST"])
    def show(rest):
        response = jsonify(path=request.path, args=request.args.to_dict(), form=request.form.to_dict(),
                           sig=request.headers.get("X-Twilio-Signature"), host=request.host,
                           scheme=request.scheme, cookie=request.cookies.get("seen"))
        response.set_cookie("seen", "yes")
        return response

    transport = WsgiTransport(echo, "https://hotline.example:8443")
    first = transport.request("POST", "https://hotline.example:8443/%E8%AF%AD%E9%9F%B3/in?lang=zh",
                              {"Digits": "1#", "From": "+86 138"}, {"X-Twilio-Signature": "abc="}, 5, None)
    import json

    got = json.loads(first.body)
    assert first.status == 200
    assert got == {"path": "/语音/in", "args": {"lang": "zh"}, "form": {"Digits": "1#", "From": "+86 138"},
                   "sig": "abc=", "host": "hotline.example:8443", "scheme": "https", "cookie": None}
    second = json.loads(transport.request("GET", "https://hotline.example:8443/x?CallSid=CA1", None, {}, 5, None).body)
    assert second["args"] == {"CallSid": "CA1"} and second["form"] == {} and second["cookie"] == "yes"


def test_a_document_read_again_warns_again_and_plays_the_same(make_phone):
    """The phone remembers documents it has read (by their bytes): a repeat must still warn every
    time it is loaded, in every call, and play exactly as the first time."""
    page = twiml('<Say colour="red">again</Say><Redirect>/again</Redirect>')
    app = ScriptedApp({"/voice": page, "/again": page})
    first = make_phone(app, max_requests=3).run()
    second = make_phone(app, max_requests=3).run()
    for call in (first, second):
        assert call.heard == ["again"] * 3
        assert ["'colour'" in w["message"] for w in call.warnings] == [True] * len(call.requests)
        assert len(call.requests) == 4   # the fourth is loaded, then the guard ends the call
    broken = ScriptedApp({"/voice": "<Response><Say>unclosed</Response>"})
    for _ in range(2):   # a document that fails to parse fails every time
        assert [e["code"] for e in make_phone(broken).run().errors] == [12100]


def test_any_wsgi_app_shape_is_read_whole(make_phone):
    """PEP 3333 apps the in-process phone reads as a server would: output through ``write()``
    before the iterable, ``start_response`` called as late as the first chunk, ``close()`` called,
    header names in any case."""
    closed = []

    class Body:
        def __init__(self, start_response):
            self.start_response = start_response

        def __iter__(self):
            self.start_response("200 OK", [("content-TYPE", "text/xml")])   # late, odd case
            yield b"<Response><Say>late start</Say>"
            yield b"</Response>"

        def close(self):
            closed.append(True)

    def late(environ, start_response):
        return Body(start_response)

    def writer(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/xml")])
        write(b"<Response><Say>written</Say>")
        return [b"<Say>then returned</Say></Response>"]

    assert make_phone(late).run().heard == ["late start"]
    if make_phone.transport == "wsgi":   # a server closes it after sending, maybe after the phone read it
        assert closed == [True]
    assert make_phone(writer).run().heard == ["written", "then returned"]
