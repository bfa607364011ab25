"""<Play>: an audio file fetched from a URL, or DTMF tones (``digits``), ``loop`` times."""
from __future__ import annotations

import re

from ivr.phone.verbs import base
from ivr.phone.verbs.prompt import Prompt

_PLAY_DIGITS = re.compile(r"[0-9A-Da-d*#wW]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


class Play(Prompt):
    def start(self, ctx, element, doc, count):
        digits = element.get("digits")
        if digits is not None:
            if not _PLAY_DIGITS.fullmatch(digits):
                ctx.warn(f"<Play digits={digits!r}>: only 0-9, A-D, *, #, w and W are allowed")
                return None
            event = ctx.emit("Play", digits=digits, duration=0.0)
            sound = ctx.voice.play_digits(digits)
        else:
            url = base.text_of(element)
            if not url:
                ctx.warn("<Play> has no URL")
                return None
            url = ctx.resolve(url, doc)
            data, text = ctx.fetch_audio(url)
            if data is None:
                return None  # the fetch failed: Twilio skips the file and carries on
            fields = {"url": url}
            if text:
                fields["text"] = text
            event = ctx.emit("Play", **fields, duration=0.0)
            sound = ctx.voice.play(data, text, "zh-CN" if text and _CJK.search(text) else "en-US")
        if count != 1:
            event["loop"] = count
        return event, sound
