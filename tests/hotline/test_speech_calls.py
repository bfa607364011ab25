"""Speech navigation through the webhooks: the TwiML's speech attributes, SpeechResult followed,
low-confidence confirmation, spoken ID numbers and passwords, and what the call record keeps."""
import json
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.accounts.seed import seed_demo
from ivr.hotline.models import Call
from tests.conftest import make_app
from tests.twiml import Caller

ROOT = Path(__file__).resolve().parents[2]
ZH = tomllib.loads((ROOT / "prompts/zh-CN.toml").read_text("utf-8"))
EN = tomllib.loads((ROOT / "prompts/en-US.toml").read_text("utf-8"))
ID1, PW1 = "110101199003074573", "074573"
ID1_ZH = "幺幺零幺零幺 幺九九零 零三零七 四五七三"
PW1_ZH = "零七四五七三"


@pytest.fixture
def seeded(app):
    seed_demo(app.extensions["ivr_db"].Session)
    return app


def stored(app, sid) -> dict:
    with app.extensions["ivr_db"].Session() as session:
        return session.execute(select(Call.state).where(Call.call_sid == sid)).scalar_one()


def test_the_main_menu_gather_listens_for_speech_in_mandarin(caller):
    caller.dial()
    g = caller.press("1").gather
    assert g.get("input") == "dtmf speech"
    assert g.get("language") == "cmn-Hans-CN"          # Twilio's recognition tag, not zh-CN
    assert g.get("speechTimeout") == "auto"
    assert g.get("speechModel") is None                 # auto with a model is warning 13335
    assert g.get("numDigits") == "1"                    # keys still work
    hints = [h.strip() for h in g.get("hints").split(",")]
    assert "查余额" in hints and "补卡" in hints and "人工服务" in hints and "返回上级" in hints
    assert not any(h.isascii() for h in hints)          # this call's language only


def test_english_hints_and_language(caller):
    caller.dial()
    g = caller.press("2").gather
    assert g.get("language") == "en-US"
    assert "check my balance" in g.get("hints") and "查余额" not in g.get("hints")


def test_the_language_menu_takes_keys_only(caller):
    g = caller.dial().gather
    assert g.get("input") is None and g.get("hints") is None and g.get("speechTimeout") is None


def test_saying_an_option_goes_where_its_key_goes(caller):
    caller.keys("1")
    assert caller.say("我想补卡").heard == ZH["apply_menu"]
    assert caller.doc.gather.get("input") is None                # the guide menus take keys only
    assert caller.press("*").heard == ZH["main_menu_short"]
    assert caller.say("政策法规").heard == ZH["law_menu"]
    caller.press("*")
    assert caller.say("再说一遍").heard == ZH["main_menu"]          # a global key, said


def test_a_global_key_said_in_the_account_menu(seeded):
    caller = Caller(seeded.test_client())
    caller.keys("1", "1", ID1, PW1)
    assert caller.say("返回上级").heard == ZH["main_menu_short"]


def test_speech_to_the_account_menu_in_english(seeded):
    caller = Caller(seeded.test_client())
    caller.keys("2", "1", ID1, PW1)
    doc = caller.say("my medical balance please")
    assert doc.speech[0][1] == "Your medical insurance personal account balance is 1,234 yuan 56 fen."
    doc = caller.say("PENSION")
    assert doc.speech[0][1] == "Your basic pension personal account holds 45,678 yuan 90 fen."


def test_nothing_matched_says_what_can_be_said(caller):
    caller.keys("1")
    doc = caller.say("今天天气怎么样")
    choices = "个人账户查询、社保卡办理、其他查询方式、政策法规、人工服务"
    assert doc.speech[0][1] == ZH["speech_invalid"].format(choices=choices)
    assert doc.speech[1][1] == ZH["main_menu_short"]
    assert doc.gather.get("input") == "dtmf speech"


def test_the_longest_phrase_wins_and_one_option_never_ties_itself(client):
    caller = Caller(client)
    caller.keys("2")
    assert caller.say("wechat law").heard == EN["check_menu"]      # wechat (6) beats law (3)
    caller = Caller(client)
    caller.keys("2")
    assert caller.say("alipay or wechat").heard == EN["check_menu"]  # both option 3: no tie


def test_a_true_tie_says_what_can_be_said(client):
    caller = Caller(client)
    caller.keys("2")
    doc = caller.say("policy wechat")                 # policy (6) and wechat (6): a tie
    assert doc.speech[0][1].startswith("Sorry, I didn't understand. You can say: personal account, ")
    for _ in range(2):
        doc = caller.say("policy wechat")
    assert doc.heard == EN["offer_agent"]             # three failures, as with wrong keys


