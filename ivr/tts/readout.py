"""How amounts, dates, digit strings and opening hours are read out, in zh-CN and en-US.

Pure functions, no database. The texts go to a TTS voice (Twilio <Say>, pyttsx3), so they are
written the way a person says them, not the way a receipt prints them.

Money (integer fen; 1 yuan = 10 jiao = 100 fen):

- zh-CN: 元角分 in Chinese numerals. ``123456`` -> 一千二百三十四元五角六分; ``0`` -> 零元;
  ``1005`` -> 十元零五分; ``10010`` -> 一百元一角; ``5`` -> 五分 (no 零元 in front: people say
  五分, not 零元零五分); ``1_000_000_000`` -> 一千万元. Numbers follow the spoken convention: 零
  once for each run of missing places (一千零一, 一亿零一万), a leading 一十 said as 十 (十元,
  十五万) but kept inside a number (一百一十). 两 where Mandarin says it: 两元 (the whole amount
  two yuan), 两千, 两万, 两亿 (a leading two before those units); 二 elsewhere (十二元, 二十元,
  二百元, 一千零二元, 二角, 二分).
- en-US: ``1,234 yuan 56 fen``, ``0 yuan``, ``10 yuan``, ``5 fen``, ``100 yuan 10 fen``: digits
  with thousands separators, which every English TTS voice reads as a number.

Digits one by one (the hotline number, reference numbers, ID numbers): zh the telephone style
幺 for 1 (12333 -> 幺二三三三), the check letter X of an ID number as 叉; en digit words
(``one two three three three``); separated by spaces.

Years digit by digit (二〇二六年, "2026" in English), dates 三月五日 / "March fifth, 2026", clock
times on a spoken clock: zh 九点, 下午两点零五分 (12-hour, with 凌晨/上午/中午/下午/晚上; no 零零分),
en "9 a.m.", "2:05 p.m.", "noon", "midnight".

:func:`speakable` rewrites the hotline number, years and clock times inside free prompt text the
same way, for the local TTS voice (the prompt files keep the written form).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterable, Mapping, Sequence

ZH_DIGITS = "零一二三四五六七八九"
_ZH_SMALL_UNITS = ("", "十", "百", "千")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
ZH_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _is_zh(lang: str) -> bool:
    low = lang.lower()
    if low.startswith("zh"):
        return True
    if low.startswith("en"):
        return False
    raise ValueError(f"unsupported language {lang!r} (zh-CN or en-US)")


# --- numbers ------------------------------------------------------------------------------------

def _under_10000(n: int) -> str:
    """1..9999 with internal 零 and no trailing zeros; a leading 1 in the tens stays 一十."""
    out = []
    zero_pending = False
    for place in (3, 2, 1, 0):
        d = n // 10 ** place % 10
        if d == 0:
            if out:
                zero_pending = True
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(ZH_DIGITS[d] + _ZH_SMALL_UNITS[place])
    return "".join(out)


def _zh_positive(n: int) -> str:
    """n >= 1, with 一十 kept (the caller drops a leading one)."""
    if n < 10_000:
        return _under_10000(n)
    unit, size = ("亿", 10 ** 8) if n >= 10 ** 8 else ("万", 10 ** 4)
    high, rest = divmod(n, size)
    text = _zh_positive(high) + unit
    if rest:
        # A missing leading place in the lower part is said as 零: 一万零五, 一亿零一百万.
        if rest < size // 10:
            text += "零"
        text += _zh_positive(rest)
    return text


def number_zh(n: int) -> str:
    """A non-negative integer in Chinese numerals as spoken: 0 -> 零, 10 -> 十,
    110 -> 一百一十, 100005 -> 十万零五, 100010000 -> 一亿零一万."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"need a non-negative integer, not {n!r}")
    if n == 0:
        return "零"
    text = _zh_positive(n)
    return text[1:] if text.startswith("一十") else text


