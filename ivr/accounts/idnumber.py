"""Chinese citizen identity numbers (公民身份号码, GB 11643-1999).

An ID number has 18 characters: a 6-digit address code, the birth date as YYYYMMDD, a 3-digit
sequence code (odd for men, even for women) and an ISO 7064 MOD 11-2 check character, which is
a digit or ``X``. The social security number *is* the ID number (Social Insurance Law art. 58).

:func:`check_id` tells the caller precisely what is wrong with a keyed number; the checksum itself
comes from python-stdnum's ``stdnum.cn.ric.calc_check_digit``. stdnum's ``validate`` is not used:
it raises the same ``InvalidComponent`` for an impossible date and for an address code it does not
know, gives no length or position, and rejects real numbers whose county code was created after
the holder's birth year (440305, Shenzhen Nanshan, created 1990, rejects a 1972 birth date --
one of the demo accounts). Address codes are not checked here: the issue asks for length, birth
date and check digit, and made-up seed accounts need not match the GB/T 2260 list year by year.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Iterator
from zoneinfo import ZoneInfo

from stdnum.cn.ric import calc_check_digit

ID_LENGTH = 18
BEIJING = ZoneInfo("Asia/Shanghai")
# Earliest birth date accepted. The standard's own examples include people born in the 1880s
# (440524188001010014 is a published test vector), so 1800 rather than 1900.
EARLIEST_BIRTH = dt.date(1800, 1, 1)

# Machine codes of check_id results.
OK = "ok"
EMPTY = "empty"
INVALID_CHARACTER = "invalid_character"  # a letter or symbol other than a final X
X_NOT_LAST = "x_not_last"                # X anywhere but the 18th place
WRONG_LENGTH = "wrong_length"
BAD_DATE = "bad_date"                    # no such calendar day (1990-02-30, 1900-02-29, month 13)
FUTURE_DATE = "future_date"              # a real date, but after today
TOO_OLD = "too_old"                      # before 1800
BAD_CHECK_DIGIT = "bad_check_digit"

CODES = (OK, EMPTY, INVALID_CHARACTER, X_NOT_LAST, WRONG_LENGTH, BAD_DATE, FUTURE_DATE, TOO_OLD,
         BAD_CHECK_DIGIT)


@dataclass(frozen=True)
class IdCheck:
    """What :func:`check_id` found. ``details`` holds the values a prompt names, per ``code``:

    - ``wrong_length``: ``length`` (characters keyed; "that is 17 digits")
    - ``invalid_character``: ``position`` (1-based) and ``character``
    - ``x_not_last``: ``position`` of the first misplaced X
    - ``bad_date`` / ``future_date`` / ``too_old``: ``year``, ``month``, ``day`` as keyed (ints)
    - ``bad_check_digit``: ``expected`` and ``got`` (each ``"0"``..``"9"`` or ``"X"``)
    """

    code: str
    number: str                      # the input, normalised (upper case, * read as X)
    details: dict = field(default_factory=dict)
    birth_date: dt.date | None = None

    @property
    def ok(self) -> bool:
        return self.code == OK

    @property
    def masked(self) -> str:
        return mask_id(self.number)

    def explain(self, lang: str = "en-US") -> str:
        """A short sentence naming the problem, for the caller (zh-CN or en-US)."""
        zh = lang.lower().startswith("zh")
        d = self.details
        if self.code == OK:
            return "身份证号码有效" if zh else "The ID number is valid."
        if self.code == EMPTY:
            return "您没有输入号码" if zh else "No number was entered."
        if self.code == WRONG_LENGTH:
            n = d["length"]
            if zh:
                return f"您输入了{n}位，身份证号码应为18位"
            return f"That is {n} digit{'s' if n != 1 else ''}; an ID number has 18."
        if self.code == INVALID_CHARACTER:
            p = d["position"]
            return (f"第{p}位不是数字" if zh else
                    f"Character {p} is not a digit; only digits and a final X are allowed.")
        if self.code == X_NOT_LAST:
            return ("字母X只能出现在最后一位" if zh else
                    "The letter X can only be the last character.")
        if self.code in (BAD_DATE, FUTURE_DATE, TOO_OLD):
            y, m, dd = d["year"], d["month"], d["day"]
            if self.code == BAD_DATE:
                return (f"出生日期{y}年{m}月{dd}日不存在" if zh else
                        f"The birth date in it, {y:04d}-{m:02d}-{dd:02d}, does not exist.")
            if self.code == FUTURE_DATE:
                return ("出生日期晚于今天" if zh else "The birth date in it is in the future.")
            return "出生日期不正确" if zh else "The birth date in it is not plausible."
        if self.code == BAD_CHECK_DIGIT:
            return "校验位不符" if zh else "The check digit does not match."
        raise AssertionError(self.code)


def normalise(raw: str) -> str:
    """Strip surrounding white space, upper-case, and read ``*`` (the keypad's X) as ``X``."""
    return raw.strip().upper().replace("*", "X")


def check_digit(body17: str) -> str:
    """The MOD 11-2 check character for 17 digits (python-stdnum's implementation)."""
    # stdnum's function takes the whole number (check place included) and ignores the last char.
    return calc_check_digit(body17 + "0")


def _today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def check_id(raw: str, *, today: dt.date | None = None) -> IdCheck:
    """Check a keyed ID number and say precisely what is wrong with it.

    ``raw`` may use ``*`` or a lower-case ``x`` for X. Checks, in order: empty, characters other than
    digits and X, length, X before the last place, birth date (real day, not in the future, not
    before 1800), check digit. ``today`` defaults to today's date in Beijing.
    """
    number = normalise(raw)
    if not number:
        return IdCheck(EMPTY, number, {"length": 0})
    for i, ch in enumerate(number, start=1):
        if not (ch.isascii() and (ch.isdigit() or ch == "X")):
            return IdCheck(INVALID_CHARACTER, number, {"position": i, "character": ch})
    if len(number) != ID_LENGTH:
        return IdCheck(WRONG_LENGTH, number, {"length": len(number)})
    x_at = number.find("X")
    if x_at != -1 and x_at != ID_LENGTH - 1:
        return IdCheck(X_NOT_LAST, number, {"position": x_at + 1})
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    ymd = {"year": year, "month": month, "day": day}
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return IdCheck(BAD_DATE, number, ymd)
    if born > (today or _today()):
        return IdCheck(FUTURE_DATE, number, ymd, born)
    if born < EARLIEST_BIRTH:
        return IdCheck(TOO_OLD, number, ymd, born)
    expected = check_digit(number[:17])
    if number[17] != expected:
        return IdCheck(BAD_CHECK_DIGIT, number, {"expected": expected, "got": number[17]}, born)
    return IdCheck(OK, number, {}, born)


def mask_id(number: str) -> str:
    """``110101199003074573`` -> ``1101**********4573``: the form used outside the accounts table.

    Anything shorter than 12 characters is masked entirely (showing 8 of fewer would reveal most
    of it).
    """
    n = len(number)
    if n < 12:
        return "*" * n
    return number[:4] + "*" * (n - 8) + number[-4:]


# --- Made-up ID numbers for seeding ----------------------------------------------------------

# Real county-level address codes (GB/T 2260) with the city name, spread over several provinces.
REGIONS: tuple[tuple[str, str], ...] = (
    ("110101", "北京市"), ("110102", "北京市"), ("110105", "北京市"), ("110108", "北京市"),
    ("120101", "天津市"), ("120103", "天津市"), ("130102", "石家庄市"), ("140105", "太原市"),
    ("210102", "沈阳市"), ("220102", "长春市"), ("230102", "哈尔滨市"), ("310101", "上海市"),
    ("310104", "上海市"), ("310115", "上海市"), ("320102", "南京市"), ("320505", "苏州市"),
    ("330106", "杭州市"), ("340104", "合肥市"), ("350102", "福州市"), ("360102", "南昌市"),
    ("370102", "济南市"), ("370202", "青岛市"), ("410105", "郑州市"), ("420106", "武汉市"),
    ("430104", "长沙市"), ("440104", "广州市"), ("440106", "广州市"), ("440305", "深圳市"),
    ("440306", "深圳市"), ("450103", "南宁市"), ("460105", "海口市"), ("500103", "重庆市"),
    ("510107", "成都市"), ("520102", "贵阳市"), ("530102", "昆明市"), ("610113", "西安市"),
    ("620102", "兰州市"), ("650102", "乌鲁木齐市"),
)
_FIRST_BIRTH = dt.date(1950, 1, 1)
_LAST_BIRTH = dt.date(2006, 12, 31)
_DAYS = (_LAST_BIRTH - _FIRST_BIRTH).days + 1
_SEQUENCES = 999  # sequence codes 001..999
SPACE = len(REGIONS) * _DAYS * _SEQUENCES  # distinct numbers the generator can make


def _compose(index: int) -> tuple[str, str]:
    """The index-th (region, date, sequence) combination as (ID number, city)."""
    index, seq = divmod(index, _SEQUENCES)
    region_i, day = divmod(index, _DAYS)
    code, city = REGIONS[region_i]
    born = _FIRST_BIRTH + dt.timedelta(days=day)
    body = f"{code}{born:%Y%m%d}{seq + 1:03d}"
    return body + check_digit(body), city


def _coprime_multiplier(rng: random.Random, n: int) -> int:
    import math

    while True:
        a = rng.randrange(n // 3, n)
        if math.gcd(a, n) == 1:
            return a


def generate_ids(count: int, seed: int, *, exclude: frozenset[str] | set[str] = frozenset()
                 ) -> Iterator[tuple[str, str]]:
    """Yield ``count`` distinct valid made-up ID numbers with their city, deterministic in ``seed``.

    Distinct without remembering them: the i-th number is combination ``(a*i + b) mod SPACE`` of
    (address code, birth date 1950-2006, sequence 001-999), and ``a`` is coprime to ``SPACE``, so
    the map is a permutation. Numbers in ``exclude`` (the demo accounts) are skipped and replaced.
    The same seed always gives the same numbers in the same order, so a re-run can skip those
    already stored. Numbers from different seeds may coincide (about count²/SPACE of them, i.e.
    rarely); a seeding run skips numbers that already exist.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    if count > SPACE - len(exclude):
        raise ValueError(f"at most {SPACE - len(exclude)} distinct numbers can be generated")
    rng = random.Random(f"ivr-id-generator:{seed}")
    a = _coprime_multiplier(rng, SPACE)
    b = rng.randrange(SPACE)
    made = 0
    i = 0
    while made < count:
        number, city = _compose((a * i + b) % SPACE)
        i += 1
        if number in exclude:
            continue
        made += 1
        yield number, city
