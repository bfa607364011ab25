"""The webhook lane: Twilio's form POSTs to the voice routes, answered without Flask's request machinery.

Why: a menu webhook's own work (load the call, run the engine, save, render the memoized TwiML)
costs about as much as Flask's request context, URL matching, session, hooks and response
handling around it; with them the hotline served 0.5x the requests of a stateless Twilio app
(docs/benchmarks.md, issue 17). The lane calls the same view functions of ``ivr.web.voice``, under
an app context only, with the request it read itself (``ivr.web.incoming``); what Flask's
``before_request`` hook does for a webhook (body cap, X-Twilio-Signature) it does with the same
functions (``ivr.web.security.webhooks``).

It takes only the requests it answers exactly as Flask would: a POST to one of the voice routes,
url-encoded, a Content-Length within ``WEBHOOK_MAX_BYTES``, no query string, no test-clock header,
a valid signature when ``TWILIO_AUTH_TOKEN`` is set. Anything else, a refusal included (a bad
signature gets its 403 and its log line from Flask), goes to Flask with the body untouched.
``IVR_WEBHOOK_LANE=false`` sends everything to Flask (the benchmark's before/after).
"""
from __future__ import annotations

import io
import logging

from flask import Flask

from ivr.hotline.calls import parse_now
from ivr.logs import log_webhook
from ivr.web.incoming import answering
from ivr.web.forms import LazyForm, WebhookRequest, plain_form_size
from ivr.web.reply import TWIML_CONTENT_TYPE, describe_error, last_resort_apology
from ivr.web.security.webhooks import WEBHOOK_PREFIX, log_dev_mode_once, verify_request
from ivr.web.test_clock import TEST_NOW_HEADER
from ivr.web.voice import SENSITIVE_HEADER, respond

_TEST_NOW = "HTTP_" + TEST_NOW_HEADER.upper().replace("-", "_")


class LaneRequest:
    """What the voice views read of a request (``ivr.web.incoming``): its form as ``values`` (what
    the MultiDict werkzeug would make answers: tests/web/test_forms.py; parsed as it is read,
    ``forms.LazyForm``), path and mount point, as werkzeug gives them for the lane's requests (an
    ASCII path it matched exactly)."""

    __slots__ = ("environ", "values", "form", "path", "script_root")

    def __init__(self, environ, body: bytes):
        self.environ = environ
        self.values = self.form = LazyForm(body.decode())
        self.path = environ["PATH_INFO"]
        self.script_root = environ.get("SCRIPT_NAME", "").encode("latin-1").decode("utf-8", "replace").rstrip("/")


class WebhookLane:
    """WSGI middleware in front of the Flask app's own ``wsgi_app`` (inside ProxyFix, so the
    scheme and host it checks signatures with are the ones Twilio used)."""

    def __init__(self, app: Flask, inner):
        self.app = app
        self.inner = inner
        self._routes: dict[str, str] | None = None

    def routes(self) -> dict[str, str]:
        """Path -> endpoint of the voice blueprint's fixed routes (read once, after registration)."""
        if self._routes is None:
            self._routes = {r.rule: r.endpoint for r in self.app.url_map.iter_rules()
                            if r.rule.startswith(WEBHOOK_PREFIX) and not r.arguments
                            and r.endpoint.startswith("voice.")}
        return self._routes

    def __call__(self, environ, start_response):
        endpoint = self.routes().get(environ.get("PATH_INFO", ""))
        size = self._takes(environ) if endpoint is not None else None
        if size is None:
            return self.inner(environ, start_response)
        data = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(data)   # whoever answers reads the body from here
        if len(data) != size:
            return self.inner(environ, start_response)   # Flask's answer to a short body
        with self.app.app_context():
            token = self.app.config.get("TWILIO_AUTH_TOKEN")
            if token:   # the signature check needs werkzeug's whole request (headers, host, scheme)
                request = WebhookRequest(environ)
                request.max_content_length = self.app.config.get("WEBHOOK_MAX_BYTES")
                request.__dict__["values"] = request.form   # = args + form: no query string here
                if not verify_request(token, request)[0]:
                    environ["wsgi.input"] = io.BytesIO(data)
                    return self.inner(environ, start_response)   # Flask refuses and logs it
            else:
                try:
                    request = LaneRequest(environ, data)
                except ValueError:   # not UTF-8: Flask's answer (an empty form)
                    return self.inner(environ, start_response)
                log_dev_mode_once()
            view = self.app.view_functions[endpoint]
            call = getattr(view, "call_handler", None)
            with answering(request):
                try:
                    if call is not None:   # a call webhook: voice.respond, no Response object
                        # "now" is the NOW setting: a request naming its time (the test clock's
                        # header) is Flask's (test_clock.now_setting), never the lane's.
                        xml, sensitive = respond(self.app.extensions["ivr_hotline"], *call, request.values,
                                                 request.path, parse_now(self.app.config.get("NOW")))
                        body = xml.encode()
                        headers = [("Content-Type", TWIML_CONTENT_TYPE), ("Content-Length", str(len(body)))]
                        if sensitive:
                            headers.append(SENSITIVE_HEADER)
                        start_response("200 OK", headers)
                        return [body]
                    response = view()
                except Exception as exc:   # the views answer every failure; this is the last line
                    log_webhook(logging.ERROR, "webhook failed outside its handler", call="-",
                                route=request.path, error=describe_error(exc))
                    response = last_resort_apology()
        if response.is_sequence and not response.direct_passthrough:   # what the views give: one text
            start_response(response.status, response.headers.to_wsgi_list())
            return response.response
        return response(environ, start_response)

    def _takes(self, environ) -> int | None:
        """The body's size when the lane answers this request, else None."""
        config = self.app.config
        if environ.get("QUERY_STRING") or _TEST_NOW in environ or not config.get("WEBHOOK_LANE", True):
            return None
        return plain_form_size(environ, config.get("WEBHOOK_MAX_BYTES"))


def init_app(app: Flask) -> None:
    """Put the lane in front of Flask, inside ProxyFix when ``IVR_TRUST_PROXY`` installed one."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    if isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app.app = WebhookLane(app, app.wsgi_app.app)
    else:
        app.wsgi_app = WebhookLane(app, app.wsgi_app)
