"""Small TwiML apps the phone is tested against, in the styles real apps use."""
from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import numpy as np
import soundfile
from flask import Flask, redirect, request, session, url_for
from werkzeug.wrappers import Request, Response

XML = "text/xml"


def twiml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


def wav_bytes(seconds: float, rate: int = 16000, freq: float = 440.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    out = io.BytesIO()
    soundfile.write(out, 0.3 * np.sin(2 * np.pi * freq * t), rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


@dataclass
class Seen:
    method: str
    path: str
    url: str  # full URL as the app saw it
    form: dict
    args: dict
    headers: dict


@dataclass
class ScriptedApp:
    """A plain WSGI app serving fixed TwiML (or callables) by path, logging every request.

    Route values: a TwiML string (served as text/xml), or a callable taking the werkzeug
    Request and returning a Response or a TwiML string.
    """
    routes: dict
    seen: list[Seen] = field(default_factory=list)

    def __call__(self, environ, start_response):
        req = Request(environ)
        self.seen.append(Seen(req.method, req.path, req.url, dict(req.form), dict(req.args), dict(req.headers)))
        handler = self.routes.get(req.path)
        if handler is None:
            response = Response("not found", status=404, content_type="text/plain")
        elif callable(handler):
            result = handler(req)
            response = result if isinstance(result, Response) else Response(result, content_type=XML)
        else:
            response = Response(handler, content_type=XML)
        return response(environ, start_response)

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


def cookie_app() -> Flask:
    """Keeps the caller's choices in the Flask session cookie, like automated-survey-flask."""
    app = Flask("cookie_app")
    app.secret_key = "test"

    @app.route("/voice", methods=["POST"])
    def voice():
        session["choices"] = []
        return twiml('<Gather numDigits="1" action="/choose"><Say>Pick a colour.</Say></Gather>'), 200, {"Content-Type": XML}

    @app.route("/choose", methods=["POST"])
    def choose():
        choices = session.get("choices", []) + [request.form["Digits"]]
        session["choices"] = choices
        if len(choices) < 3:
            return twiml('<Gather numDigits="1" action="/choose"><Say>And another.</Say></Gather>'), 200, {"Content-Type": XML}
        return twiml(f"<Say>You picked {' '.join(choices)}.</Say><Hangup/>"), 200, {"Content-Type": XML}

    return app


def routing_app() -> Flask:
    """Routes with HTTP redirects instead of <Redirect>, like call-forwarding-flask."""
    app = Flask("routing_app")

    @app.route("/voice", methods=["POST"])
    def voice():
        return twiml('<Gather numDigits="1" action="/route"><Say>Press 1 for sales, 2 for support.</Say></Gather>'), 200, {"Content-Type": XML}

    @app.route("/route", methods=["POST"])
    def route():
        digit = request.form.get("Digits", "")
        if digit == "1":
            return redirect(url_for("department", name="sales"))  # 302 after a POST: GET
        if digit == "2":
            return redirect(url_for("support"), code=307)  # 307 keeps POST and the form
        if digit == "3":
            return redirect(url_for("department", name="moved"), code=301)
        return redirect(url_for("department", name="other"), code=303)

    @app.route("/dept/<name>", methods=["GET", "POST"])
    def department(name):
        return twiml(f"<Say>{name} via {request.method}</Say>"), 200, {"Content-Type": XML}

    @app.route("/support", methods=["POST"])
    def support():
        return twiml(f"<Say>support got digits {request.form.get('Digits')}</Say>"), 200, {"Content-Type": XML}

    return app


def broken_app() -> ScriptedApp:
    """Every way a webhook can fail. The entry URL is chosen per test."""
    big = twiml("<Say>" + "x" * (70 * 1024) + "</Say>")

    def slow(req):
        time.sleep(float(req.args.get("s", "1")))
        return twiml("<Say>too late</Say>")

    def status(code):
        return lambda req: Response("oops", status=code, content_type="text/plain")

    def raw(body, ctype=None, code=200, headers=None):
        def handler(req):
            response = Response(body, status=code, headers=headers or {})
            if ctype is None:
                del response.headers["Content-Type"]
            else:
                response.headers["Content-Type"] = ctype
            return response
        return handler

    return ScriptedApp({
        "/broken-xml": raw("<Response><Say>unclosed</Response>", XML),
        "/not-response": raw("<Reply><Say>hi</Say></Reply>", XML),
        "/leading-space": raw('  <?xml version="1.0"?><Response><Say>hi</Say></Response>', XML),
        "/empty": raw("", XML),
        "/500": status(500),
        "/404": status(404),
        "/slow": slow,
        "/plain": raw("Our offices are closed.", "text/plain; charset=utf-8"),
        "/audio": raw(wav_bytes(2.0), "audio/wav"),
        "/big": raw(big, XML),
        "/no-ctype": raw(twiml("<Say>hi</Say>"), None),
        "/json": raw('{"say": "hi"}', "application/json"),
        "/html": raw(twiml("<Say>served as html</Say>"), "text/html; charset=utf-8"),
        "/loop-a": raw("", None, 302, {"Location": "/loop-b"}),
        "/loop-b": raw("", None, 302, {"Location": "/loop-a"}),
        "/308": raw("", None, 308, {"Location": "/html"}),
        "/302-no-location": raw("", None, 302),
        "/fallback": lambda req: twiml(f"<Say>Fallback for {req.form.get('ErrorCode')}</Say>"),
        "/fallback-500": status(500),
        "/lowercase": twiml("<say>lower</say><Say>Upper</Say>"),
        "/bad-attr": twiml('<Say colour="blue">still spoken</Say>'),
        "/forever": twiml("<Redirect>/forever</Redirect>"),
        "/say-forever": twiml('<Gather><Say loop="0">hold on</Say></Gather><Redirect>/say-forever</Redirect>'),
        "/status": lambda req: Response("", status=204),
    })
