"""Read-outs: money, numbers, dates, digits and opening hours in zh-CN and en-US."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.tts import readout as r

ZH_DIGIT = {c: i for i, c in enumerate(r.ZH_DIGITS)} | {"两": 2}
SMALL = {"十": 10, "百": 100, "千": 1000}


# --- an independent reverse parser (Chinese numerals -> int) -------------------------------

def parse_zh_int(text: str) -> int:
    """Spoken Chinese numerals back to an integer; splits on the last 亿, then the last 万."""
    for unit, size in (("亿", 10 ** 8), ("万", 10 ** 4)):
        if unit in text:
            high, _, low = text.rpartition(unit)
            return parse_zh_int(high) * size + (parse_zh_int(low) if low else 0)
    total, digit = 0, None
    for ch in text:
        if ch == "零":
            continue
        if ch in ZH_DIGIT:
            assert digit is None, f"two digits in a row in {text!r}"
            digit = ZH_DIGIT[ch]
        elif ch in SMALL:
            total += (1 if digit is None else digit) * SMALL[ch]
            digit = None
        else:
            raise AssertionError(f"unexpected {ch!r} in {text!r}")
    return total + (digit or 0)


def parse_zh_money(text: str) -> int:
    if text == "零元":
        return 0
    m = re.fullmatch(r"(?:(.+?)元)?(?:零?([一二三四五六七八九])角)?(?:零?([一二三四五六七八九])分)?",
                     text)
    assert m and text, text
    yuan = parse_zh_int(m[1]) if m[1] else 0
    jiao = ZH_DIGIT[m[2]] if m[2] else 0
    fen = ZH_DIGIT[m[3]] if m[3] else 0
    return yuan * 100 + jiao * 10 + fen


def parse_en_money(text: str) -> int:
    m = re.fullmatch(r"(?:([\d,]+) yuan)?(?: ?(\d{1,2}) fen)?", text)
    assert m and text, text
    return int((m[1] or "0").replace(",", "")) * 100 + int(m[2] or 0)


# --- an independent "where does 零 go" oracle, digit by digit ---------------------------------

def oracle_zh(n: int) -> str:
    """The reading rule stated position by position: a digit says its place (十百千); 万 closes
    a non-empty 4-digit group, 亿 closes every 8th place; a run of zeros followed by a digit says
    零 once, except when it only finishes the previous group and the digit starts a new one at
    its thousands place (一千万一千, but 一亿零一千); a leading 一十 is said 十."""
    if n == 0:
        return "零"
    s = str(n)
    out, run_start = [], None
    for i, ch in enumerate(s):
        p = len(s) - 1 - i
        d = int(ch)
        if d == 0:
            if run_start is None:
                run_start = p
        else:
            if run_start is not None:
                if p % 4 != 3 or run_start - p >= 4:
                    out.append("零")
                run_start = None
            out.append(r.ZH_DIGITS[d] + ("", "十", "百", "千")[p % 4])
        if p and p % 8 == 0:
            out.append("亿")
        elif p and p % 4 == 0 and int(s[max(0, i - 3):i + 1]) != 0:
            out.append("万")
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text


# --- numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("n,text", [
    (0, "零"), (1, "一"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"), (100, "一百"),
    (101, "一百零一"), (110, "一百一十"), (111, "一百一十一"), (1000, "一千"), (1001, "一千零一"),
    (1010, "一千零一十"), (1100, "一千一百"), (1234, "一千二百三十四"), (10000, "一万"),
    (10001, "一万零一"), (10010, "一万零一十"), (10100, "一万零一百"), (11000, "一万一千"),
    (100000, "十万"), (150000, "十五万"), (100005, "十万零五"), (1000000, "一百万"),
    (1000005, "一百万零五"), (10000000, "一千万"), (10001000, "一千万一千"),
    (10000100, "一千万零一百"), (11001000, "一千一百万一千"), (100000000, "一亿"),
    (100000001, "一亿零一"), (100001000, "一亿零一千"), (100010000, "一亿零一万"),
    (100500000, "一亿零五十万"), (101000000, "一亿零一百万"), (110000000, "一亿一千万"),
    (1000000000, "十亿"), (1200000000, "十二亿"), (1000000000000, "一万亿"),
    (1000100000000, "一万零一亿"), (10 ** 16, "一亿亿"), (10 ** 16 + 1, "一亿亿零一"),
])
def test_number_zh(n, text):
    assert r.number_zh(n) == text
    assert oracle_zh(n) == text
    assert parse_zh_int(text) == n


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_number_zh_refuses_non_counts(bad):
    with pytest.raises(ValueError):
        r.number_zh(bad)


def test_count_uses_liang_for_two():
    assert r.count(2, "zh-CN") == "两"
    assert r.count(3, "zh-CN") == "三"
    assert r.count(1, "zh-CN") == "一"
    assert r.count(2, "en-US") == "2"
    assert r.count(1200, "en-US") == "1,200"


@given(st.integers(min_value=0, max_value=10 ** 18))
def test_number_zh_matches_the_oracle_and_parses_back(n):
    text = r.number_zh(n)
    assert text == oracle_zh(n)
    assert parse_zh_int(text) == n
    assert "零零" not in text
    assert n == 0 or not text.endswith("零")
    assert not text.startswith("一十")
    assert "两" not in text


# --- money ---------------------------------------------------------------------------------

MONEY = [
    # fen, zh-CN, en-US
    (0, "零元", "0 yuan"),
    (5, "五分", "5 fen"),
    (50, "五角", "50 fen"),
    (56, "五角六分", "56 fen"),
    (100, "一元", "1 yuan"),
    (105, "一元零五分", "1 yuan 5 fen"),
    (1000, "十元", "10 yuan"),
    (1005, "十元零五分", "10 yuan 5 fen"),
    (1050, "十元五角", "10 yuan 50 fen"),
    (10010, "一百元一角", "100 yuan 10 fen"),
    (123456, "一千二百三十四元五角六分", "1,234 yuan 56 fen"),
    (8808, "八十八元零八分", "88 yuan 8 fen"),
    (56000, "五百六十元", "560 yuan"),
    (999999, "九千九百九十九元九角九分", "9,999 yuan 99 fen"),
    (4567890, "四万五千六百七十八元九角", "45,678 yuan 90 fen"),
    (10240000, "十万两千四百元", "102,400 yuan"),
    # 两 where Mandarin says it: the amount two, and a leading two before 千/万/亿.
    (200, "两元", "2 yuan"),
    (200000, "两千元", "2,000 yuan"),
    (2000000, "两万元", "20,000 yuan"),
    (2222200, "两万两千二百二十二元", "22,222 yuan"),
    (1200000, "一万两千元", "12,000 yuan"),
    (20_000_000_000, "两亿元", "200,000,000 yuan"),
    (2_200_000_000, "两千二百万元", "22,000,000 yuan"),
    (1200, "十二元", "12 yuan"),
    (2000, "二十元", "20 yuan"),
    (20000, "二百元", "200 yuan"),
    (10200, "一百零二元", "102 yuan"),
    (220, "两元二角", "2 yuan 20 fen"),
    (22, "二角二分", "22 fen"),
    (22_000_000, "二十二万元", "220,000 yuan"),
    (1_000_000_000, "一千万元", "10,000,000 yuan"),
    (100_000_500, "一百万零五元", "1,000,005 yuan"),
    (10_000_000_001, "一亿元零一分", "100,000,000 yuan 1 fen"),
    (10_000_100_000, "一亿零一千元", "100,001,000 yuan"),
]


@pytest.mark.parametrize("fen,zh,en", MONEY)
def test_money(fen, zh, en):
    assert r.money_zh(fen) == zh
    assert r.money_en(fen) == en
    assert r.money(fen, "zh-CN") == zh
    assert r.money(fen, "en-US") == en
    assert parse_zh_money(zh) == fen
    assert parse_en_money(en) == fen


@pytest.mark.parametrize("bad", [-1, 1.5, "100", None, True])
def test_money_refuses_non_fen(bad):
    with pytest.raises(ValueError):
        r.money_zh(bad)
    with pytest.raises(ValueError):
        r.money_en(bad)


def test_unknown_language():
    with pytest.raises(ValueError):
        r.money(100, "fr-FR")


@given(st.integers(min_value=0, max_value=10 ** 15))
def test_money_parses_back_in_both_languages(fen):
    zh, en = r.money_zh(fen), r.money_en(fen)
    assert parse_zh_money(zh) == fen
    assert parse_en_money(en) == fen
    assert ("元" in zh) == (fen == 0 or fen >= 100)
    assert ("角" in zh) == (fen // 10 % 10 != 0)
    assert ("分" in zh) == (fen % 10 != 0)
    assert "零零" not in zh
    assert ("yuan" in en) == (fen == 0 or fen >= 100)
    assert ("fen" in en) == (fen % 100 != 0)


# --- dates ---------------------------------------------------------------------------------

def test_dates():
    d = dt.date(2026, 3, 5)
    assert r.date_zh(d) == "二〇二六年三月五日"   # the year digit by digit
    assert r.date_en(d) == "March fifth, 2026"   # the day as an ordinal
    assert r.date_text(d, "zh-CN") == "二〇二六年三月五日"
    assert r.date_text(d, "en-US") == "March fifth, 2026"
    assert r.date_text(dt.date(2025, 12, 31), "en-US") == "December thirty-first, 2025"
    assert r.date_text(dt.date(2025, 12, 31), "zh-CN") == "二〇二五年十二月三十一日"
    assert r.date_text(dt.date(2000, 10, 20), "zh-CN") == "二〇〇〇年十月二十日"
    assert r.year_zh(2026) == "二〇二六年"


@pytest.mark.parametrize("n,word", [(1, "first"), (2, "second"), (3, "third"), (5, "fifth"),
                                    (11, "eleventh"), (12, "twelfth"), (20, "twentieth"),
                                    (21, "twenty-first"), (22, "twenty-second"), (30, "thirtieth"),
                                    (31, "thirty-first")])
def test_english_ordinals(n, word):
    assert r.ordinal_en(n) == word


@given(st.dates())
def test_dates_parse_back(d):
    zh_year = {c: str(i) for i, c in enumerate(r.ZH_YEAR_DIGITS)}
    m = re.fullmatch(r"([〇一二三四五六七八九]+)年(.+)月(.+)日", r.date_zh(d))
    assert m
    assert dt.date(int("".join(zh_year[c] for c in m[1])), parse_zh_int(m[2]), parse_zh_int(m[3])) == d
    m = re.fullmatch(r"([A-Z][a-z]+) ([a-z-]+), (\d+)", r.date_en(d))
    assert m and dt.date(int(m[3]), r.EN_MONTHS.index(m[1]) + 1,
                         [r.ordinal_en(n) for n in range(1, 32)].index(m[2]) + 1) == d


@pytest.mark.parametrize("hh,mm,zh,en", [
    (9, 0, "上午九点", "9 a.m."), (14, 5, "下午两点零五分", "2:05 p.m."), (2, 0, "凌晨两点", "2 a.m."),
    (12, 0, "中午十二点", "noon"), (0, 0, "凌晨零点", "midnight"), (8, 30, "上午八点三十分", "8:30 a.m."),
    (17, 30, "下午五点三十分", "5:30 p.m."), (20, 10, "晚上八点十分", "8:10 p.m."),
    (12, 40, "中午十二点四十分", "12:40 p.m."), (22, 0, "晚上十点", "10 p.m."),
])
def test_clock_times(hh, mm, zh, en):
    assert r.time_text(dt.time(hh, mm), "zh-CN") == zh
    assert r.time_text(dt.time(hh, mm), "en-US") == en
    assert "零零" not in zh and "zero" not in en


def test_datetime_in_beijing_time():
    t = dt.datetime(2026, 11, 26, 16, 58, tzinfo=dt.timezone.utc)   # 00:58 next day in Beijing
    assert r.datetime_text(t, "zh-CN") == "二〇二六年十一月二十七日凌晨零点五十八分"
    assert r.datetime_text(t, "en-US") == "November twenty-seventh, 2026 at 12:58 a.m."
    assert r.datetime_text(t, "en-US", tz=dt.timezone.utc) == "November twenty-sixth, 2026 at 4:58 p.m."
    t = dt.datetime(2026, 3, 5, 6, 5, tzinfo=dt.timezone.utc)
    assert r.datetime_text(t, "zh-CN") == "二〇二六年三月五日下午两点零五分"
    assert r.datetime_text(t, "en-US") == "March fifth, 2026 at 2:05 p.m."
    with pytest.raises(ValueError):
        r.datetime_text(dt.datetime(2026, 1, 1), "zh-CN")


# --- digits one by one ---------------------------------------------------------------------

def test_digits():
    assert r.digits("402", "en-US") == "four zero two"
    assert r.digits("4021", "zh-CN") == "四 零 二 幺"   # 幺 for 1, as a number is read on the phone
    assert r.digits("261120004173", "zh-CN", group=4) == "二 六 幺 幺，二 零 零 零，四 幺 七 三"
    assert r.digits("261120004173", "en-US", group=4) == \
        "two six one one, two zero zero zero, four one seven three"
    assert r.digits("12*#", "en-US") == "one two star pound"
    assert r.digits("12*#", "zh-CN") == "幺 二 星 井"
    assert r.digits("18x", "en-US") == "one eight X"
    assert r.digits("12333", "zh-CN") == "幺 二 三 三 三"
    assert r.digits("12333", "en-US") == "one two three three three"


def test_id_number_check_letter_x():
    assert r.digits("11010519491231002X", "zh-CN", group=6) == \
        "幺 幺 零 幺 零 五，幺 九 四 九 幺 二，三 幺 零 零 二 叉"
    assert r.digits("002x", "zh-CN") == "零 零 二 叉"
    assert r.digits("002X", "en-US") == "zero zero two X"


def test_speakable_prompt_text():
    assert r.speakable("欢迎致电12333人力资源", "zh-CN") == "欢迎致电幺二三三三人力资源"
    assert r.speakable("Welcome to the 12333 hotline.", "en-US") == \
        "Welcome to the one two three three three hotline."
    assert r.speakable("自2026年起，9:00至14:05", "zh-CN") == "自二〇二六年起，上午九点至下午两点零五分"
    assert r.speakable("open 9:00 to 14:05", "en-US") == "open 9 a.m. to 2:05 p.m."
    assert r.speakable("如果最后一位是X，请按星号键", "zh-CN") == "如果最后一位是叉，请按星号键"
    # Other numbers are left to the voice: 18位, 123334 and 6 digits are not the hotline.
    assert r.speakable("请输入18位号码，123334", "zh-CN") == "请输入18位号码，123334"
    assert r.speakable("a 6 digit PIN", "en-US") == "a 6 digit PIN"
    assert r.digits("", "en-US") == ""
    with pytest.raises(ValueError):
        r.digits("1.5", "en-US")


@given(st.text(alphabet="0123456789", max_size=30), st.integers(0, 6))
def test_digits_round_trip(s, group):
    zh = r.digits(s, "zh-CN", group=group)
    en = r.digits(s, "en-US", group=group)
    spoken_zh = {c: str(i) for i, c in enumerate(r.ZH_SPOKEN_DIGITS)}
    assert "".join(spoken_zh[c] for c in zh if c in spoken_zh) == s
    assert "".join(str(r.EN_DIGIT_WORDS.index(w)) for w in re.split(r"[ ,]+", en) if w) == s
    assert "一" not in zh and "两" not in zh


# --- opening hours -------------------------------------------------------------------------

T = dt.time
WEEKDAYS_SPLIT = {d: ((T(8, 30), T(12)), (T(13, 30), T(17, 30))) for d in range(5)}


def test_hours_weekdays_with_lunch_break():
    assert r.hours_text(WEEKDAYS_SPLIT, "zh-CN") == \
        "周一至周五 上午八点三十分至中午十二点，下午一点三十分至五点三十分"
    assert r.hours_text(WEEKDAYS_SPLIT, "en-US") == \
        "Monday to Friday, 8:30 a.m. to noon and 1:30 p.m. to 5:30 p.m., Beijing time"


def test_hours_from_menu_file_style_strings():
    weekly = {"mon": ["08:30-12:00", "13:30-17:30"], "tue": ["08:30-12:00", "13:30-17:30"],
              "wed": ["13:30-17:30", "08:30-12:00"], "thu": ["08:30-12:00", "13:30-17:30"],
              "fri": ["08:30-12:00", "13:30-17:30"]}
    assert r.hours_text(weekly, "zh-CN") == r.hours_text(WEEKDAYS_SPLIT, "zh-CN")


def test_hours_groups_and_single_days():
    weekly = dict(WEEKDAYS_SPLIT)
    weekly[5] = ((T(9), T(12)),)
    weekly[6] = ((T(9), T(12)),)
    assert r.hours_text(weekly, "zh-CN") == ("周一至周五 上午八点三十分至中午十二点，下午一点三十分至五点三十分；"
                                             "周六、周日 上午九点至中午十二点")
    assert r.hours_text(weekly, "en-US") == ("Monday to Friday, 8:30 a.m. to noon and 1:30 p.m. to 5:30 p.m.; "
                                             "Saturday and Sunday, 9 a.m. to noon, Beijing time")
    only_wed = {2: ((T(14), T(18, 30)),)}
    assert r.hours_text(only_wed, "zh-CN") == "周三 下午两点至晚上六点三十分"
    assert r.hours_text(only_wed, "en-US") == "Wednesday, 2 p.m. to 6:30 p.m., Beijing time"


def test_hours_non_consecutive_days_are_separate_groups():
    weekly = {0: ((T(9), T(17)),), 2: ((T(9), T(17)),), 4: ((T(9), T(17)),)}
    assert r.hours_text(weekly, "zh-CN") == \
        "周一 上午九点至下午五点；周三 上午九点至下午五点；周五 上午九点至下午五点"


def test_hours_around_the_clock():
    weekly = {d: ((T(0), T.max),) for d in range(7)}   # ivr.engine's 24:00 is time.max
    assert r.hours_text(weekly, "zh-CN") == "每天 全天二十四小时"
    assert r.hours_text(weekly, "en-US") == "Every day, 24 hours a day, Beijing time"
    assert r.hours_text({d: ["00:00-24:00"] for d in range(7)}, "en-US") == \
        "Every day, 24 hours a day, Beijing time"


def test_hours_evening_and_three_ranges():
    weekly = {0: ((T(8), T(11, 30)), (T(13), T(17)), (T(18, 30), T(21)))}
    assert r.hours_text(weekly, "zh-CN") == \
        "周一 上午八点至十一点三十分，下午一点至五点，晚上六点三十分至九点"
    assert r.hours_text(weekly, "en-US") == \
        "Monday, 8 a.m. to 11:30 a.m., 1 p.m. to 5 p.m., and 6:30 p.m. to 9 p.m., Beijing time"


def test_hours_other_time_zone_and_none():
    weekly = {0: ((T(9), T(17)),)}
    assert r.hours_text(weekly, "en-US", timezone="Asia/Hong_Kong") == \
        "Monday, 9 a.m. to 5 p.m., Asia/Hong_Kong time"
    assert r.hours_text(weekly, "zh-CN", timezone="Asia/Hong_Kong") == \
        "周一 上午九点至下午五点（Asia/Hong_Kong时间）"
    assert r.hours_text({}, "zh-CN") == "暂无人工服务时间"
    assert r.hours_text({3: ()}, "en-US") == "No staffed hours"


@pytest.mark.parametrize("weekly", [{7: ["08:00-09:00"]}, {"sun day": ["08:00-09:00"]},
                                    {0: ["8-9"]}, {0: ["09:00-08:00"]}, {0: ["08:00-25:00"]},
                                    {0: ["08:61-09:00"]}, {0: [(T(9), T(9))]}])
def test_hours_refuses_nonsense(weekly):
    with pytest.raises(ValueError):
        r.hours_text(weekly, "en-US")


ranges = st.lists(st.tuples(st.integers(0, 23 * 60), st.integers(1, 60)), max_size=3)


@given(st.dictionaries(st.integers(0, 6), ranges, max_size=7))
def test_hours_mentions_every_open_day_and_time(raw):
    weekly = {}
    for day, spans in raw.items():
        weekly[day] = tuple((T(a // 60, a % 60), T((a + n) // 60, (a + n) % 60))
                            for a, n in spans if a + n < 24 * 60)
    zh = r.hours_text(weekly, "zh-CN")
    en = r.hours_text(weekly, "en-US")
    open_days = {d for d, spans in weekly.items() if spans}
    if not open_days:
        assert zh == "暂无人工服务时间"
        return
    assert en.endswith(", Beijing time")
    for spans in weekly.values():
        for a, b in spans:
            for t in (a, b):
                minutes = t.hour * 60 + t.minute
                assert r.clock_zh(minutes, period=False) in zh and r.clock_en(minutes) in en
    # Every open day is named, directly or inside a range "X至Y" / "X to Y".
    named = set()
    for m in re.finditer(r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
                         r"(?: to (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))?", en):
        first = r.EN_WEEKDAYS.index(m[1])
        last = r.EN_WEEKDAYS.index(m[2]) if m[2] else first
        named.update(range(first, last + 1))
    if en.startswith("Every day"):
        named = set(range(7))
    assert named == open_days
