"""/dashboard: who may see it, and the call log it shows (masking included)."""
from __future__ import annotations

import re

import pytest

from ivr.web.security.admin import COOKIE
from tests.conftest import make_app
from tests.twiml import Caller
from tests.web.conftest import ADMIN_TOKEN, DEMO_ID, DEMO_PASSWORD

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PAGES = ["/dashboard", "/dashboard/calls.json", "/dashboard/menu.svg"]


def call(client, number, *keys, duration=None):
    """A call the way Twilio makes it (Digits never include the finishing #)."""
    caller = Caller(client, number=number)
    caller.keys(*keys)
    if duration is not None:
        client.post("/voice/status", data={"CallSid": caller.sid, "CallStatus": "completed",
                                           "CallDuration": str(duration)})
    return caller


def dashboard(client) -> str:
    response = client.get("/dashboard", headers=BEARER)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def calls_json(client) -> list[dict]:
    response = client.get("/dashboard/calls.json", headers=BEARER)
    assert response.status_code == 200
    return response.get_json()["calls"]


def csrf(response) -> str:
    """The CSRF token of the page's form (its cookie is in the client)."""
    import re

    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', response.get_data(as_text=True)).group(1)


# -- access --------------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, ""])
@pytest.mark.parametrize("path", PAGES)
def test_without_an_admin_token_the_dashboard_is_off(tmp_path, path, token):
    app = make_app(tmp_path, ADMIN_TOKEN=token)
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 403
    assert client.get(path + "?token=").status_code == 403
    assert "IVR_ADMIN_TOKEN" in client.get("/dashboard").get_data(as_text=True)
    assert client.post("/dashboard/login", data={"token": ""}).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_a_missing_or_wrong_token_is_refused(web_client, path):
    assert web_client.get(path).status_code == 401
    assert web_client.get(path).headers["WWW-Authenticate"].startswith("Bearer")
    assert web_client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert web_client.get(path, headers={"Authorization": ADMIN_TOKEN}).status_code == 401  # no scheme
    assert web_client.get(path + "?token=wrong").status_code == 401
    web_client.set_cookie(COOKIE, ADMIN_TOKEN, path="/")   # the token itself is not the cookie
    assert web_client.get(path).status_code == 401
    assert web_client.get(path, headers=BEARER).status_code == 200


def test_the_token_in_the_address_signs_in_and_is_dropped_from_it(web_client):
    response = web_client.get(f"/dashboard?token={ADMIN_TOKEN}&limit=5")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard?limit=5"
    cookie = response.headers["Set-Cookie"]
    assert ADMIN_TOKEN not in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/;" in cookie
    page = web_client.get("/dashboard?limit=5")
    assert page.status_code == 200
    assert web_client.get("/dashboard/menu.svg").status_code == 200
    assert web_client.post("/dashboard/logout").status_code == 400        # no CSRF token
    assert web_client.get("/dashboard").status_code == 200
    assert web_client.post("/dashboard/logout", data={"csrf_token": csrf(page)}).status_code == 303
    assert web_client.get("/dashboard").status_code == 401


def test_the_sign_in_form(web_client):
    refused = web_client.get("/dashboard")
    assert 'name="token"' in refused.get_data(as_text=True)
    token = csrf(refused)
    wrong = web_client.post("/dashboard/login", data={"token": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    right = web_client.post("/dashboard/login", data={"token": ADMIN_TOKEN, "csrf_token": token})
    assert right.status_code == 303 and right.headers["Location"] == "/dashboard"
    assert web_client.get("/dashboard").status_code == 200


def test_a_changed_token_signs_browsers_out(tmp_path):
    app = make_app(tmp_path, ADMIN_TOKEN="first-token-0123456789")
    client = app.test_client()
    client.post("/dashboard/login", data={"token": "first-token-0123456789", "csrf_token": csrf(client.get("/dashboard"))})
    assert client.get("/dashboard").status_code == 200
    app.config["ADMIN_TOKEN"] = "second-token-0123456789"
    assert client.get("/dashboard").status_code == 401


# -- the call log --------------------------------------------------------------------------------
def test_recent_calls_show_their_path_keys_outcome_and_duration_masked(web_client):
    call(web_client, "+8613812345678", "2", "1", DEMO_ID, DEMO_PASSWORD, "1", duration=95)
    call(web_client, "+8613900001111", "1", "3", "2")
    calls = calls_json(web_client)
    assert [c["caller"] for c in calls] == ["+86139****1111", "+86138****5678"]
    login = calls[1]
    assert login["path"] == ["language", "main", "account"]
    assert login["keys"] == ["2", "1", "•" * 18, "•" * 6, "1"]
    assert login["language"] == "en-US" and login["masked_id"] == "1101**********4573"
    assert login["outcome"] == "abandoned" and login["outcome_label"] == "caller hung up"
    assert login["duration"] == 95 and login["duration_from"] == "twilio" and login["ended_at"]
    browsing = calls[0]
    assert browsing["path"] == ["language", "main", "check_ways"] and browsing["language"] == "zh-CN"
    assert browsing["outcome"] is None and browsing["duration"] is None and browsing["masked_id"] == ""

    html = dashboard(web_client)
    for secret in (DEMO_ID, DEMO_PASSWORD, "+8613812345678", "13812345678", "+8613900001111"):
        assert secret not in html
    rows = re.findall(r'<tr data-call-sid="[^"]+">(.*?)</tr>', html, re.S)
    assert len(rows) == 2
    assert re.findall(r"<li>(\w+)</li>", rows[1]) == ["language", "main", "account"]
    assert "•" * 18 in rows[1] and "1101**********4573" in rows[1] and "95 s" in rows[1]
    assert "caller hung up" in rows[1] and "in progress" in rows[0]


def test_outcomes_are_labelled(web_client):
    call(web_client, "+8613800000001", "2", "_", "_", "_", "_")           # silence to a goodbye
    call(web_client, "+8613800000002", "2", "0")                          # an agent (in hours)
    labels = {c["caller"]: c["outcome_label"] for c in calls_json(web_client)}
    assert labels == {"+86138****0001": "timeout hang-up", "+86138****0002": "agent"}
    html = dashboard(web_client)
    assert re.search(r"<dt>timeout hang-up</dt><dd>1</dd>", html)
    assert re.search(r"<dt>All calls</dt><dd>2</dd>", html)


def test_per_menu_outcome_counts(web_client):
    call(web_client, "+8613800000001", "2", "7", "_", "3", "1", "*", "0")
    call(web_client, "+8613800000002", "1", "_", "5", "4")
    html = dashboard(web_client)
    table = html[html.index('id="menu-outcomes"'):]
    table = table[:table.index("</table>")]

    def counts(menu):
        row = re.search(rf'<th scope="row">{menu}</th>(.*?)</tr>', table, re.S).group(1)
        return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row)][:4]   # speech: see below

    # success, invalid, timeout, transfer
    assert counts("language") == [2, 0, 0, 0]
    assert counts("main") == [2, 2, 2, 1]       # 3 and 4; 7 and 5; two silences; 0 for an agent
    assert counts("check_ways") == [2, 0, 0, 0]   # 1, then * (back)
    assert counts("law") == [0, 0, 0, 0]
    assert counts("voicemail") == [0, 0, 0, 0]


