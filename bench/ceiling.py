"""The ceiling: a bare Flask app answering every webhook with one constant TwiML document.

Served by the same ``ivr.web.server`` (2 gunicorn sync workers by default) as the hotline, so the only
difference between the two is the work the hotline does per webhook.
"""
from __future__ import annotations

from flask import Flask, Response

# The size of a typical hotline answer (a menu in a <Gather>, then the timeout redirect).
TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/input" '
         'actionOnEmptyResult="false" finishOnKey="" method="POST" numDigits="1" timeout="6">'
         '<Say language="en-US" voice="Polly.Joanna">Bureau, press 1. Agency, press 2. Electronic card, '
         'press 3. Take care, press 4. Back, press star.</Say></Gather>'
         '<Redirect method="POST">/voice/timeout</Redirect></Response>')

app = Flask(__name__)


@app.route("/voice", methods=["POST", "GET"])
@app.route("/voice/<path:_rest>", methods=["POST", "GET"])
def constant(_rest: str = ""):
    return Response(TWIML, status=200, mimetype="text/xml")


class NoDatabase:
    """``ivr.web.server`` disposes the app's database (and its engine, in each worker) around forking;
    the ceiling has none."""

    @property
    def engine(self) -> "NoDatabase":
        return self

    def dispose(self, close: bool = True) -> None:
        pass

    def forget_connections(self) -> None:
        pass


app.extensions["ivr_db"] = NoDatabase()
