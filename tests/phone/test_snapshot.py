"""ivr.phone.snapshot: a call saved at an input point and carried on elsewhere does what the
uninterrupted call does."""
from __future__ import annotations

import json

import pytest
from werkzeug.wrappers import Response

from ivr.phone import Call, Phone
from ivr.phone.context import CallContext
from ivr.phone.errors import ResumeError
from ivr.phone.snapshot import SnapshotError, restore, settle, snapshot, waiting_verb
from ivr.phone.targets import app_phone
from tests.conftest import OUT_OF_HOURS, make_app
from ivr.phone.voice import Voice
from tests.phone.apps import ScriptedApp, twiml, wav_bytes
from tests.web.conftest import DEMO_ID, DEMO_PASSWORD, seeded_app


def stepwise(phones, keys, **dial):
    """Answer each input point with the next key, saving the call (through JSON) and restoring
    it on the next phone in turn after every step: one process per request."""
    call = phones[0].dial(**dial)
    settle(call)
    data = json.loads(json.dumps(snapshot(call)))
    for i, key in enumerate(list(keys) + ["hangup"]):   # like Call.run: hang up when the keys run out
        if data["ended"]:
            break
        call = restore(phones[(i + 1) % len(phones)], data)
        call.press(key)
        settle(call)
        data = json.loads(json.dumps(snapshot(call)))
    return data


def summary(events):
    """What the caller heard and did, in order, without clock times."""
    out = []
    for e in events:
        if e["verb"] in ("Say", "Play"):
            out.append((e["verb"], e.get("text") or e.get("url")))
        elif e["verb"] in ("Gather", "Record", "Dial", "Hangup", "Redirect"):
            out.append((e["verb"], e.get("digits"), e.get("timed_out"), e.get("url"), e.get("status")))
    return out


SCRIPTS = [
    ["2", "3", "1", "9", "*", "4", "2"],
    ["1", "1", DEMO_ID + "#", DEMO_PASSWORD + "#", "1", "2", "3", "*"],
    ["2", "7", "_", "8", "_", "_", "_"],               # invalid keys and silences to offer_agent, then hang-up
    ["_", "1", "12345#", "_", "1"],                     # silence keeps Mandarin; a short ID number
    ["2", "0"],                                        # an agent (in hours): <Dial>
]


