"""The softphone and the dashboard in real headless Chromium (Playwright), on a real server.

Screenshots are kept in test-artifacts/web/ (git-ignored).
"""
from __future__ import annotations

import re

import pytest

# Playwright is in the test extra; without it (a bare install) these tests skip, saying why.
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'").expect

from tests.web.conftest import ADMIN_TOKEN, DEMO_ID, DEMO_PASSWORD, shot

pytestmark = pytest.mark.browser


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until ``selector`` has the focus, as a keyboard-only user would."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def focus_ring(page) -> dict:
    return page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return {style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }""")


def wav_responses(page) -> list:
    seen = []
    page.on("response", lambda r: seen.append(r) if ".wav" in r.url else None)
    return seen


def transcript(page):
    return page.locator("#transcript")


def test_keyboard_call_reaches_the_balance_and_the_dashboard_lists_it(live_server_factory, page):
    server = live_server_factory()
    wavs = wav_responses(page)
    page.goto(server.url + "/phone")
    expect(page).to_have_title(re.compile("Browser phone"))

    # Every control has a name a screen reader can announce.
    for name in [str(d) for d in range(10)] + ["Star", "Pound (hash)", "Call 12333", "Hang up", "Time out now"]:
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(1)
    for label in ("Play the prompts aloud", "Wait for me", "Show technical details"):
        expect(page.get_by_label(label)).to_have_count(1)
    expect(page.get_by_role("log")).to_have_count(1)

    # Keyboard only: no time limit (so a slow test machine never times out), then dial.
    tab_to(page, "#opt-wait")
    assert focus_ring(page)["style"] != "none" and focus_ring(page)["width"] >= 2
    page.keyboard.press("Space")
    expect(page.locator("#opt-wait")).to_be_checked()
    tab_to(page, "#call")
    ring = focus_ring(page)
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    page.keyboard.press("Enter")

    expect(transcript(page)).to_contain_text("欢迎致电12333")
    expect(transcript(page)).to_contain_text("For English, press 2.")
    expect(page.locator('#transcript [lang="zh-CN"]').first).to_be_visible()
    expect(page.locator("#call-language")).to_have_text("中文 (Mandarin) / English")
    expect(page.locator("#status")).to_contain_text("press a key")
    shot(page, "phone-1-dialled")

    page.keyboard.press("2")                      # English
    expect(transcript(page)).to_contain_text("For your personal account, press 1.")
    expect(page.locator("#call-language")).to_have_text("English")
    expect(page.locator('#transcript .event.hotline').last.locator(".event-text")).to_have_attribute("lang", "en-US")

    page.get_by_role("button", name="1", exact=True).click()   # the keypad works with the mouse too
    expect(transcript(page)).to_contain_text("Please enter your 18 digit ID number")

    page.keyboard.type(DEMO_ID)
    expect(page.locator("#entry")).to_have_text(DEMO_ID)       # the caller sees what they type...
    page.keyboard.press("#")
    expect(transcript(page)).to_contain_text("6 digit service password")
    expect(page.locator("#entry")).to_have_text("")
    expect(transcript(page)).to_contain_text("presses " + "•" * 18)  # ...the transcript does not keep it

    for digit in DEMO_PASSWORD:
        page.get_by_role("button", name=digit, exact=True).click()
    page.get_by_role("button", name="Pound (hash)").click()
    expect(transcript(page)).to_contain_text("For your medical insurance balance, press 1.")

    page.keyboard.press("1")
    expect(transcript(page)).to_contain_text("1,234 yuan 56 fen")
    shot(page, "phone-2-balance")

    # The prompts were heard as audio: each one loaded, as audio/wav.
    page.wait_for_function("""() => { const a = [...document.querySelectorAll('#transcript audio')];
        return a.length > 0 && a.every(x => x.readyState >= 1 && !x.error); }""")
    audio_count = page.locator("#transcript audio").count()
    assert audio_count >= 8
    speech = [r for r in wavs if "/speech/" in r.url]
    assert len(speech) >= audio_count - 1
    for response in speech:
        assert response.status in (200, 206, 304), response.url
        if response.status != 304:
            assert response.headers["content-type"] == "audio/wav"

    page.keyboard.press("Escape")                 # hang up
    expect(page.locator("#status")).to_contain_text("Call ended: you hung up")
    expect(page.locator("#call")).to_be_focused()
    html = page.content()
    assert DEMO_ID not in html and DEMO_PASSWORD not in html
    shot(page, "phone-3-hung-up")

    assert page.problems == []                    # no script errors, no failed requests

    # The dashboard: refused without the token, then signed in with it.
    response = page.goto(server.url + "/dashboard")
    assert response.status == 401
    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Recent calls")).to_be_visible()
    row = page.locator("#calls tbody tr").first
    expect(row.locator(".path li")).to_have_text(["language", "main", "account"])
    expect(row.locator(".keys")).to_have_text("2 1 " + "•" * 18 + " " + "•" * 6 + " 1")
    expect(row).to_contain_text("caller hung up")
    expect(row).to_contain_text("1101**********4573")
    expect(row).to_contain_text(re.compile(r"\+86170\*{4}\d{4}"))
    expect(page.locator("svg.ivr-graph")).to_be_visible()
    expect(page.locator('svg.ivr-graph g.node[data-node="account"]')).to_have_count(1)
    html = page.content()
    assert DEMO_ID not in html and DEMO_PASSWORD not in html
    shot(page, "dashboard")
    assert [p for p in page.problems if "401 (UNAUTHORIZED)" not in p] == []


def test_prompt_audio_follows_the_language_chosen_and_time_out_sends_silence(live_server_factory, page):
    server = live_server_factory(VOICE_MODE="play")   # prompts as <Play> of /audio/<lang>/<id>.wav
    wavs = wav_responses(page)
    page.goto(server.url + "/phone")
    page.get_by_role("button", name="Call 12333").click()
    expect(transcript(page)).to_contain_text("For English, press 2.")
    page.wait_for_function("() => [...document.querySelectorAll('#transcript audio')].every(a => a.readyState >= 1)")
    zh = [r for r in wavs if "/audio/zh-CN/" in r.url]
    assert zh and all(r.status in (200, 206, 304) for r in zh)
    assert all(r.headers["content-type"] == "audio/wav" for r in zh if r.status != 304)

    page.get_by_role("button", name="2", exact=True).click()
    expect(transcript(page)).to_contain_text("For your personal account, press 1.")
    expect(page.locator("#call-language")).to_have_text("English")
    last_audio = page.locator("#transcript audio").last
    expect(last_audio).to_have_attribute("src", re.compile(r"^/audio/en-US/"))
    page.wait_for_function("() => [...document.querySelectorAll('#transcript audio')].every(a => a.readyState >= 1)")
    assert any("/audio/en-US/" in r.url and r.status in (200, 206) for r in wavs)

    page.get_by_role("button", name="Time out now").click()
    expect(transcript(page)).to_contain_text("silence (timeout)")
    expect(transcript(page)).to_contain_text("we did not hear a key")
    page.get_by_label("Show technical details").check()
    expect(page.locator("#transcript .technical").first).to_be_visible()   # the Redirect to /voice/timeout
    shot(page, "phone-play-mode")
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#status")).to_contain_text("Call ended")
    assert page.problems == []


def test_the_say_box_speaks_to_the_hotline(live_server_factory, page):
    server = live_server_factory()
    page.goto(server.url + "/phone")
    say_box = page.get_by_label("Say…")
    expect(say_box).to_be_disabled()                 # nothing to say to before the call
    page.locator("#opt-wait").check()
    page.locator("#opt-sound").uncheck()
    page.get_by_role("button", name="Call 12333", exact=True).click()
    expect(transcript(page)).to_contain_text("For English, press 2.")
    page.keyboard.press("2")
    expect(transcript(page)).to_contain_text("For your personal account, press 1.")
    expect(say_box).to_be_enabled()
    say_box.fill("other ways to check my balance")
    say_box.press("Enter")                           # typing in the box sends no keys
    expect(transcript(page)).to_contain_text("says 'other ways to check my balance' (confidence 0.9)")
    expect(transcript(page)).to_contain_text("Other ways to check your balance. For WeChat, press 1.")
    page.get_by_role("button", name="Star", exact=True).click()
    expect(transcript(page)).to_contain_text("Account, press 1. Applying for a card, press 2.")
    page.get_by_label("sure").fill("0.3")
    say_box.fill("the law")
    page.get_by_role("button", name="Say", exact=True).click()
    expect(transcript(page)).to_contain_text("Did you mean policy and the law?")
    shot(page, "phone-speech")
