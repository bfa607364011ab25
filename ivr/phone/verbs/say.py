"""<Say>: text read aloud in a language and voice, ``loop`` times."""
from __future__ import annotations

from ivr.phone import say_voices
from ivr.phone.verbs import base
from ivr.phone.verbs.prompt import Prompt


class Say(Prompt):
    def start(self, ctx, element, doc, count):
        text = base.text_of(element)
        language = element.get("language") or "en-US"
        fields = {"text": text, "language": language}
        if element.get("voice"):
            fields["voice"] = element.get("voice")
        problem = say_voices.problem(element.get("voice"), language)
        if problem:  # Twilio documents voice/language pairs; another pair may fail the <Say>
            ctx.warn(f"<Say voice={element.get('voice') or 'man'!r} language={language!r}>: {problem}; "
                     "Twilio may fail this <Say>")
        if count != 1:
            fields["loop"] = count
        event = ctx.emit("Say", **fields, duration=0.0)
        return event, ctx.voice.say(text, language)
