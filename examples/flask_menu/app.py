"""A library's phone line: a greeting, a one-key menu, two wrong keys forgiven, then goodbye.

An ordinary Flask app answering Twilio voice webhooks with twilio's ``VoiceResponse``; it knows
nothing of the 12333 hotline or of the phone that tests it. Point a Twilio number's voice URL
at ``/voice``, or call it locally:

    ivr call --app examples.flask_menu.app:create_app 1
"""
from __future__ import annotations

from flask import Flask, request, url_for
from twilio.twiml.voice_response import VoiceResponse

MAX_ATTEMPTS = 3  # wrong keys or silences before the line gives up
HOURS = "We are open Monday to Friday from nine a.m. to six p.m., and Saturday from ten a.m. to four p.m."
ADDRESS = "You will find us at 12 River Street, next to the town hall."
MENU = "For opening hours, press 1. For our address, press 2. To hear this menu again, press 9."


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/voice")
    def voice():
        """The call comes in: greet once, then the menu."""
        response = VoiceResponse()
        response.say("Thank you for calling the Riverside Library.")
        response.redirect(url_for("menu", attempt=1))
        return _twiml(response)

    @app.post("/menu")
    def menu():
        attempt = request.args.get("attempt", 1, type=int)
        response = VoiceResponse()
        gather = response.gather(num_digits=1, action=url_for("choice", attempt=attempt), timeout=5)
        gather.say(MENU)
        # No key within the timeout: Twilio carries on past the <Gather>.
        response.say("We did not receive your choice.")
        _retry_or_goodbye(response, attempt)
        return _twiml(response)

    @app.post("/choice")
    def choice():
        attempt = request.args.get("attempt", 1, type=int)
        digit = request.form.get("Digits", "")
        response = VoiceResponse()
        if digit == "1":
            response.say(HOURS)
        elif digit == "2":
            response.say(ADDRESS)
        elif digit == "9":
            response.redirect(url_for("menu", attempt=attempt))
            return _twiml(response)
        else:
            response.say(f"Sorry, {digit or 'that'} is not on the menu.")
            _retry_or_goodbye(response, attempt)
            return _twiml(response)
        response.say("Thank you for calling. Goodbye.")
        response.hangup()
        return _twiml(response)

    return app


def _retry_or_goodbye(response: VoiceResponse, attempt: int) -> None:
    if attempt < MAX_ATTEMPTS:
        response.redirect(url_for("menu", attempt=attempt + 1))
    else:
        response.say("Please call again later. Goodbye.")
        response.hangup()


def _twiml(response: VoiceResponse):
    return str(response), 200, {"Content-Type": "text/xml"}
