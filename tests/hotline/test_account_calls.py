"""Personal account services end to end through the webhooks, for every demo account."""
import json

import pytest
from sqlalchemy import select

from ivr.accounts.models import Account
from ivr.tts import readout
from ivr.accounts.seed import seed_demo
from ivr.hotline.models import Call
from tests.twiml import Caller

ID1, PW1 = "110101199003074573", "074573"
ID2, PW2 = "310104198511122035", "246810"
IDX, PWX = "44010619881203118*", "135790"      # ends in X: typed with *
ID4, PW4 = "440305197206150015", "150015"      # card already reported lost


@pytest.fixture
def seeded(app):
    seed_demo(app.extensions["ivr_db"].Session)
    return app


def login(app, number, password, lang="2"):
    caller = Caller(app.test_client())
    caller.keys(lang, "1")
    assert caller.doc.gather.get("finishOnKey") == "#" and caller.doc.gather.get("numDigits") is None
    caller.press(number)
    caller.press(password)
    return caller


def test_login_and_balances_in_english(seeded):
    caller = login(seeded, ID1, PW1)
    assert caller.doc.heard.startswith("For your medical insurance balance, press 1.")
    assert caller.press("1").speech[0][1] == \
        "Your medical insurance personal account balance is 1,234 yuan 56 fen."
    assert caller.press("2").speech[0][1] == \
        "Your basic pension personal account holds 45,678 yuan 90 fen."


def test_login_and_balances_in_mandarin(seeded):
    caller = login(seeded, ID1, PW1, lang="1")
    assert caller.press("1").speech[0][1] == "您的医疗保险个人账户余额为一千二百三十四元五角六分。"
    assert caller.press("2").speech[0][1] == "您的基本养老保险个人账户储存额为四万五千六百七十八元九角。"


def test_zero_balance_and_no_spending(seeded):
    caller = login(seeded, ID2, PW2, lang="1")
    assert caller.press("1").speech[0][1] == "您的医疗保险个人账户余额为零元。"
    assert caller.press("3").speech[0][1] == "您最近没有消费记录。"
    caller = login(seeded, ID2, PW2)
    assert caller.press("2").speech[0][1] == "Your basic pension personal account holds 102,400 yuan."


def test_id_ending_in_x_typed_with_star(seeded):
    caller = login(seeded, IDX, PWX)
    assert caller.press("1").speech[0][1] == "Your medical insurance personal account balance is 88 yuan 8 fen."


def test_recent_spending_is_read_newest_first(seeded):
    caller = login(seeded, ID1, PW1)
    said = [t for _, t in caller.press("3").speech]
    assert said[:4] == [
        "Your last 3 payments:",
        "November eighteenth, 2026, Peking Union Medical College Hospital, 86 yuan 50 fen.",
        "November ninth, 2026, Beijing Tongrentang Pharmacy, Wangfujing, 23 yuan 80 fen.",
        "October twenty-seventh, 2026, Golden Elephant Pharmacy, Dongsi, 158 yuan.",
    ]
    caller = login(seeded, ID1, PW1, lang="1")
    said = [t for _, t in caller.press("3").speech]
    assert said[:2] == ["您最近的三笔消费记录：", "二〇二六年十一月十八日，北京协和医院，消费八十六元五角。"]


@pytest.mark.parametrize("number,said", [
    ("11010119900307457", "That is 17 digits. We need 18."),
    ("1101011990030745731", "That is 19 digits. We need 18."),
    ("110101199003074572", "The check digit of that ID number does not match. Please check it and enter it again."),
    ("110101199002304571", "The birth date in that ID number is not a real date. Please check it and enter it again."),
    ("1101011990*3074573", "The letter X can only be the last character."),
])
def test_bad_id_numbers_are_named_and_asked_again(seeded, number, said):
    caller = Caller(seeded.test_client())
    caller.keys("2", "1")
    doc = caller.press(number)
    assert [t for _, t in doc.speech] == [said, "Please enter your 18 digit ID number, then press pound. "
                                                "If it ends in the letter X, press star for the X."]


def test_three_bad_id_numbers_return_to_the_main_menu(seeded):
    caller = Caller(seeded.test_client())
    caller.keys("2", "1", "123", "456")
    doc = caller.press("789")
    said = [t for _, t in doc.speech]
    assert said[-2:] == ["Too many attempts.", "Account, press 1. Applying for a card, press 2. "
                         "Other ways to check, press 3. The law, press 4. An agent, press 0."]


