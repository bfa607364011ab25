"""/phone over HTTP: dialling, keys, hanging up, the call log it leaves, masking, and calls that
move between server processes."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select, update

from ivr.hotline.models import Call, PhoneCall
from ivr.phone.targets import app_phone
from ivr.web.softphone.store import ABANDON_SECONDS, KEEP_SECONDS
from tests.conftest import OUT_OF_HOURS, make_app
from tests.web.conftest import DEMO_ID, DEMO_PASSWORD, seeded_app

LOGIN = ["2", "1", DEMO_ID + "#", DEMO_PASSWORD + "#", "1"]


def dial(client):
    response = client.post("/phone/calls", json={})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def press(client, call, keys, status=200):
    response = client.post(f"/phone/calls/{call['id']}/keys", json={"keys": keys})
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def texts(view):
    return [e["text"] for e in view["events"] if e["who"] == "hotline"]


def rows(app, model):
    with app.extensions["ivr_db"].Session() as s:
        return s.execute(select(model)).scalars().all()


def test_the_page_is_served_with_its_keypad(web_client):
    response = web_client.get("/phone")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for label in ["Star", "Pound (hash)", "Call 12333", "Hang up", "Keypad"]:
        assert label in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert web_client.get("/static/js/phone.js").status_code == 200


def test_dialling_answers_with_the_first_menu_and_what_it_waits_for(web_client):
    view = dial(web_client)
    assert view["status"] == "in-progress" and not view["ended"]
    assert any("欢迎致电12333" in t for t in texts(view))
    assert "For English, press 2." in texts(view)
    assert view["languages"] == ["zh-CN", "en-US"]
    assert view["waiting"] == {"kind": "gather", "numDigits": 1, "finishOnKey": "", "timeout": 4,
                               "input": "dtmf", "since": 0}
    say = [e for e in view["events"] if e["verb"] == "Say"]
    assert all(e["audio"] == f"/phone/calls/{view['id']}/speech/{e['n']}.wav" for e in say)
    assert [e["lang"] for e in say] == ["zh-CN", "en-US", "zh-CN", "en-US"]
    shown = web_client.get(f"/phone/calls/{view['id']}").get_json()
    assert shown["events"] == view["events"]


def test_dialling_needs_a_json_request(web_client):
    assert web_client.post("/phone/calls", data={"x": "1"}).status_code == 415


def test_the_softphone_can_be_switched_off(tmp_path):
    app = make_app(tmp_path, SOFTPHONE=False)
    client = app.test_client()
    assert client.get("/phone").status_code == 404
    assert client.post("/phone/calls", json={}).status_code == 404


def test_a_call_reaches_the_balance_and_nothing_secret_is_kept(web_app, web_client):
    view = dial(web_client)
    steps = [press(web_client, view, key) for key in LOGIN]
    assert "Please enter your 18 digit ID number" in texts(steps[1])[-1]
    assert steps[1]["waiting"]["finishOnKey"] == "#" and steps[1]["waiting"]["numDigits"] is None
    assert steps[2]["events"][0]["text"] == "presses " + "•" * 18
    assert steps[3]["events"][0]["text"] == "presses " + "•" * 6
    assert "1,234 yuan 56 fen" in " ".join(texts(steps[4]))
    assert steps[4]["languages"] == ["en-US"]
    # Each answer returns only what happened since.
    assert steps[4]["events"][0]["n"] == steps[3]["count"]

    for where in [json.dumps(steps), json.dumps([r.snapshot for r in rows(web_app, PhoneCall)]),
                  json.dumps([r.state for r in rows(web_app, Call)])]:
        assert DEMO_ID not in where and DEMO_PASSWORD not in where


def test_the_call_log_records_a_browser_call_with_its_path_and_duration(web_app, web_client):
    view = dial(web_client)
    for key in LOGIN:
        press(web_client, view, key)
    ended = web_client.post(f"/phone/calls/{view['id']}/hangup").get_json()
    assert ended["ended"] and ended["ended_by"] == "caller" and ended["waiting"] is None
    assert ended["events"][-1]["verb"] == "Hangup"
    [logged] = rows(web_app, Call)
    assert logged.state["path"] == ["language", "main", "account"]
    assert logged.state["keys"] == ["2", "1", "•" * 18, "•" * 6, "1"]
    assert logged.outcome == "abandoned"               # the caller hung up (Twilio's status callback)
    # One clock: the wall's. The log's duration is the one the page showed (the test takes a
    # second or so, not the minute the prompts would take on a simulated clock).
    assert logged.ended_at is not None and abs(logged.duration - ended["duration"]) <= 1
    assert logged.duration < 60
    assert logged.caller.startswith("+86170****") and len(logged.caller) == 14
    # The number is made up from the browser's address: the same address, the same number.
    again = dial(web_client)
    web_client.post(f"/phone/calls/{again['id']}/hangup")
    assert len({c.caller for c in rows(web_app, Call)}) == 1
    other = web_app.test_client()
    other_call = other.post("/phone/calls", json={}, environ_base={"REMOTE_ADDR": "10.1.2.3"}).get_json()
    other.post(f"/phone/calls/{other_call['id']}/hangup")
    assert len({c.caller for c in rows(web_app, Call)}) == 2
    # Hanging up again changes nothing.
    repeat = web_client.post(f"/phone/calls/{view['id']}/hangup")
    assert repeat.status_code == 200 and repeat.get_json()["events"] == []


def test_silence_times_out_and_the_hotline_hangs_up(web_app, web_client):
    view = dial(web_client)
    press(web_client, view, "2")
    for _ in range(3):                                  # three silences in the main menu: offer an agent
        step = press(web_client, view, "_")
    assert "To speak to an agent, press 0" in texts(step)[-1]
    last = press(web_client, view, "_")                 # silence again: goodbye
    assert last["ended"] and last["ended_by"] == "app" and last["waiting"] is None
    assert any(e["text"] == "silence (timeout)" for e in last["events"])
    [logged] = rows(web_app, Call)
    assert logged.outcome == "timeout" and logged.state["stats"]["main"] == {"timeout": 3}
    assert press(web_client, view, "1")["events"] == []   # keys after the end are ignored


def test_an_agent_out_of_hours_takes_a_voicemail(tmp_path):
    app = seeded_app(tmp_path, NOW=OUT_OF_HOURS)
    client = app.test_client()
    view = dial(client)
    press(client, view, "2")
    step = press(client, view, "0")
    assert "press 1" in texts(step)[-1].lower()
    recording = press(client, view, "1")
    assert recording["waiting"]["kind"] == "record"
    done = press(client, view, "#")
    assert done["ended"] and any(e["verb"] == "Record" for e in done["events"])
    [logged] = rows(app, Call)
    assert logged.outcome == "voicemail"


def test_a_call_moves_between_server_processes(tmp_path):
    """Two apps on one database stand for two gunicorn workers: requests alternate between them."""
    first = seeded_app(tmp_path)
    second = make_app(tmp_path, ADMIN_TOKEN="x" * 16)
    clients = [first.test_client(), second.test_client()]
    view = dial(clients[0])
    for i, key in enumerate(LOGIN):
        step = press(clients[(i + 1) % 2], view, key)
    assert "1,234 yuan 56 fen" in " ".join(texts(step))
    straight = app_phone(first).run(LOGIN)
    browser = clients[0].get(f"/phone/calls/{view['id']}").get_json()
    assert [e["text"] for e in browser["events"] if e["who"] == "hotline"] == straight.heard[:len(texts(browser))]
    assert len(rows(first, Call)) == 2                 # the browser call and the straight one
    for app in (first, second):
        app.extensions["ivr_db"].dispose()


def test_one_call_takes_one_request_at_a_time(web_app, web_client):
    view = dial(web_client)
    with web_app.extensions["ivr_db"].Session() as s, s.begin():
        s.execute(update(PhoneCall).where(PhoneCall.id == view["id"]).values(lock="another", locked_at=time.time()))
    busy = web_client.post(f"/phone/calls/{view['id']}/keys", json={"keys": "2"})
    assert busy.status_code == 409
    with web_app.extensions["ivr_db"].Session() as s:   # the hotline never heard the key
        assert s.execute(select(Call.state)).scalar_one()["keys"] == []
    with web_app.extensions["ivr_db"].Session() as s, s.begin():   # a claim whose request died
        s.execute(update(PhoneCall).values(locked_at=time.time() - 3600))
    assert "For your personal account" in texts(press(web_client, view, "2"))[-1]


@pytest.mark.parametrize("body", [{"keys": ""}, {"keys": "12a"}, {"keys": "1" * 65}, {"keys": 1}, {}, None])
def test_bad_keys_are_refused(web_client, body):
    view = dial(web_client)
    response = web_client.post(f"/phone/calls/{view['id']}/keys", json=body)
    assert response.status_code == 400
    assert "keys must be" in response.get_json()["error"]


def test_unknown_calls(web_client):
    assert web_client.get("/phone/calls/nope").status_code == 404
    assert web_client.post("/phone/calls/nope/keys", json={"keys": "1"}).status_code == 404
    assert web_client.post("/phone/calls/nope/hangup").status_code == 404
    assert web_client.get("/phone/calls/nope/speech/0.wav").status_code == 404


def test_say_prompts_are_spoken_by_the_local_tts(web_client):
    view = dial(web_client)
    response = web_client.get(f"/phone/calls/{view['id']}/speech/1.wav")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.data[:4] == b"RIFF" and len(response.data) > 10_000
    assert "private" in response.headers["Cache-Control"]
    again = web_client.get(f"/phone/calls/{view['id']}/speech/1.wav",
                           headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    step = press(web_client, view, "2")
    caller_event = step["events"][0]["n"]
    assert web_client.get(f"/phone/calls/{view['id']}/speech/{caller_event}.wav").status_code == 404
    assert web_client.get(f"/phone/calls/{view['id']}/speech/999.wav").status_code == 404


def test_play_prompts_point_at_the_prompt_audio(tmp_path):
    app = seeded_app(tmp_path, VOICE_MODE="play")
    client = app.test_client()
    view = dial(client)
    plays = [e for e in view["events"] if e["verb"] == "Play"]
    assert plays and all(e["audio"].startswith("/audio/zh-CN/") or e["audio"].startswith("/audio/en-US/")
                         for e in plays)
    assert [e["lang"] for e in plays] == ["zh-CN", "en-US", "zh-CN", "en-US"]
    response = client.get(plays[0]["audio"])
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    step = press(client, view, "2")
    assert all(e["audio"].startswith("/audio/en-US/") for e in step["events"] if e["verb"] == "Play")


def test_abandoned_calls_are_hung_up_and_ended_ones_forgotten(web_app, web_client):
    idle = dial(web_client)
    press(web_client, idle, "2")
    finished = dial(web_client)
    web_client.post(f"/phone/calls/{finished['id']}/hangup")
    long_ago = time.time() - max(ABANDON_SECONDS, KEEP_SECONDS) - 60
    with web_app.extensions["ivr_db"].Session() as s, s.begin():
        s.execute(update(PhoneCall).values(updated_at=long_ago))
    dial(web_client)                                    # the next dial tidies up
    with web_app.extensions["ivr_db"].Session() as s:
        kept = {r.id: r for r in s.execute(select(PhoneCall)).scalars()}
        outcomes = sorted(str(c.outcome) for c in s.execute(select(Call)).scalars())
    assert finished["id"] not in kept
    assert kept[idle["id"]].ended and kept[idle["id"]].snapshot["ended"]["by"] == "caller"
    assert outcomes == ["None", "abandoned", "abandoned"]


def test_a_browser_call_through_gunicorn_workers(tmp_path):
    """The real server: `ivr serve` with three worker processes answering the page's requests."""
    import requests

    from tests.web.conftest import ADMIN_TOKEN, GunicornServer

    server = GunicornServer(tmp_path, workers=3)
    try:
        http = requests.Session()
        response = http.post(server.url + "/phone/calls", json={}, timeout=30)
        assert response.status_code == 201
        view = response.json()
        for key in LOGIN:
            step = http.post(f"{server.url}/phone/calls/{view['id']}/keys", json={"keys": key}, timeout=30)
            assert step.status_code == 200, step.text
        assert "1,234 yuan 56 fen" in " ".join(texts(step.json()))
        speech = http.get(f"{server.url}/phone/calls/{view['id']}/speech/0.wav", timeout=30)
        assert speech.status_code == 200 and speech.headers["Content-Type"] == "audio/wav"
        assert http.post(f"{server.url}/phone/calls/{view['id']}/hangup", timeout=30).json()["ended"]
        calls = http.get(server.url + "/dashboard/calls.json", timeout=30,
                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()["calls"]
        assert [c["path"] for c in calls] == [["language", "main", "account"]]
        assert calls[0]["outcome"] == "abandoned"
    finally:
        server.stop()


def test_signed_webhooks_behind_a_public_url(tmp_path):
    """Production settings: the phone calls the app as Twilio would reach it, and signs."""
    app = seeded_app(tmp_path, PUBLIC_URL="https://abc.example.org", TWILIO_AUTH_TOKEN="tok-9",
                     SOFTPHONE=True, ADMIN_TOKEN="admin-token-0123456789")
    client = app.test_client()
    assert client.post("/phone/calls", json={}).status_code == 401     # production: admin only
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer admin-token-0123456789"
    view = dial(client)
    step = press(client, view, "2")
    assert "For your personal account" in texts(step)[-1]
    assert not any(e["who"] == "error" for e in view["events"] + step["events"])
    unsigned = client.post("/voice", data={"CallSid": "CA" + "1" * 32})
    assert unsigned.status_code == 403                  # the webhooks still check signatures
