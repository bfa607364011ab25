"""What the page sees of a call: its saved data (``ivr.phone.snapshot``) as the JSON the page draws
(who spoke, in which language, the audio to play, what the call waits for)."""
from __future__ import annotations

import re
from typing import Callable
from urllib.parse import urlsplit

from flask import url_for

from ivr.phone.transcript import describe


def call_view(call_id: str, data: dict, since: int = 0, *, origin: Callable[[], str]) -> dict:
    """The call from event ``since`` on. ``origin()``: where the hotline's own ``<Play>`` prompts
    are served (those the page may fetch from ``/audio``)."""
    events = data["events"]
    ended = data["ended"]
    duration = 0.0
    if data.get("answered_at") is not None:
        duration = round(data["clock"] - data["answered_at"], 1)
    return {
        "id": call_id,
        "status": ended["status"] if ended else "in-progress",
        "ended": bool(ended),
        "ended_by": ended["by"] if ended else None,
        "duration": duration,
        "languages": languages(events),
        "events": [event_view(call_id, n, events[n], origin) for n in range(max(since, 0), len(events))],
        "count": len(events),
        "waiting": waiting(data),
    }


def languages(events: list[dict]) -> list[str]:
    """The languages of the prompts heard since the caller last answered (the language menu
    speaks two), in order."""
    found: list[str] = []
    for n in range(len(events) - 1, -1, -1):
        if events[n]["verb"] in ("Gather", "Record") and found:
            break
        view = heard(events[n])
        if view and view[1] not in found:
            found.insert(0, view[1])
    return found


def heard(event: dict) -> tuple[str, str] | None:
    """(text, language) of a prompt, None for anything else."""
    if event["verb"] == "Say":
        from ivr.phone.voice import tts_language

        return event.get("text", ""), tts_language(event.get("language") or "en-US")
    if event["verb"] == "Play" and "url" in event:
        text = event.get("text") or ""
        match = re.match(r"^/audio/([A-Za-z]{2,3}-[A-Za-z0-9]{2,8})/", urlsplit(event["url"]).path)
        lang = match.group(1) if match else ("zh-CN" if re.search(r"[\u3400-\u9fff]", text) else "en-US")
        return text, lang
    return None


def event_view(call_id: str, n: int, event: dict, origin: Callable[[], str]) -> dict:
    from ivr.phone.transport import origin as origin_of

    verb = event["verb"]
    label, detail = describe(event)
    item = {"n": n, "verb": verb, "at": event.get("at", 0.0), "label": label, "text": detail,
            "who": "system", "duration": event.get("duration", 0.0)}
    prompt = heard(event)
    if prompt is not None:
        item.update(who="hotline", text=prompt[0], lang=prompt[1])
        if verb == "Say" and prompt[0].strip():
            item["audio"] = url_for("phone_page.speech", call_id=call_id, n=n)
        elif verb == "Play" and origin_of(event["url"]) == origin():
            parts = urlsplit(event["url"])
            item["audio"] = parts.path + (f"?{parts.query}" if parts.query else "")
    elif verb in ("Gather", "Record"):
        item["who"] = "caller"
    elif verb == "Play":  # tones
        item["who"] = "hotline"
    if verb in ("Error", "Guard"):
        item["who"] = "error"
    return item


def number(value, default, minimum=0):
    """``value`` as a whole number of at least ``minimum``, else ``default``."""
    try:
        whole = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return whole if whole >= minimum else default


def waiting(data: dict) -> dict | None:
    """What the page needs to collect the caller's answer like the phone would."""
    from ivr.phone.snapshot import waiting_verb

    verb = waiting_verb(data)
    if verb is None:
        return None
    since = data["waiting"]["gather_start"]
    if verb.tag == "Record":
        return {"kind": "record", "finishOnKey": verb.get("finishOnKey", "1234567890*#"),
                "timeout": number(verb.get("timeout"), 5), "since": since}
    finish = verb.get("finishOnKey", "#")
    return {"kind": "gather", "numDigits": number(verb.get("numDigits"), None, 1),
            "finishOnKey": finish if finish in ("",) + tuple("0123456789*#") else "#",
            "timeout": number(verb.get("timeout"), 5), "input": verb.get("input", "dtmf"), "since": since}
