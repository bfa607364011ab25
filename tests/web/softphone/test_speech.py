"""The softphone's "Say…" box: POST /phone/calls/<id>/say reaches a speech Gather as Twilio
posts it, and a spoken ID number or password is never kept or shown."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ivr.hotline.models import Call
from ivr.hotline.models import PhoneCall
from tests.web.conftest import DEMO_ID, DEMO_PASSWORD

EN_DIGITS = "zero one two three four five six seven eight nine".split()


def spoken(number: str) -> str:
    return " ".join("X" if c in "Xx" else EN_DIGITS[int(c)] for c in number)


def dial(client):
    response = client.post("/phone/calls", json={})
    assert response.status_code == 201
    return response.get_json()


def say(client, call, text, confidence=None, status=200):
    body = {"text": text} if confidence is None else {"text": text, "confidence": confidence}
    response = client.post(f"/phone/calls/{call['id']}/say", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def texts(view):
    return [e["text"] for e in view["events"] if e["who"] == "hotline"]


def test_the_page_has_a_say_box(web_client):
    html = web_client.get("/phone").get_data(as_text=True)
    assert 'id="say-form"' in html and 'id="say-text"' in html and 'id="say-confidence"' in html


def test_saying_the_way_through_to_a_balance(web_app, web_client):
    view = dial(web_client)
    web_client.post(f"/phone/calls/{view['id']}/keys", json={"keys": "2"})
    step = say(web_client, view, "my account")
    assert step["waiting"]["input"] == "dtmf speech"
    assert "Please enter your 18 digit ID number" in texts(step)[-1]
    step_id = say(web_client, view, spoken(DEMO_ID))
    assert step_id["events"][0]["text"] == "says '" + "•" * len(spoken(DEMO_ID)) + "' (confidence 0.9)"
    say(web_client, view, spoken(DEMO_PASSWORD))
    step = say(web_client, view, "medical balance", confidence=0.95)
    assert "1,234 yuan 56 fen" in " ".join(texts(step))
    step = say(web_client, view, "pension", confidence=0.3)
    assert texts(step)[-1].startswith("Did you mean pension balance?")
    with web_app.extensions["ivr_db"].Session() as s:
        snapshots = json.dumps([r.snapshot for r in s.execute(select(PhoneCall)).scalars()])
        states = json.dumps([r.state for r in s.execute(select(Call)).scalars()])
    for where in (snapshots, states):
        for secret in (DEMO_ID, DEMO_PASSWORD, spoken(DEMO_ID), spoken(DEMO_PASSWORD)):
            assert secret not in where


def test_speech_to_a_keys_only_gather_is_heard_as_nothing(web_client):
    view = dial(web_client)
    step = say(web_client, view, "English please")
    assert any(e["verb"] == "Warning" and "does not accept speech" in e["text"] for e in step["events"])


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "  "}, {"text": 5}, {"text": "x" * 201},
                                  {"text": "a\u0000b"}, {"text": "hi", "confidence": 2},
                                  {"text": "hi", "confidence": "high"}, {"text": "hi", "confidence": True}])
def test_bad_speech_is_refused(web_client, body):
    view = dial(web_client)
    response = web_client.post(f"/phone/calls/{view['id']}/say", json=body)
    assert response.status_code == 400 and "error" in response.get_json()
