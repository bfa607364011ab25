"""ivr.engine.speech: normalisation, matching to options and spoken digits, as tables."""
import pytest

from ivr.engine import speech
from ivr.engine.loader import read_menu_file
from tests.conftest import ROOT

MODEL = read_menu_file(ROOT / "menus.toml")[0]


def choices(menu: str, lang: str) -> dict:
    m = MODEL.menus[menu]
    out = {k: p[lang] for k, p in m.phrases.items() if lang in p}
    for key, p in MODEL.global_phrases.items():
        if key not in m.options and lang in p:
            out[key] = p[lang]
    return out


@pytest.mark.parametrize("text,expected", [
    ("查詢醫保餘額", "查询医保余额"),              # traditional -> simplified
    ("ＢＡＬＡＮＣＥ！", "balance"),               # full-width letters and punctuation
    ("Medical   Balance, please.", "medical balance please"),
    ("“余额”？", "余额"),
    ("  ", ""),
])
def test_normalise(text, expected):
    assert speech.normalise(text) == expected


ZH_ACCOUNT = [
    ("查余额", "1"), ("余额", "1"), ("医保余额", "1"), ("我想查一下醫保餘額", "1"),
    ("查询养老余额", "2"),             # 养老余额 (4) beats 余额 (2): longest wins
    ("养老金还有多少", "2"), ("最近的消费记录", "3"), ("我要改密码", "4"), ("我的卡丢了", "5"),
    ("社保卡挂失", "5"), ("返回", "*"), ("再说一遍", "9"), ("转人工", "0"), ("一", "1"), ("按五", "5"),
    ("天气怎么样", None),            # nothing said that is an option
    ("医保养老", None),              # 医保 (2) ties 养老 (2): two options, no winner
    ("", None),
]
EN_ACCOUNT = [
    ("balance", "1"), ("my medical balance please", "1"), ("pension balance", "2"),
    ("PENSION", "2"), ("recent spending", "3"), ("change my password", "4"), ("I lost my card", "5"),
    ("lost card", "5"), ("go back", "*"), ("an agent please", "0"), ("three", "3"),
    ("suspension", None),            # whole words: "pension" is not in "suspension"
    ("medical pension", None),       # tie
    ("hello", None),
]
ZH_MAIN = [("查余额", "1"), ("补卡", "2"), ("办理社保卡", "2"), ("微信查询余额", "3"),
           ("社会保险法", "4"), ("人工服务", "0"), ("客服", "0"), ("返回上级", "*")]
EN_MAIN = [("check my balance", "1"), ("other ways to check my balance", "3"),
           ("replace my card", "2"), ("the law", "4"), ("operator", "0")]


@pytest.mark.parametrize("said,key", ZH_ACCOUNT)
def test_zh_account_menu(said, key):
    assert speech.match(said, choices("account", "zh-CN")).key == key


@pytest.mark.parametrize("said,key", EN_ACCOUNT)
def test_en_account_menu(said, key):
    assert speech.match(said, choices("account", "en-US")).key == key


@pytest.mark.parametrize("said,key", ZH_MAIN + EN_MAIN)
def test_main_menu(said, key):
    lang = "en-US" if said.isascii() else "zh-CN"
    assert speech.match(said, choices("main", lang)).key == key


def test_a_tie_and_nothing_are_told_apart():
    assert speech.match("医保养老", choices("account", "zh-CN")).reason == "tie"
    assert speech.match("天气", choices("account", "zh-CN")).reason == "nothing"
    won = speech.match("查询养老余额", choices("account", "zh-CN"))
    assert (won.key, won.phrase) == ("2", "查询养老余额")


@pytest.mark.parametrize("said,allow_x,digits", [
    ("一一零一零一一九九零零三零七四五七三", True, "110101199003074573"),
    ("幺幺洞幺洞幺 一九九零 零三零七 四五七三", True, "110101199003074573"),
    ("四四零一零六一九八八一二零三一一八叉", True, "44010619881203118X"),
    ("四四零一零六一九八八一二零三一一八 X", True, "44010619881203118X"),
    ("44010619881203118x", True, "44010619881203118X"),
    ("one one zero one zero one", False, "110101"),
    ("zero seven four five seven three", False, "074573"),
    ("oh seven four, five seven three.", False, "074573"),
    ("double five triple one", False, "55111"),
    ("两拐勾", False, "279"),
    ("074573", False, "074573"),
    ("０７４５７３", False, "074573"),         # full-width digits
    ("一二三四五六井号", False, "123456"),     # the finish key said aloud
    ("一二三X", False, None),                 # X only where the entry takes it
    ("叉一二三", True, None),                 # and only last
    ("二十三", False, None),                  # a number read as a quantity is not digits
    ("my password is one two", False, None),
    ("double", False, None),
    ("", False, None),
])
def test_spoken_digits(said, allow_x, digits):
    assert speech.spoken_digits(said, allow_x=allow_x) == digits


@pytest.mark.parametrize("said,lang,answer", [
    ("是", "zh-CN", True), ("是的", "zh-CN", True), ("对", "zh-CN", True), ("不是", "zh-CN", False),
    ("不对", "zh-CN", False), ("一", "zh-CN", True), ("二", "zh-CN", False), ("什么", "zh-CN", None),
    ("yes", "en-US", True), ("Yes, please.", "en-US", True), ("no", "en-US", False),
    ("not really", "en-US", False), ("two", "en-US", False), ("maybe", "en-US", None),
])
def test_yes_or_no(said, lang, answer):
    assert speech.yes_or_no(said, lang) is answer


@pytest.mark.parametrize("value,expected", [
    ("0.91", 0.91), ("0", 0.0), ("1", 1.0), (None, None), ("", None), ("high", 0.0), ("7", 0.0),
    ("-0.1", 0.0), ("nan", 0.0),
])
def test_confidence(value, expected):
    assert speech.confidence(value) == expected
