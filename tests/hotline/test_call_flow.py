"""Whole calls through the webhooks: TwiML parsed, keys followed, what the caller hears checked."""
import tomllib
from pathlib import Path

import pytest

from tests.conftest import OUT_OF_HOURS, make_app
from tests.twiml import Caller

ROOT = Path(__file__).resolve().parents[2]
ZH = tomllib.loads((ROOT / "prompts/zh-CN.toml").read_text("utf-8"))
EN = tomllib.loads((ROOT / "prompts/en-US.toml").read_text("utf-8"))


def test_welcome_is_a_bilingual_language_menu(caller):
    doc = caller.dial()
    assert doc.verbs == ["Gather", "Redirect"]
    g = doc.gather
    assert g.get("numDigits") == "1" and g.get("finishOnKey") == ""
    assert g.get("action") == "/voice/input" and g.get("method") == "POST"
    assert doc.find("Redirect").text == "/voice/timeout"
    assert [el.tag for el in g] == ["Say"] * 4   # nested: a key barges in
    assert doc.speech == [("cmn-CN", ZH["welcome"]), ("en-US", EN["welcome"]),
                          ("cmn-CN", ZH["choose_language"]), ("en-US", EN["choose_language"])]
    voices = [el.get("voice") for el in g]
    assert voices == ["Polly.Zhiyu", "Polly.Joanna", "Polly.Zhiyu", "Polly.Joanna"]


def test_language_choice_sets_the_voice_of_the_call(caller):
    caller.dial()
    doc = caller.press("2")
    assert doc.speech == [("en-US", EN["main_menu"])]
    caller.press("2")
    assert caller.doc.speech == [("en-US", EN["apply_menu"])]


def test_silence_keeps_mandarin(caller):
    caller.dial()
    doc = caller.silence()
    assert doc.speech == [("cmn-CN", ZH["main_menu"])]


GUIDES = {
    "2": ("apply_menu", ["apply_bureau", "apply_agency", "apply_ecard", "apply_care"]),
    "3": ("check_menu", ["check_wechat", "check_alipay", "check_website", "check_pharmacy"]),
    "4": ("law_menu", ["law_article_4", "law_article_10", "law_article_58", "law_article_74"]),
}


@pytest.mark.parametrize("lang,texts", [("1", ZH), ("2", EN)])
@pytest.mark.parametrize("menu_key", sorted(GUIDES))
def test_every_guidance_prompt_is_reachable_by_its_key(client, lang, texts, menu_key):
    menu_prompt, guides = GUIDES[menu_key]
    caller = Caller(client)
    caller.dial()
    caller.press(lang)
    assert caller.press(menu_key).heard == texts[menu_prompt]
    for key, guide in enumerate(guides, start=1):
        doc = caller.press(str(key))
        # The guidance, then the menu's short prompt, both inside the Gather so a key cuts in.
        assert [t for _, t in doc.speech] == [texts[guide], texts[menu_prompt + "_short"]]
        assert doc.gather is not None


def test_law_menu_quotes_article_10_from_the_seed(caller):
    caller.keys("1", "4")
    doc = caller.press("2")
    assert "职工应当参加基本养老保险" in doc.heard


def test_invalid_key_is_named_and_the_menu_repeats_short(caller):
    caller.keys("2")   # English main menu
    doc = caller.press("7")
    assert [t for _, t in doc.speech] == [EN["invalid_key"], EN["main_menu_short"]]
    doc = caller.press("#")
    assert doc.speech[0][1] == EN["invalid_key"]


@pytest.mark.parametrize("digits", ["", "12", "x", "１", "<Digits>", "9" * 500])
def test_garbage_digits_count_as_an_invalid_key(caller, digits):
    caller.keys("2")
    doc = caller.press(digits)
    assert doc.speech[0][1] == EN["invalid_key"]
    assert doc.gather is not None


def test_max_failures_offers_the_agent_then_says_goodbye(caller):
    caller.keys("2", "7", "7")
    doc = caller.press("7")
    assert doc.heard == EN["offer_agent"]
    doc = caller.press("5")            # offer_agent allows one failure: goodbye
    assert doc.heard == EN["goodbye"] and doc.hangs_up


def test_silence_says_the_timeout_prompt_then_falls_back(caller, app):
    caller.keys("2")
    doc = caller.silence()
    assert [t for _, t in doc.speech] == [EN["no_input"], EN["main_menu_short"]]
    caller.silence()
    doc = caller.silence()             # third silence: max_timeouts
    assert doc.heard == EN["offer_agent"]
    doc = caller.silence()
    assert doc.hangs_up and doc.heard == EN["goodbye"]
    from ivr.hotline.models import Call

    with app.extensions["ivr_db"].Session() as s:
        assert s.get(Call, caller.sid).outcome == "timeout"


def test_star_goes_back_and_nine_repeats(caller):
    caller.keys("2", "3")
    doc = caller.press("9")
    assert doc.heard == EN["check_menu"]          # repeat: the full prompt again
    doc = caller.press("*")
    assert doc.heard == EN["main_menu_short"]     # back: the main menu, second pass
    doc = caller.press("*")                        # back at the top: the main menu again
    assert doc.heard == EN["main_menu_short"]


def test_agent_in_hours_dials_the_configured_number(caller):
    caller.keys("2")
    doc = caller.press("0")
    assert doc.verbs == ["Say", "Dial"]
    assert doc.heard == EN["agent_connecting"]
    dial = doc.find("Dial")
    assert dial.text == "+861012333" and dial.get("action") == "/voice/dial-status"
    doc = caller.post(dial.get("action"), DialCallStatus="no-answer")
    assert [t for _, t in doc.speech] == [EN["agent_unavailable"], EN["main_menu_short"]]
    caller.press("0")
    doc = caller.post("/voice/dial-status", DialCallStatus="completed")
    assert doc.hangs_up


