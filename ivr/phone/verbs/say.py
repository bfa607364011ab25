"""<Say>: text read aloud in a language and voice, ``loop`` times."""
from __future__ import annotations

from ivr.phone.outcomes import CONTINUE
from ivr.phone.verbs import base


class Say:
    def iterations(self, ctx, element, doc):
        """Plays one loop at a time, yielding after each: a Gather may be barged in between."""
        text = base.text_of(element)
        language = element.get("language") or "en-US"
        count = base.loops(ctx, element)
        fields = {"text": text, "language": language}
        if element.get("voice"):
            fields["voice"] = element.get("voice")
        if count != 1:
            fields["loop"] = count
        event = ctx.emit("Say", **fields, duration=0.0)
        sound = ctx.voice.say(text, language)
        for _ in range(count):
            event["duration"] = round(event["duration"] + ctx.play(sound), 3)
            yield

    def run(self, ctx, element, doc, scope):
        ctx.answer()
        for _ in self.iterations(ctx, element, doc):
            pass
        return CONTINUE