def test_low_confidence_asks_once_to_confirm(seeded):
    caller = Caller(seeded.test_client())
    caller.keys("1", "1", ID1, PW1)
    doc = caller.say("医保余额", confidence=0.31)
    assert doc.heard == "您是要查询医保余额吗？确认请按1，或说“是”；重新选择请按2。"
    assert doc.gather.get("input") == "dtmf speech" and "是" in doc.gather.get("hints")
    doc = caller.press("1")
    assert doc.speech[0][1] == "您的医疗保险个人账户余额为一千二百三十四元五角六分。"
    doc = caller.say("养老", confidence=0.2)
    assert "养老" in doc.heard
    doc = caller.say("不是")
    assert doc.speech == [("cmn-CN", ZH["speech_choose_again"]), ("cmn-CN", ZH["account_menu_short"])]
    caller.say("消费记录", confidence=0.2)
    doc = caller.say("是的", confidence=0.3)          # a yes is not asked about again
    assert "消费" in doc.speech[0][1]
    stats = stored(seeded, caller.sid)["stats"]["account"]
    assert stats["speech_confirm"] == 3 and stats["speech_match"] == 2


def test_the_threshold_is_configurable(tmp_path):
    app = make_app(tmp_path, SPEECH_CONFIDENCE=0.2)
    caller = Caller(app.test_client())
    caller.keys("2")
    assert caller.say("the law", confidence=0.3).heard == EN["law_menu"]
    with pytest.raises(ValueError, match="IVR_SPEECH_CONFIDENCE"):
        make_app(tmp_path, SPEECH_CONFIDENCE=3)


def test_a_spoken_id_number_and_password_log_in_and_are_never_stored(seeded):
    caller = Caller(seeded.test_client())
    caller.keys("1", "1")
    g = caller.doc.gather
    assert g.get("input") == "dtmf speech" and g.get("numDigits") is None and g.get("finishOnKey") == "#"
    doc = caller.say(ID1_ZH)
    assert doc.heard == ZH["enter_password"]
    doc = caller.say(PW1_ZH)
    assert doc.heard.startswith("医疗保险个人账户余额，请按1。")
    state = stored(seeded, caller.sid)
    text = json.dumps(state, ensure_ascii=False)
    for secret in (ID1, PW1, ID1_ZH, PW1_ZH, "074573", "零七四五七三"):
        assert secret not in text
    spoken = [h for h in state["heard"] if h["result"] == "digits"]
    assert [h["said"] for h in spoken] == ["•" * 18, "•" * 6]


def test_an_id_number_with_x_said_aloud(seeded):
    caller = Caller(seeded.test_client())
    caller.keys("2", "1")
    caller.say("four four zero one zero six one nine eight eight one two zero three one one eight X")
    assert caller.doc.heard == EN["enter_password"]
    caller.say("one three five seven nine zero")
    assert caller.press("1").speech[0][1] == "Your medical insurance personal account balance is 88 yuan 8 fen."


def test_words_that_are_not_digits_ask_again(seeded):
    caller = Caller(seeded.test_client())
    caller.keys("1", "1")
    doc = caller.say("我不知道我的身份证号")
    assert doc.speech == [("cmn-CN", ZH["speech_digits"]), ("cmn-CN", ZH["enter_id"])]
    state = stored(seeded, caller.sid)
    assert state["heard"][-1]["said"] == "•" * len("我不知道我的身份证号")


def test_speech_where_only_keys_are_taken_is_an_invalid_key(caller):
    caller.dial()
    doc = caller.say("普通话")                        # the language menu is dtmf only
    assert ZH["invalid_key"] in doc.heard


def test_call_record_keeps_what_was_said_in_a_menu(caller, app):
    caller.keys("1")
    caller.say("補卡", confidence="0.87")               # traditional, as a recogniser may write it
    state = stored(app, caller.sid)
    assert state["heard"] == [{"menu": "main", "said": "補卡", "result": "2", "confidence": 0.87}]
    assert state["stats"]["main"]["speech_match"] == 1 and state["stats"]["main"]["success"] == 1


@pytest.mark.parametrize("confidence", ["", "high", "-1", "1e9"])
def test_garbage_confidence_never_fails(caller, confidence):
    caller.keys("1")
    doc = caller.say("补卡", confidence=confidence)
    assert doc.gather is not None


def test_saying_back_leaves_an_entry_like_star(caller):
    caller.keys("2", "1")
    doc = caller.say("go back")
    assert doc.heard == EN["main_menu_short"]
    assert doc.gather.get("numDigits") == "1"
