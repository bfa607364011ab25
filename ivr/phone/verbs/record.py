"""<Record>, simulated: the caller's answer decides what was recorded.

``say:TEXT``: the caller speaks TEXT, then silence ends the recording after ``timeout``;
digits: the caller talks for a few seconds, then presses the first key (it ends the
recording if it is in ``finishOnKey``, default any key); ``say+hangup:TEXT``: the caller speaks
TEXT and hangs up (the action still gets the recording, with Digits=hangup, and nobody hears its
answer); ``_``: nothing is said, the recording
is empty and, as on Twilio, the action is skipped and the next verb runs.
A finished recording posts RecordingUrl, RecordingDuration, RecordingSid (and Digits) to the
action (default: the current document); the recordingStatusCallback and transcribeCallback
are asynchronous (``ivr.phone.callbacks``): they arrive after the action's request.
"""
from __future__ import annotations

import uuid

from ivr.phone import callbacks, clock
from ivr.phone.outcomes import CONTINUE, End, Listen, Navigate
from ivr.phone.verbs import base

ANY_KEY = "1234567890*#"


class Record:
    def run(self, ctx, element, doc, scope):
        ctx.answer()
        action = ctx.resolve(element.get("action") or doc.url, doc)
        method = base.method(ctx, element)
        timeout = base.integer(ctx, element, "timeout", 5)
        finish_on_key = element.get("finishOnKey", ANY_KEY)
        max_length = base.integer(ctx, element, "maxLength", 3600, minimum=1)
        if base.boolean(ctx, element, "playBeep", True):
            ctx.emit("Beep")
            ctx.play(ctx.voice.beep())
        answer = yield Listen("record", final=True, heard_all=True, gather_start=len(ctx.events),
                              accepts=frozenset({"dtmf", "speech"}))
        if answer is None or answer.silent:
            ctx.wait(timeout)
            ctx.emit("Record", duration=0, empty=True)
            return CONTINUE
        if answer.hangup and answer.speech is None:
            return End("caller")
        params: dict[str, str] = {}
        if answer.speech is not None:
            talk = min(max_length, ctx.play(ctx.voice.say(answer.speech, "en-US")))
            if answer.hangup:  # speak, then hang up: Twilio keeps the recording, Digits=hangup
                params["Digits"] = "hangup"
            else:
                ctx.wait(timeout)
        else:
            talk = min(max_length, clock.RECORD_TALK_SECONDS)
            ctx.wait(talk)
            key = answer.digits[0]
            if key in finish_on_key:
                ctx.play(ctx.voice.keys(key))
                params["Digits"] = key
            else:
                ctx.wait(timeout)
        sid = "RE" + uuid.uuid4().hex
        url = f"https://api.twilio.com/2010-04-01/Accounts/{ctx.settings.account_sid}/Recordings/{sid}"
        duration = str(max(1, round(talk)))
        params.update(RecordingUrl=url, RecordingDuration=duration, RecordingSid=sid)
        fields = {"duration": int(duration), "url": url}
        if answer.speech is not None:
            fields["speech"] = answer.speech
        if "Digits" in params:
            fields["digits"] = params["Digits"]
        ctx.emit("Record", **fields)
        status_url = element.get("recordingStatusCallback")
        if status_url:  # asynchronous (ivr.phone.callbacks): after the action's request
            ctx.schedule("recording", ctx.resolve(status_url, doc),
                         base.method(ctx, element, "recordingStatusCallbackMethod"), ctx.params(
                             RecordingSid=sid, RecordingUrl=url, RecordingStatus="completed",
                             RecordingDuration=duration, RecordingChannels="1", RecordingSource="RecordVerb"),
                         delay=callbacks.RECORDING_DELAY)
        transcribe_url = element.get("transcribeCallback")
        if transcribe_url:
            ctx.schedule("transcription", ctx.resolve(transcribe_url, doc), "POST", ctx.params(
                RecordingUrl=url, RecordingSid=sid, TranscriptionSid="TR" + uuid.uuid4().hex,
                TranscriptionText=answer.speech or "", TranscriptionType="fast",
                TranscriptionUrl=f"https://api.twilio.com/2010-04-01/Accounts/{ctx.settings.account_sid}"
                                 f"/Recordings/{sid}/Transcriptions",
                TranscriptionStatus="completed" if answer.speech else "failed"), delay=callbacks.TRANSCRIBE_DELAY)
        if answer.hangup:
            # The caller is gone: Twilio still requests the action, and nobody hears its answer.
            ctx.callback(action, method, ctx.params(**params))
            return End("caller")
        return Navigate(action, method, params)