def test_failed_logins_and_lockouts_show_masked_ids_only(web_client):
    wrong = ["111111", "222222", "333333"]
    call(web_client, "+8613800000001", "2", "1", DEMO_ID, *wrong)   # the password is asked again
    unknown = "11010519491231002X".replace("X", "*")
    call(web_client, "+8613800000002", "2", "1", unknown, "123456")
    html = dashboard(web_client)
    section = html[html.index('id="security-title"'):html.index('id="flow-title"')]
    assert re.search(r"<dt>Accounts locked now</dt><dd>1</dd>", section)
    assert re.search(r"<dt>Unknown ID numbers tried</dt><dd>1</dd>", section)
    assert re.search(r"<dt>Callers with wrong passwords \(last 60 min\)</dt><dd>2</dd>", section)
    row = re.search(r'<table id="accounts">.*?<tbody>(.*?)</tbody>', section, re.S).group(1)
    assert "1101**********4573" in row and '<td class="num">3</td>' in row and "not locked" not in row
    for secret in (DEMO_ID, "11010519491231002", *wrong, "123456", DEMO_PASSWORD):
        assert secret not in html


def test_the_diagram_is_on_the_dashboard(web_app, web_client):
    html = dashboard(web_client)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html
    for menu in web_app.extensions["ivr_hotline"].engine.model.menus:
        assert f'data-node="{menu}"' in html
    assert "main: 2 → apply" in html                  # the list that stands in for the picture
    svg = web_client.get("/dashboard/menu.svg", headers=BEARER)
    assert svg.mimetype == "image/svg+xml" and svg.get_data(as_text=True).startswith("<svg")


def test_the_log_is_limited_and_newest_first(web_client):
    for n in range(4):
        call(web_client, f"+861380000000{n}", "1")
    calls = web_client.get("/dashboard/calls.json?limit=2", headers=BEARER).get_json()["calls"]
    assert [c["caller"] for c in calls] == ["+86138****0003", "+86138****0002"]
    assert "The latest 2 of 4 calls" in web_client.get("/dashboard?limit=2", headers=BEARER).get_data(as_text=True)
    assert web_client.get("/dashboard?limit=abc", headers=BEARER).status_code == 200


def test_speech_counts_and_what_was_said(web_client):
    caller = call(web_client, "+8613800000003", "1")
    caller.say("补卡")                                # matched: apply
    caller.press("*")
    caller.say("今天天气")                            # not understood
    caller.say("政策", confidence=0.2)                # unsure: asked to confirm
    caller.press("1")
    caller = call(web_client, "+8613800000004", "2", "1")
    caller.say(" ".join(["one"] * 17 + ["X"]))        # a spoken ID number: dots only
    html = dashboard(web_client)
    table = html[html.index('id="menu-outcomes"'):]
    table = table[:table.index("</table>")]
    assert "speech match" in table and "speech nomatch" in table and "speech confirm" in table
    row = re.search(r'<th scope="row">main</th>(.*?)</tr>', table, re.S).group(1)
    numbers = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row)]
    # success, invalid, timeout, transfer | speech match (补卡, 政策 once confirmed, and the ID number
    # read out in the login entry, which belongs to the main menu), no match, confirm
    assert numbers == [3, 1, 0, 0, 3, 1, 1]
    said = {c["caller"]: c["said"] for c in calls_json(web_client)}
    assert [(h["said"], h["result"]) for h in said["+86138****0003"]] == [
        ("补卡", "2"), ("今天天气", "nothing"), ("政策", "4")]
    assert said["+86138****0004"] == [{"menu": "main", "said": "•" * 18, "result": "digits", "confidence": 0.92}]
    assert "“补卡” → 2" in html and "one one" not in html
