"""ID number checks (GB 11643-1999), masking and the seed generator."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from ivr.accounts import idnumber as idn
from ivr.accounts.idnumber import check_id, mask_id

TODAY = dt.date(2026, 11, 26)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def reference_check(body17: str) -> str:
    """The standard's own formulation, independent of stdnum: S = sum(Ai*Wi), Y = S mod 11,
    Y 0..10 -> 1 0 X 9 8 7 6 5 4 3 2."""
    y = sum(int(a) * w for a, w in zip(body17, WEIGHTS)) % 11
    return "10X98765432"[y]


def check(raw):
    return check_id(raw, today=TODAY)


# Vectors from the domain reference (§2.1), checked there against the rule.
VALID = ["11010519491231002X", "440524188001010014", "34052419800101001X", "360426199101010071",
         "120103198806018241", "230306196304054513", "110101202311012176", "120223198902021249",
         "130132199210293822",
         # the demo accounts
         "110101199003074573", "310104198511122035", "44010619881203118X", "440305197206150015"]
BAD_CHECK = {"360426199101010072": "1", "230307196304054513": "X", "110101202311012171": "6",
             "130402198207290622": "4"}


def test_weights_are_powers_of_two_mod_11():
    assert WEIGHTS == tuple(pow(2, 17 - i, 11) for i in range(17))


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers(number):
    result = check(number)
    assert result.ok and result.code == idn.OK
    assert result.number == number
    assert result.birth_date == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert result.explain("en-US") == "The ID number is valid."


@pytest.mark.parametrize("number,expected", sorted(BAD_CHECK.items()))
def test_check_digit_mismatch_names_both_digits(number, expected):
    result = check(number)
    assert result.code == idn.BAD_CHECK_DIGIT and not result.ok
    assert result.details == {"expected": expected, "got": number[-1]}
    assert result.explain("en-US") == "The check digit does not match."
    assert result.explain("zh-CN") == "校验位不符"


def test_x_check_digit_keyed_as_star_or_lower_case():
    for raw in ("44010619881203118X", "44010619881203118x", "44010619881203118*",
                "  44010619881203118*  "):
        result = check(raw)
        assert result.ok, raw
        assert result.number == "44010619881203118X"


def test_x_where_a_digit_belongs_at_the_end():
    # 110101199003074573 is valid; an X in its place is a check-digit error naming 3.
    result = check("11010119900307457X")
    assert result.code == idn.BAD_CHECK_DIGIT
    assert result.details == {"expected": "3", "got": "X"}


@pytest.mark.parametrize("raw,length", [("11010119900307457", 17), ("1101011990030745731", 19),
                                        ("1", 1), ("110101900307457", 15)])
def test_wrong_length_gives_the_count(raw, length):
    result = check(raw)
    assert result.code == idn.WRONG_LENGTH
    assert result.details == {"length": length}
    assert f"That is {length} digit" in result.explain("en-US")
    assert f"您输入了{length}位" in result.explain("zh-CN")


def test_seventeen_digits_reads_that_is_17_digits():
    assert check("11010119900307457").explain("en-US") == "That is 17 digits; an ID number has 18."
    assert check("1").explain("en-US") == "That is 1 digit; an ID number has 18."


def test_empty():
    assert check("").code == idn.EMPTY
    assert check("   ").code == idn.EMPTY


@pytest.mark.parametrize("raw,position,char", [
    ("11010119900307457A", 18, "A"), ("A10101199003074573", 1, "A"),
    ("1101011990O3074573", 11, "O"), ("110101-99003074573", 7, "-"),
    ("１10101199003074573", 1, "１"),   # a full-width digit is not a keypad digit
    ("11010119900307#573", 15, "#"), ("abc", 1, "A"),
])
def test_letters_and_symbols_name_the_position(raw, position, char):
    result = check(raw)
    assert result.code == idn.INVALID_CHARACTER
    assert result.details == {"position": position, "character": char}
    assert f"Character {position} is not a digit" in result.explain("en-US")


def test_letters_reported_before_length():
    # "17 digits" would be wrong: one of them is a letter.
    assert check("1101011990030745A").code == idn.INVALID_CHARACTER


@pytest.mark.parametrize("raw,position", [("X10101199003074573", 1), ("11010119900307X573", 15),
                                          ("1101011990030745XX", 17), ("110101*99003074573", 7)])
def test_x_not_in_last_place(raw, position):
    result = check(raw)
    assert result.code == idn.X_NOT_LAST
    assert result.details == {"position": position}


def with_date(date8: str, region="110101", seq="001") -> str:
    body = region + date8 + seq
    return body + reference_check(body)


@pytest.mark.parametrize("date8", ["19900230", "19900431", "19901301", "19900001", "19900100",
                                   "19000229", "21000229", "19990229", "20230229"])
def test_impossible_birth_dates(date8):
    result = check(with_date(date8))
    assert result.code == idn.BAD_DATE
    assert result.details == {"year": int(date8[:4]), "month": int(date8[4:6]),
                              "day": int(date8[6:])}
    assert "does not exist" in result.explain("en-US")
    assert "不存在" in result.explain("zh-CN")


@pytest.mark.parametrize("date8", ["20000229", "19960229", "20240229", "19001231", "20261126"])
def test_leap_days_and_today_are_real(date8):
    assert check(with_date(date8)).ok


def test_future_birth_date():
    result = check(with_date("20261127"))
    assert result.code == idn.FUTURE_DATE
    assert result.birth_date == dt.date(2026, 11, 27)
    # The same number is fine once that day has come.
    assert check_id(with_date("20261127"), today=dt.date(2026, 11, 27)).ok


def test_before_1800_is_not_plausible():
    assert check(with_date("17991231")).code == idn.TOO_OLD
    assert check(with_date("18000101")).ok


def test_date_checked_before_check_digit():
    number = with_date("19900230")
    wrong_check = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert check(wrong_check).code == idn.BAD_DATE


def test_today_defaults_to_beijing_date():
    assert check_id("110101199003074573").ok
    far_future = with_date("29991231")
    assert check_id(far_future).code == idn.FUTURE_DATE


def test_stdnum_would_reject_a_demo_account():
    # Why validate() from stdnum is not used: its GB/T 2260 history rejects a real number.
    assert not ric.is_valid("440305197206150015")
    assert check("440305197206150015").ok


def test_explain_covers_every_code():
    samples = {idn.OK: VALID[0], idn.EMPTY: "", idn.INVALID_CHARACTER: "12a",
               idn.X_NOT_LAST: "X10101199003074573", idn.WRONG_LENGTH: "123",
               idn.BAD_DATE: with_date("19900230"), idn.FUTURE_DATE: with_date("20300101"),
               idn.TOO_OLD: with_date("17000101"), idn.BAD_CHECK_DIGIT: "360426199101010072"}
    assert set(samples) == set(idn.CODES)
    for code, raw in samples.items():
        result = check(raw)
        assert result.code == code
        assert result.explain("en-US") and result.explain("zh-CN")
        assert result.explain("en-US") != result.explain("zh-CN")


# --- property tests ------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
bodies = st.builds(lambda region, d, seq: f"{region:06d}{d:%Y%m%d}{seq:03d}",
                   st.integers(110000, 659999), dates, st.integers(0, 999))


@given(bodies)
def test_check_digit_agrees_with_standard_and_stdnum(body):
    assert idn.check_digit(body) == reference_check(body) == ric.calc_check_digit(body + "0")
    assert check(body + reference_check(body)).ok


@given(bodies, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_caught(body, position, delta):
    number = body + reference_check(body)
    changed_digit = str((int(number[position]) + delta) % 10)
    mutated = number[:position] + changed_digit + number[position + 1:]
    result = check(mutated)
    assert not result.ok
    if 6 <= position < 14:      # a birth-date digit may also make the date impossible
        assert result.code in (idn.BAD_CHECK_DIGIT, idn.BAD_DATE, idn.FUTURE_DATE, idn.TOO_OLD)
    else:
        assert result.code == idn.BAD_CHECK_DIGIT


@given(bodies, st.integers(0, 15))
def test_adjacent_transpositions_are_caught(body, position):
    number = body + reference_check(body)
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2:]
    assert not check(swapped).ok


@given(st.text(max_size=30))
def test_never_raises_and_code_is_known(raw):
    result = check(raw)
    assert result.code in idn.CODES
    assert result.explain("zh-CN") and result.explain("en-US")


# --- masking -------------------------------------------------------------------------------

def test_mask_id():
    assert mask_id("110101199003074573") == "1101**********4573"
    assert mask_id("44010619881203118X") == "4401**********118X"
    assert check("110101199003074573").masked == "1101**********4573"


@given(st.text(alphabet="0123456789X", min_size=0, max_size=25))
def test_mask_hides_the_middle(number):
    masked = mask_id(number)
    assert len(masked) == len(number)
    if len(number) >= 12:
        assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
        assert set(masked[4:-4]) == {"*"}
    else:
        assert set(masked) <= {"*"}


# --- generator -----------------------------------------------------------------------------

def test_generator_is_deterministic_valid_and_distinct():
    first = list(idn.generate_ids(5000, 42))
    again = list(idn.generate_ids(5000, 42))
    assert first == again
    numbers = [n for n, _ in first]
    assert len(set(numbers)) == 5000
    for number, city in first:
        assert check(number).ok, number
        assert city.endswith("市")
        assert dict(idn.REGIONS)[number[:6]] == city
    other = [n for n, _ in idn.generate_ids(5000, 43)]
    assert len(set(numbers) & set(other)) < 5   # different seeds: different people


def test_generator_prefix_is_stable():
    # Seeding 100 and later 1000 with the same seed: the first 100 are the same people.
    assert list(idn.generate_ids(100, 7)) == list(itertools.islice(idn.generate_ids(1000, 7), 100))


def test_generator_skips_excluded_numbers():
    made = [n for n, _ in idn.generate_ids(50, 9)]
    excluded = frozenset(made[:10])
    again = [n for n, _ in idn.generate_ids(50, 9, exclude=excluded)]
    assert len(again) == 50
    assert not excluded & set(again)
    assert again[:40] == made[10:]


def test_generator_covers_its_whole_space_without_repeats():
    # The map index -> combination is a permutation of the space: check it on a prefix.
    numbers = [n for n, _ in idn.generate_ids(200_000, 1)]
    assert len(set(numbers)) == len(numbers)


def test_generator_rejects_impossible_counts():
    with pytest.raises(ValueError):
        list(idn.generate_ids(-1, 1))
    with pytest.raises(ValueError):
        list(idn.generate_ids(idn.SPACE + 1, 1))