def number_en(n: int) -> str:
    """``1234567`` -> ``1,234,567``."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"need a non-negative integer, not {n!r}")
    return f"{n:,}"


def count(n: int, lang: str) -> str:
    """A count of things before a measure word: zh 两 for 2 (两笔, not 二笔), otherwise as
    :func:`number_zh`; en plain digits with separators."""
    if _is_zh(lang):
        return "两" if n == 2 else number_zh(n)
    return number_en(n)


# --- money --------------------------------------------------------------------------------------

def _split_fen(fen: int) -> tuple[int, int, int]:
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise ValueError(f"money is an integer number of fen, not {fen!r}")
    if fen < 0:
        raise ValueError(f"a negative amount ({fen} fen) is not read out")
    yuan, cents = divmod(fen, 100)
    return yuan, cents // 10, cents % 10


_LIANG = re.compile(r"二(?=千)|(?<![十百千])二(?=[万亿])")


def _liang(text: str) -> str:
    """两 for a leading two before 千/万/亿 and for the number two itself (两元, 两千, 两万)."""
    return "两" if text == "二" else _LIANG.sub("两", text)


def money_zh(fen: int) -> str:
    yuan, jiao, f = _split_fen(fen)
    if fen == 0:
        return "零元"
    parts = []
    if yuan:
        parts.append(_liang(number_zh(yuan)) + "元")
    if jiao:
        parts.append(ZH_DIGITS[jiao] + "角")
    if f:
        # 十元零五分: a missing 角 between 元 and 分 is said as 零.
        if yuan and not jiao:
            parts.append("零")
        parts.append(ZH_DIGITS[f] + "分")
    return "".join(parts)


def money_en(fen: int) -> str:
    yuan, jiao, f = _split_fen(fen)
    cents = jiao * 10 + f
    if yuan and cents:
        return f"{yuan:,} yuan {cents} fen"
    if cents:
        return f"{cents} fen"
    return f"{yuan:,} yuan"


def money(fen: int, lang: str) -> str:
    return money_zh(fen) if _is_zh(lang) else money_en(fen)


# --- dates and times ----------------------------------------------------------------------------

ZH_YEAR_DIGITS = "〇一二三四五六七八九"
_EN_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
                "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth")


def year_zh(year: int) -> str:
    """``2026`` -> ``二〇二六年``: years are read digit by digit."""
    return "".join(ZH_YEAR_DIGITS[int(c)] for c in str(year)) + "年"


def ordinal_en(n: int) -> str:
    """1..39 as an English ordinal word: ``5`` -> ``fifth``, ``21`` -> ``twenty-first``."""
    if not 1 <= n <= 39:
        raise ValueError(f"no ordinal for {n!r} (1-39)")
    if n <= 20:
        return _EN_ORDINALS[n - 1]
    tens = {2: "twenty", 3: "thirty"}[n // 10]
    if n % 10 == 0:
        return "thirtieth"
    return f"{tens}-{_EN_ORDINALS[n % 10 - 1]}"


def date_zh(d: dt.date) -> str:
    """``二〇二六年三月五日`` (the year digit by digit, month and day as numbers)."""
    return f"{year_zh(d.year)}{number_zh(d.month)}月{number_zh(d.day)}日"


def date_en(d: dt.date) -> str:
    """``March fifth, 2026``."""
    return f"{EN_MONTHS[d.month - 1]} {ordinal_en(d.day)}, {d.year}"


def date_text(d: dt.date, lang: str) -> str:
    return date_zh(d) if _is_zh(lang) else date_en(d)


def _zh_period(minutes: int) -> str:
    hour = minutes // 60 % 24
    if hour < 6:
        return "凌晨"
    if hour < 12:
        return "上午"
    if hour == 12:
        return "中午"
    if hour < 18:
        return "下午"
    return "晚上"


def clock_zh(minutes: int, *, period: bool = True) -> str:
    """Minutes after midnight on the spoken 12-hour clock: ``540`` -> ``上午九点``, ``845`` ->
    ``下午两点零五分``; ``period=False`` leaves out 上午/下午. 0:00 is 凌晨零点, 24:00 晚上十二点."""
    hour, minute = divmod(minutes, 60)
    h12 = 0 if hour == 0 else hour % 12 or 12  # 0:58 is 凌晨零点五十八分
    text = ("两" if h12 == 2 else number_zh(h12)) + "点"
    if minute:
        text += ("零" if minute < 10 else "") + number_zh(minute) + "分"
    if not period:
        return text
    return ("晚上" if hour == 24 else _zh_period(minutes)) + text


def clock_en(minutes: int) -> str:
    """``540`` -> ``9 a.m.``, ``845`` -> ``2:05 p.m.``, ``720`` -> ``noon``, 0/1440 -> ``midnight``."""
    hour, minute = divmod(minutes, 60)
    if minute == 0 and hour in (0, 24):
        return "midnight"
    if minute == 0 and hour == 12:
        return "noon"
    suffix = "a.m." if hour % 24 < 12 else "p.m."
    h12 = hour % 12 or 12
    return f"{h12} {suffix}" if minute == 0 else f"{h12}:{minute:02d} {suffix}"


def time_text(t: dt.time, lang: str) -> str:
    minutes = t.hour * 60 + t.minute
    return clock_zh(minutes) if _is_zh(lang) else clock_en(minutes)


def datetime_text(t: dt.datetime, lang: str, tz: dt.tzinfo | None = None) -> str:
    """A moment as a date and spoken clock time, in ``tz`` (default: Beijing time).
    zh ``二〇二六年三月五日下午两点零五分``; en ``March fifth, 2026 at 2:05 p.m.``."""
    if tz is None:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo("Asia/Shanghai")
    if t.tzinfo is None:
        raise ValueError("need an aware datetime")
    local = t.astimezone(tz)
    if _is_zh(lang):
        return f"{date_zh(local)}{time_text(local.time(), lang)}"
    return f"{date_en(local)} at {time_text(local.time(), lang)}"


# --- digits one by one --------------------------------------------------------------------------

_ZH_KEYS = {"*": "星", "#": "井"}
_EN_KEYS = {"*": "star", "#": "pound"}
# Digits said one by one: 幺 for 1, as on the phone (一 is easily misheard as 七).
ZH_SPOKEN_DIGITS = "零幺二三四五六七八九"
EN_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# The ID number's check letter X (value 10), as a Mandarin speaker says it.
ZH_LETTERS = {"X": "叉"}


def digits(s: str, lang: str, *, group: int = 0) -> str:
    """Read ``s`` character by character: ``4021`` -> ``四 零 二 幺`` / ``four zero two one``.

    Letters are spelled (upper case; zh says the ID number's X as 叉), ``*``/``#`` named
    (星/井, star/pound). ``group`` > 0 adds a
    pause (``，`` / ``,``) every ``group`` characters, for long numbers.
    """
    zh = _is_zh(lang)
    words = []
    for ch in s:
        if ch.isascii() and ch.isdigit():
            words.append(ZH_SPOKEN_DIGITS[int(ch)] if zh else EN_DIGIT_WORDS[int(ch)])
        elif ch in _ZH_KEYS:
            words.append(_ZH_KEYS[ch] if zh else _EN_KEYS[ch])
        elif ch.isascii() and ch.isalpha():
            words.append(ZH_LETTERS.get(ch.upper(), ch.upper()) if zh else ch.upper())
        elif ch.isspace() or ch == "-":
            continue
        else:
            raise ValueError(f"cannot read {ch!r} digit by digit")
    if group <= 0:
        return " ".join(words)
    chunks = [" ".join(words[i:i + group]) for i in range(0, len(words), group)]
    return ("，" if zh else ", ").join(chunks)


digits_text = digits


# --- opening hours ------------------------------------------------------------------------------

_RANGE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(t: dt.time, *, end: bool) -> int:
    if not isinstance(t, dt.time):
        raise TypeError(f"need a datetime.time, not {t!r}")
    if end and t == dt.time.max:
        return 24 * 60
    return t.hour * 60 + t.minute


def _parse_ranges(ranges: Iterable) -> tuple[tuple[int, int], ...]:
    out = []
    for r in ranges:
        if isinstance(r, str):
            m = _RANGE.fullmatch(r.strip())
            if not m:
                raise ValueError(f"opening hours must look like 08:30-12:00, not {r!r}")
            start = int(m[1]) * 60 + int(m[2])
            stop = int(m[3]) * 60 + int(m[4])
            if int(m[2]) > 59 or int(m[4]) > 59 or start >= 24 * 60 or stop > 24 * 60:
                raise ValueError(f"not a time of day in {r!r}")
        else:
            a, b = r
            start, stop = _minutes(a, end=False), _minutes(b, end=True)
        if start >= stop:
            raise ValueError(f"an opening range must end after it starts: {r!r}")
        out.append((start, stop))
    return tuple(sorted(out))


def _normalise_week(weekly: Mapping) -> dict[int, tuple[tuple[int, int], ...]]:
    """Accepts ``{0: ((time, time), ...)}`` (ivr.engine.model.Hours.weekly, 0 = Monday, an end
    of ``time.max`` meaning 24:00) or ``{"mon": ["08:30-12:00"]}`` (menus.toml style)."""
    week: dict[int, tuple[tuple[int, int], ...]] = {}
    for key, ranges in weekly.items():
        if isinstance(key, str):
            if key.lower() not in _DAY_NAMES:
                raise ValueError(f"unknown day {key!r}")
            day = _DAY_NAMES.index(key.lower())
        elif isinstance(key, int) and 0 <= key <= 6:
            day = key
        else:
            raise ValueError(f"unknown day {key!r}")
        parsed = _parse_ranges(ranges)
        if parsed:
            week[day] = parsed
    return week


def _zh_range(a: int, b: int) -> str:
    end = clock_zh(b, period=_zh_period(b) != _zh_period(a) or b == 24 * 60)
    return f"{clock_zh(a)}至{end}"


def _zh_ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    if ranges == ((0, 24 * 60),):
        return "全天二十四小时"
    return "，".join(_zh_range(a, b) for a, b in ranges)


def _en_ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    if ranges == ((0, 24 * 60),):
        return "24 hours a day"
    parts = [f"{clock_en(a)} to {clock_en(b)}" for a, b in ranges]
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def _day_runs(week: dict[int, tuple]) -> list[tuple[list[int], tuple]]:
    """Consecutive days with the same hours, in week order (Monday first)."""
    runs: list[tuple[list[int], tuple]] = []
    for day in range(7):
        if day not in week:
            continue
        if runs and runs[-1][0][-1] == day - 1 and runs[-1][1] == week[day]:
            runs[-1][0].append(day)
        else:
            runs.append(([day], week[day]))
    return runs


def _days(days: Sequence[int], zh: bool) -> str:
    names = ZH_WEEKDAYS if zh else EN_WEEKDAYS
    if len(days) == 7:
        return "每天" if zh else "Every day"
    if len(days) == 1:
        return names[days[0]]
    if len(days) == 2:
        return f"{names[days[0]]}、{names[days[1]]}" if zh else \
            f"{names[days[0]]} and {names[days[1]]}"
    return f"{names[days[0]]}至{names[days[-1]]}" if zh else \
        f"{names[days[0]]} to {names[days[-1]]}"


def hours_text(weekly: Mapping, lang: str, *, timezone: str = "Asia/Shanghai") -> str:
    """Opening hours as a sentence.

    zh: ``周一至周五 上午八点三十分至中午十二点，下午一点三十分至五点三十分``
    en: ``Monday to Friday, 8:30 a.m. to noon and 1:30 p.m. to 5:30 p.m., Beijing time``

    Consecutive days with the same hours are joined; groups are separated by ``；`` / ``; ``.
    Times are on the spoken 12-hour clock (:func:`clock_zh`, :func:`clock_en`). The en text names the time zone (Beijing time for
    Asia/Shanghai); the zh text names it only when it is not Beijing time.
    """
    zh = _is_zh(lang)
    week = _normalise_week(weekly)
    tz_zh = "" if timezone == "Asia/Shanghai" else f"（{timezone}时间）"
    tz_en = "Beijing time" if timezone == "Asia/Shanghai" else f"{timezone} time"
    if not week:
        return "暂无人工服务时间" if zh else "No staffed hours"
    groups = []
    for days, ranges in _day_runs(week):
        if zh:
            groups.append(f"{_days(days, True)} {_zh_ranges(ranges)}")
        else:
            groups.append(f"{_days(days, False)}, {_en_ranges(ranges)}")
    if zh:
        return "；".join(groups) + tz_zh
    return "; ".join(groups) + f", {tz_en}"


# --- free prompt text -----------------------------------------------------------------------

HOTLINE = "12333"
_HOTLINE_RE = re.compile(r"(?<!\d)12333(?!\d)")
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})年")
_LONE_X = re.compile(r"(?<![A-Za-z])X(?![A-Za-z])")  # the ID number's check letter in a zh prompt
_TIME_RE = re.compile(r"(?<![\d:])([01]?\d|2[0-4]):([0-5]\d)(?![\d:])")


def speakable(text: str, lang: str) -> str:
    """Prompt text as the voice should be given it: the hotline number digit by digit
    (幺二三三三 / one two three three three), zh years digit by digit (2026年 -> 二〇二六年), the
    ID number's letter X as 叉 in zh, and
    clock times spoken (9:00 -> 上午九点 / 9 a.m.). Everything else is left as written."""
    zh = _is_zh(lang)
    text = _HOTLINE_RE.sub(lambda m: digits(m.group(0), lang).replace(" ", "") if zh
                           else digits(m.group(0), lang), text)
    if zh:
        text = _YEAR_RE.sub(lambda m: year_zh(int(m.group(1))), text)
        text = _LONE_X.sub(ZH_LETTERS["X"], text)

    def clock(m: re.Match) -> str:
        minutes = int(m.group(1)) * 60 + int(m.group(2))
        return clock_zh(minutes) if zh else clock_en(minutes)

    return _TIME_RE.sub(clock, text)