def test_agent_out_of_hours_offers_a_voice_message(tmp_path):
    app = make_app(tmp_path, NOW=OUT_OF_HOURS)
    caller = Caller(app.test_client())
    caller.keys("2")
    doc = caller.press("0")
    assert doc.speech[0][1].startswith("Our agents are not available now. Agents answer Monday")
    assert "8:30 a.m." in doc.speech[0][1] and "5:30 p.m." in doc.speech[0][1]
    assert doc.speech[1][1] == EN["voicemail_offer"]
    doc = caller.press("1")
    record = doc.find("Record")
    assert doc.heard == EN["record_message"] and record is not None
    assert record.get("action") == "/voice/recorded" and record.get("maxLength") == "120"
    doc = caller.post("/voice/recorded", RecordingUrl="https://api.twilio.com/rec/RE1",
                      RecordingDuration="7", Digits="#")
    assert doc.heard == EN["message_saved"] and doc.hangs_up
    from ivr.hotline.models import Call, Voicemail

    with app.extensions["ivr_db"].Session() as s:
        vm = s.query(Voicemail).one()
        assert (vm.call_sid, vm.duration) == (caller.sid, 7)
        assert s.get(Call, caller.sid).outcome == "voicemail"


def test_agent_out_of_hours_in_mandarin_and_an_empty_recording(tmp_path):
    app = make_app(tmp_path, NOW="2026-10-01T10:00:00+08:00")   # National Day: a holiday
    caller = Caller(app.test_client())
    caller.keys("1")
    doc = caller.press("0")
    assert doc.speech[0][1].startswith("现在是自动服务时间。人工服务时间为")
    caller.press("1")
    doc = caller.silence()    # Twilio falls through a <Record> that heard nothing
    assert doc.speech[0][1] == ZH["no_input"] and doc.gather is not None


def test_enqueue_mode_holds_the_caller(tmp_path, menus_copy):
    text = menus_copy.read_text("utf-8").replace('mode = "dial"', 'mode = "enqueue"')
    menus_copy.write_text(text, "utf-8")
    app = make_app(tmp_path, MENUS_FILE=str(menus_copy))
    caller = Caller(app.test_client())
    caller.keys("2")
    doc = caller.press("0")
    enqueue = doc.find("Enqueue")
    assert enqueue.text == "12333-agents" and enqueue.get("waitUrl") == "/voice/hold"
    hold = caller.post("/voice/hold", QueueSid="QU1", QueuePosition="1")
    assert hold.heard == EN["agent_hold"] and hold.verbs == ["Say", "Pause"]


def test_state_survives_a_new_app_on_the_same_database(tmp_path):
    first = make_app(tmp_path)
    caller = Caller(first.test_client())
    caller.keys("2", "3")
    first.extensions["ivr_db"].dispose()
    second = make_app(tmp_path)    # another process, same database
    caller.client = second.test_client()
    doc = caller.press("1")
    assert doc.speech[0][1] == EN["check_wechat"]
    assert caller.press("*").heard == EN["main_menu_short"]


def test_unknown_call_on_a_menu_url_starts_at_the_main_menu(client):
    caller = Caller(client)
    doc = caller.post("/voice/input", Digits="3")
    assert doc.speech == [("cmn-CN", ZH["main_menu"])]


def test_missing_call_sid_gets_an_apology_not_an_error(client):
    doc = Caller(client, sid="").post("/voice")
    assert doc.heard == ZH["app_error"] + " " + EN["app_error"] and doc.hangs_up   # language unknown: all


def test_an_unexpected_error_apologises_in_the_callers_language(caller, app, monkeypatch, caplog):
    caller.keys("2")
    engine = app.extensions["ivr_hotline"].engine

    def broken(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine, "on_digits", broken)
    doc = caller.press("3")
    assert doc.heard == EN["app_error"] and doc.hangs_up
    assert any("disk on fire" in r.getMessage() or "disk on fire" in str(getattr(r, "fields", ""))
               for r in caplog.records)


def test_loop_guard_ends_a_runaway_call(tmp_path, menus_copy):
    text = menus_copy.read_text("utf-8").replace("max_steps = 120", "max_steps = 6")
    menus_copy.write_text(text, "utf-8")
    app = make_app(tmp_path, MENUS_FILE=str(menus_copy))
    caller = Caller(app.test_client())
    caller.keys("1")                       # steps 1-2
    for presses in range(1, 10):
        doc = caller.press("9")            # repeat forever
        if doc.hangs_up:
            break
    assert presses == 5                    # the 7th webhook is over the limit of 6
    assert doc.heard == ZH["loop_guard"]
    assert doc.gather is None


def test_the_call_record_keeps_path_keys_and_per_menu_outcomes(caller, app):
    caller.keys("2", "7", "_", "3", "1", "*", "0")
    from ivr.hotline.models import Call

    with app.extensions["ivr_db"].Session() as s:
        call = s.get(Call, caller.sid)
        state = call.state
        assert call.caller == "+86138****8000"
    assert state["path"] == ["language", "main", "check_ways", "main"]
    assert state["keys"] == ["2", "7", "_", "3", "1", "*", "0"]
    assert state["stats"] == {"language": {"success": 1},
                              "main": {"invalid": 1, "timeout": 1, "success": 1, "transfer": 1},
                              "check_ways": {"success": 2}}
    assert call.outcome == "agent"