def test_unknown_id_and_wrong_password_sound_the_same(seeded):
    unknown = login(seeded, "110101199001011237", "123456")
    wrong = login(seeded, ID1, "999999")
    assert unknown.doc.speech == wrong.doc.speech
    assert unknown.doc.speech[0][1] == "The ID number or the password is not correct."


def test_three_wrong_passwords_lock_the_account_across_calls(seeded):
    caller = login(seeded, ID2, "111111")
    caller.press("222222")
    doc = caller.press("333333")
    assert doc.speech[0][1].startswith("Too many wrong passwords. The account is locked until ")
    assert "visit a social security service centre with your ID card" in doc.speech[0][1]
    again = login(seeded, ID2, PW2)          # a new call, the right password: still locked
    assert again.doc.speech[0][1].startswith("Too many wrong passwords.")
    with seeded.extensions["ivr_db"].Session() as s:
        acc = s.scalars(select(Account).where(Account.id_number == ID2)).one()
        assert acc.locked_until is not None


def test_success_resets_the_failure_counter(seeded):
    caller = login(seeded, ID2, "111111")
    caller.press(PW2)
    assert caller.doc.heard.startswith("For your medical insurance balance")
    with seeded.extensions["ivr_db"].Session() as s:
        assert s.scalars(select(Account.failed_attempts).where(Account.id_number == ID2)).one() == 0


def test_change_password(seeded):
    caller = login(seeded, ID1, PW1)
    assert caller.press("4").speech[0][1] == "Please enter a new 6 digit password, then press pound."
    assert caller.press("123456").speech[0][1].startswith("That password is too easy to guess.")
    assert caller.press(PW1).speech[0][1] == "The new password cannot be the initial password."
    caller = login(seeded, ID1, PW1)
    caller.keys("4", "258014")
    doc = caller.press("258015")
    assert doc.speech[0][1] == "The two passwords do not match."
    assert doc.speech[1][1] == "Please enter a new 6 digit password, then press pound."
    caller.press("258014")
    doc = caller.press("258014")
    assert doc.speech[0][1] == "Your password has been changed. Please remember it."
    assert login(seeded, ID1, "258014").doc.heard.startswith("For your medical insurance balance")
    assert login(seeded, ID1, PW1).doc.speech[0][1] == "The ID number or the password is not correct."


def test_report_lost_then_already_reported(seeded):
    caller = login(seeded, ID2, PW2)
    doc = caller.press("5")
    assert doc.heard.startswith("You are reporting your social security card lost.")
    doc = caller.press("1")
    said = doc.speech[0][1]
    assert said.startswith("Your card has been reported lost. Your reference number is ")
    with seeded.extensions["ivr_db"].Session() as s:
        acc = s.scalars(select(Account).where(Account.id_number == ID2)).one()
        assert acc.card_status == "reported_lost" and acc.lost_reference
        assert readout.digits(acc.lost_reference, "en-US") in said     # read back digit by digit
    assert doc.speech[1][1].startswith("Medical balance, press 1.")     # back in the account menu
    assert caller.press("5").speech[0][1].startswith("Your card was already reported lost on ")


def test_card_already_lost_and_cancelling(seeded):
    caller = login(seeded, ID4, PW4, lang="1")
    assert caller.press("5").speech[0][1] == \
        "您的社保卡已于二〇二六年十一月二十日挂失，挂失编号是二 六 幺 幺 二 零 零 零 四 幺 七 三。"
    caller = login(seeded, ID2, PW2)
    caller.press("5")
    assert caller.press("*").heard.startswith("Medical balance, press 1.")   # * cancels


def test_star_leaves_an_entry(seeded):
    caller = Caller(seeded.test_client())
    caller.keys("2", "1")
    assert caller.press("*").heard.startswith("Account, press 1.")


def test_silence_during_an_entry_asks_again(seeded):
    caller = Caller(seeded.test_client())
    caller.keys("2", "1")
    doc = caller.silence()
    assert [t for _, t in doc.speech][0] == "Sorry, we did not hear a key."
    assert doc.gather.get("finishOnKey") == "#"


def test_no_id_number_or_password_in_twiml_or_call_records(seeded):
    caller = login(seeded, ID1, PW1)
    caller.keys("1", "2", "3", "4", "357913", "357913", "5", "1")
    for doc in caller.history:
        assert ID1 not in doc.xml and PW1 not in doc.xml and "357913" not in doc.xml
    with seeded.extensions["ivr_db"].Session() as s:
        call = s.get(Call, caller.sid)
        stored = json.dumps(call.state, ensure_ascii=False) + repr(call.__dict__)
    for secret in (ID1, PW1, "357913", ID1[-6:] + "#"):
        assert secret not in stored
    assert "1101**********4573" in stored      # only the masked form is kept
