"""<Gather>: prompts nested inside play while the caller may answer with keys or speech.

Twilio's rules kept here: action defaults to the current document URL, method POST, timeout 5
(counted after the prompts end, and again after each key), finishOnKey ``#`` (``''`` disables
it, and it is never part of Digits), numDigits unlimited, input ``dtmf``. A key during a nested
prompt skips the rest of the prompts. No input (or only the finish key) falls through to the
next verb, unless actionOnEmptyResult="true", in which case the action is requested without
Digits.
"""
from __future__ import annotations

from ivr.phone import clock, errors
from ivr.phone.keys import DEFAULT_CONFIDENCE, DTMF_KEYS, SILENCE
from ivr.phone.outcomes import CONTINUE, End, Listen, Navigate
from ivr.phone.verbs import base
from ivr.phone.verbs.pause import Pause
from ivr.phone.verbs.play import Play
from ivr.phone.verbs.say import Say

NESTED = {"Say": Say(), "Play": Play(), "Pause": Pause()}


class Gather:
    def run(self, ctx, element, doc, scope):
        ctx.answer()
        spec = _Spec(ctx, element, doc)
        start = len(ctx.events)
        nested = [child for child in element if child.tag in NESTED]
        # Anything else nested was reported (12200) when the document was parsed, and is skipped.
        answer = None
        for index, child in enumerate(nested):
            for _ in NESTED[child.tag].iterations(ctx, child, doc):
                answer = yield Listen("gather", final=False, heard_all=index == len(nested) - 1,
                                      gather_start=start, accepts=spec.accepts)
                if answer is not None:
                    break
            if answer is not None:
                break
        if answer is None:
            answer = yield Listen("gather", final=True, heard_all=True, gather_start=start, accepts=spec.accepts)
        return spec.collect(answer or SILENCE)


class _Spec:
    def __init__(self, ctx, element, doc):
        self.ctx = ctx
        self.sensitive = getattr(doc, "sensitive", False)
        self.action = ctx.resolve(element.get("action") or doc.url, doc)
        self.method = base.method(ctx, element)
        self.timeout = base.integer(ctx, element, "timeout", 5)
        self.num_digits = base.integer(ctx, element, "numDigits", None, minimum=1)
        self.finish_on_key = element.get("finishOnKey", "#")
        if self.finish_on_key not in ("",) + tuple(DTMF_KEYS):
            ctx.warn(f"<Gather finishOnKey={self.finish_on_key!r}> must be one of 0-9, #, * or empty; using '#'",
                     code=errors.GATHER_BAD_FINISH_ON_KEY)
            self.finish_on_key = "#"
        self.accepts = frozenset(element.get("input", "dtmf").split()) or frozenset({"dtmf"})
        if not self.accepts <= {"dtmf", "speech"}:
            ctx.warn(f"<Gather input={element.get('input')!r}> must be dtmf, speech or 'dtmf speech'")
            self.accepts = frozenset({"dtmf"})
        self.language = element.get("language") or "en-US"
        speech_timeout = element.get("speechTimeout", "auto")
        self.speech_end = clock.SPEECH_END_SECONDS if speech_timeout == "auto" else \
            base.integer(ctx, element, "speechTimeout", self.timeout)
        self.on_empty = base.boolean(ctx, element, "actionOnEmptyResult", False, code=errors.GATHER_BAD_ACTION_ON_EMPTY)

    def collect(self, answer):
        ctx = self.ctx
        if answer.hangup:
            return End("caller")
        if answer.speech is not None and "speech" in self.accepts:
            return self._speech(answer.speech, answer.confidence)
        if answer.speech is not None:
            # Twilio does not listen to a dtmf-only Gather: the words are lost, and the phone says so.
            ctx.warn(f"the caller spoke ({answer.speech[:40]!r}) but <Gather input="
                     f"{' '.join(sorted(self.accepts))!r}> does not accept speech: no input",
                     code=errors.SPEECH_NOT_ACCEPTED)
        ignored = str(answer) if not answer.silent and not (answer.digits and "dtmf" in self.accepts) else None
        if answer.digits and "dtmf" in self.accepts:
            return self._digits(answer.digits)
        return self._empty(timed_out=True, ignored=ignored)

    def _speech(self, text, confidence=None):
        ctx = self.ctx
        ctx.wait(clock.REACTION_SECONDS)
        ctx.play(ctx.voice.say(text, self.language))  # the caller's own voice on the recording
        ctx.wait(self.speech_end)
        ctx.emit("Gather", digits="", speech=text,
                 confidence=confidence if confidence is not None else DEFAULT_CONFIDENCE)
        return Navigate(self.action, self.method,
                        {"SpeechResult": text, "Confidence": f"{confidence if confidence is not None else DEFAULT_CONFIDENCE:g}",
                         "msg": "Gather End"})

    def _digits(self, keys):
        ctx = self.ctx
        digits, pressed, finished = "", "", False
        for key in keys:
            pressed += key
            if self.finish_on_key and key == self.finish_on_key:
                finished = True
                break
            digits += key
            if self.num_digits and len(digits) >= self.num_digits:
                finished = True
                break
        ctx.wait(clock.REACTION_SECONDS)
        ctx.play(ctx.voice.keys(pressed))
        if not finished:
            ctx.wait(self.timeout)
        dropped = keys[len(pressed):] or None  # Twilio does not buffer keys for the next Gather
        if not digits:
            return self._empty(timed_out=False, pressed=pressed, dropped=dropped)
        fields = {"digits": digits}
        if self.sensitive:
            fields["sensitive"] = True
        if dropped:
            fields["dropped"] = dropped
        if not finished:
            fields["timed_out"] = True
        ctx.emit("Gather", **fields)
        return Navigate(self.action, self.method, {"Digits": digits, "msg": "Gather End"})

    def _empty(self, timed_out, ignored=None, pressed=None, dropped=None):
        ctx = self.ctx
        if timed_out:
            ctx.wait(self.timeout)
        fields = {"digits": ""}
        if self.sensitive:
            fields["sensitive"] = True
        if timed_out:
            fields["timed_out"] = True
        if pressed:
            fields["pressed"] = pressed
        if ignored:
            fields["ignored"] = ignored  # speech to a dtmf-only Gather, keys to a speech-only one
        if dropped:
            fields["dropped"] = dropped
        ctx.emit("Gather", **fields)
        if self.on_empty:
            return Navigate(self.action, self.method, {"msg": "Gather End"})
        return CONTINUE