@pytest.mark.parametrize("keys", SCRIPTS, ids=lambda keys: " ".join(keys)[:30])
def test_a_restored_call_does_what_the_uninterrupted_call_does(tmp_path, keys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    straight_app = seeded_app(tmp_path / "a")
    straight = app_phone(straight_app).run(keys)
    # Two "processes" (apps) on one database, taking turns.
    app = seeded_app(tmp_path / "b")
    other = make_app(tmp_path / "b")
    data = stepwise([app_phone(app), app_phone(other)], keys)
    assert summary(data["events"]) == summary(straight.events)
    # Same simulated clock and webhooks too: the replay adds no time, sound or request.
    assert [e["at"] for e in data["events"]] == [e["at"] for e in straight.events]
    assert [(r["method"], r["url"]) for r in data["requests"]] == [(r["method"], r["url"]) for r in straight.requests]
    assert data["ended"] == {"by": straight.ended_by, "status": straight.status}
    for a in (straight_app, app, other):
        a.extensions["ivr_db"].dispose()


def test_a_voicemail_recording_is_carried_on(tmp_path):
    app = seeded_app(tmp_path, NOW=OUT_OF_HOURS)
    phone = app_phone(app)
    call = phone.dial()
    for key in ["2", "0"]:               # English, an agent: closed, so the voicemail menu
        call.press(key)
        settle(call)
    call.press("1")                      # record a message
    settle(call)
    data = json.loads(json.dumps(snapshot(call)))
    assert data["waiting"]["kind"] == "record"
    assert waiting_verb(data).tag == "Record"
    restored = restore(phone, data)
    restored.press("#")
    settle(restored)
    assert restored.status == "completed" and restored.ended_by == "app"
    assert any(e["verb"] == "Record" and e["duration"] > 0 for e in restored.events)
    assert "message" in restored.heard[-1].lower() or "留言" in restored.heard[-1]


def test_the_replay_fetches_nothing_and_plays_nothing(tmp_path):
    """A Gather whose prompts are <Play> files: restoring it neither fetches them again nor adds
    their time; the answer then goes where the Gather says."""
    app = ScriptedApp({
        "/voice": twiml('<Gather numDigits="2" action="/two" timeout="3"><Play>/tone.wav</Play>'
                        '<Say>Two digits.</Say></Gather><Say>Nothing?</Say>'),
        "/tone.wav": lambda req: Response(wav_bytes(1.5), content_type="audio/wav"),
        "/two": lambda req: twiml(f"<Say>Got {req.form.get('Digits')}.</Say><Hangup/>"),
    })
    phone = Phone(app=app)
    call = phone.dial()
    settle(call)
    data = json.loads(json.dumps(snapshot(call)))
    before = list(app.paths())
    restored = restore(Phone(app=app), data)
    assert app.paths() == before                      # nothing fetched by the replay
    assert restored.events == data["events"]          # nothing heard twice
    restored.press("42")
    settle(restored)
    assert app.paths()[len(before):] == ["/two"]
    assert restored.heard[-1] == "Got 42."
    assert restored.ctx.clock.now > data["clock"]


def test_silence_at_a_restored_gather_runs_on_to_the_next_verb(tmp_path):
    app = ScriptedApp({"/voice": twiml('<Gather numDigits="1" action="/x"><Say>Press a key.</Say></Gather>'
                                       '<Say>Nothing pressed.</Say><Hangup/>')})
    call = Phone(app=app).dial()
    settle(call)
    restored = restore(Phone(app=app), json.loads(json.dumps(snapshot(call))))
    restored.silence()
    settle(restored)
    assert restored.heard[-1] == "Nothing pressed." and restored.ended_by == "app"


def test_the_auth_token_is_not_saved_and_the_restoring_phone_signs(tmp_path):
    app = seeded_app(tmp_path, TWILIO_AUTH_TOKEN="tok-123")   # unsigned webhooks get 403
    call = app_phone(app).dial()
    settle(call)
    data = snapshot(call)
    assert "tok-123" not in json.dumps(data)
    restored = restore(app_phone(app), data)
    restored.press("2")
    settle(restored)
    assert restored.errors == [] and "For your personal account" in restored.heard[-1]


def test_what_cannot_be_saved_or_restored(tmp_path):
    app = ScriptedApp({"/voice": twiml('<Gather numDigits="1"><Say>One.</Say><Say>Two.</Say></Gather>')})
    call = Phone(app=app).dial()
    assert not call.waiting.final
    with pytest.raises(SnapshotError, match="settle"):
        snapshot(call)
    settle(call)
    data = snapshot(call)
    with pytest.raises(SnapshotError, match="version"):
        restore(Phone(app=app), {**data, "version": 99})
    call.hangup()
    ended = snapshot(call)
    assert ended["ended"] == {"by": "caller", "status": "completed"} and ended["waiting"] is None
    with pytest.raises(SnapshotError, match="ended"):
        restore(Phone(app=app), ended)


# -- the phone's own hooks, without snapshot's JSON --------------------------------------------
def _menu_app():
    return ScriptedApp({
        "/voice": twiml('<Gather numDigits="1" action="/menu"><Play loop="2">/hello.wav</Play>'
                        '<Say>Press 1 or 2.</Say></Gather><Say>Nothing?</Say>'),
        "/hello.wav": lambda req: Response(wav_bytes(0.5), content_type="audio/wav"),
        "/menu": lambda req: twiml(f'<Say>You chose {req.form.get("Digits")}.</Say>'
                                   '<Gather finishOnKey="#" action="/done"><Say loop="2">Your number, then hash.</Say>'
                                   '</Gather><Say>No number.</Say>'),
        "/done": lambda req: twiml(f'<Say>Number {req.form.get("Digits")}.</Say><Hangup/>'),
    })


def _resumed(phone, state, point):
    """A fresh CallContext holding ``state``, and a fresh Call carrying on from ``point``."""
    ctx = CallContext(phone.settings, phone.transport(), Voice(False, phone.tts),
                      audio_cache=phone.audio_cache, queues=phone.queues)
    ctx.restore_state(state)
    return Call(ctx, resume_from=point)


@pytest.mark.parametrize("rest", [["42#"], ["_"], ["hangup"]])
def test_resume_point_and_export_state_carry_a_call_on(rest):
    app = _menu_app()
    straight = Phone(app=app).dial()               # the same steps, never saved
    straight.press("2")
    straight.settle()
    straight.run(rest)
    original = Phone(app=app).dial()
    original.press("2")
    assert original.settle().final
    state = json.loads(json.dumps(original.ctx.export_state()))
    point = original.resume_point()
    assert point.verbs[0].tag == "Gather" and point.url == "http://localhost/menu"
    assert point.gather_start == len(state["events"]) - 1  # "You chose 2." came first
    fetched = len(app.seen)
    resumed = _resumed(Phone(app=app), state, point)
    assert len(app.seen) == fetched and resumed.events == state["events"]  # the replay is unnoticed
    assert resumed.waiting.final and resumed.sid == original.sid
    resumed.run(rest)
    original.run(rest)
    assert resumed.transcript == original.transcript
    assert resumed.transcript.replace(resumed.sid, "CA") == straight.transcript.replace(straight.sid, "CA")
    assert resumed.to_dict()["events"] == original.to_dict()["events"]


def test_a_resumed_call_can_be_resumed_again():
    app = _menu_app()
    call = Phone(app=app).dial()
    call.settle()
    for key in ["1", "7#"]:
        call = _resumed(Phone(app=app), json.loads(json.dumps(call.ctx.export_state())), call.resume_point())
        call.press(key)
        call.settle()
    assert call.ended_by == "app" and call.heard[-1] == "Number 7."
    assert call.heard == Phone(app=app).run(["1", "7#"]).heard


def test_resume_point_refuses_what_cannot_be_carried_on():
    app = ScriptedApp({
        "/voice": twiml('<Gather numDigits="1"><Say>One.</Say><Say>Two.</Say></Gather>'),
        "/queue": twiml('<Enqueue waitUrl="/wait">q</Enqueue>'),
        "/wait": twiml('<Gather numDigits="1"><Say>Hold, or press 1.</Say></Gather>'),
    })
    call = Phone(app=app).dial()
    with pytest.raises(ResumeError, match="settle"):
        call.resume_point()
    queued = Phone(app=app, url="http://localhost/queue").dial()
    assert queued.settle().final
    with pytest.raises(ResumeError, match="Enqueue"):
        queued.resume_point()
    call.hangup()
    with pytest.raises(ResumeError, match="ended"):
        call.resume_point()
