"""A call as a readable transcript: simulated time, what was heard, what the caller did."""
from __future__ import annotations

from urllib.parse import urlsplit


def _short(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.netloc else url


MASK = "•"


def masked(event: dict) -> dict:
    """``event`` with the keys of a sensitive Gather (the app marked it) replaced by dots."""
    if not event.get("sensitive"):
        return event
    return {k: (MASK * len(v) if k in ("digits", "pressed", "dropped") and isinstance(v, str) else v)
            for k, v in event.items()}


def describe(event: dict) -> tuple[str, str]:
    """(label, detail) for one event."""
    verb = event["verb"]
    if verb == "Say":
        label = f"Say [{event.get('language', 'en-US')}]" + (" (Twilio)" if event.get("source") == "twilio" else "")
        return label, event.get("text", "") + (f"  (x{event['loop']})" if event.get("loop") else "")
    if verb == "Play":
        if "digits" in event:
            return "Play", f"tones {event['digits']}"
        text = event.get("text")
        return "Play", (f"{text}  <{_short(event['url'])}>" if text else event.get("url", ""))
    if verb == "Gather":
        if "speech" in event:
            sure = event.get("confidence")
            return "Caller", f"says {event['speech']!r}" + (f" (confidence {sure:g})" if sure is not None else "")
        if event.get("digits"):
            extra = " (then waited out the timeout)" if event.get("timed_out") else ""
            extra += f" (dropped {event['dropped']})" if event.get("dropped") else ""
            return "Caller", f"presses {event['digits']}{extra}"
        if event.get("pressed"):
            return "Caller", f"presses only {event['pressed']}: no input"
        if event.get("ignored"):
            return "Caller", f"{event['ignored']} not accepted by this Gather: no input"
        return "Caller", "silence (timeout)"
    if verb == "Record":
        if event.get("empty"):
            return "Record", "nothing recorded"
        said = f" saying {event['speech']!r}" if event.get("speech") else ""
        key = f", ended with {event['digits']}" if event.get("digits") else ""
        return "Record", f"{event['duration']} s{said}{key}"
    if verb == "Beep":
        return "Beep", "(recording starts)"
    if verb == "Pause":
        return "Pause", f"{event['length']} s"
    if verb == "Redirect":
        return "Redirect", f"{event['method']} {_short(event['url'])}"
    if verb == "Dial":
        return "Dial", f"{', '.join(event['to'])}: {event['status']}"
    if verb == "Enqueue":
        result = f": {event['result']}" if event.get("result") else ""
        return "Enqueue", f"{event['queue']} (position {event['position']}){result}"
    if verb in ("Error", "Warning"):
        where = f" <{_short(event['url'])}>" if event.get("url") else ""
        return f"{verb} {event['code']}", event["message"] + where
    if verb == "Hangup":
        return "Hangup", "by the caller" if event.get("by") == "caller" else "by the app"
    if verb == "Reject":
        return "Reject", event["reason"]
    if verb == "Guard":
        return "Guard", event["message"]
    if event.get("simulated") is False:
        return verb, "(not simulated; skipped)"
    return verb, ""


def format_call(call, verbose: bool = False, show_secrets: bool = False) -> str:
    """The transcript; keys typed at sensitive Gathers are masked unless ``show_secrets``."""
    s = call.ctx.settings
    lines = [f"Call {call.sid} from {s.caller} to {s.called} ({s.method} {s.url})"]
    rows = [(index, 1, e) for index, e in enumerate(call.events)]
    if verbose:
        rows += [(position, 0, r) for position, r in zip(call.ctx.request_positions, call.requests)]
    for _, kind, item in sorted(rows, key=lambda row: (row[0], row[1])):
        at = item["at"]
        if kind == 0:
            status = item["status"] if item["status"] is not None else f"error {item.get('code')}"
            lines.append(f"{at:8.1f}s  {'->':<14} {item['method']} {_short(item['url'])} -> {status} "
                         f"({item['ms']:.1f} ms)")
            continue
        label, detail = describe(item if show_secrets else masked(item))
        lines.append(f"{at:8.1f}s  {label:<14} {detail}")
    if call.ended:
        lines.append(f"Ended: {call.status}, by {call.ended_by}, after {call.duration:.1f} s")
    else:
        lines.append("(call in progress)")
    return "\n".join(lines)
