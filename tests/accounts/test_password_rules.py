"""The pure password rules: format, trivial patterns, initial password policy."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.accounts.service import (ID_LAST6, initial_password_for, is_password_format,
                                  is_trivial_password, normalise_policy, password_problem)

ZHANG = "110101199003074573"


def test_trivial_set_is_exactly_the_documented_patterns():
    trivial = {f"{n:06d}" for n in range(10 ** 6) if is_trivial_password(f"{n:06d}")}
    same = {str(d) * 6 for d in range(10)}
    up = {"".join(str((s + i) % 10) for i in range(6)) for s in range(10)}
    down = {"".join(str((s - i) % 10) for i in range(6)) for s in range(10)}
    pairs = {f"{a}{b}" * 3 for a in range(10) for b in range(10)}
    triples = {f"{n:03d}" * 2 for n in range(1000)}
    common = {"112233", "123321", "147258", "258369", "369258", "147852", "159753", "159357",
              "789456", "456123", "520131", "201314", "135246"}
    assert trivial == same | up | down | pairs | triples | common
    assert len(trivial) == 10 + 10 + 10 + 90 + 990 + 13   # about 0.1% of all passwords
    for pw in ("000000", "123456", "111111", "654321", "012345", "987654", "890123", "210987"):
        assert pw in trivial
    for pw in ("246810", "135790", "583920", "074573", "731046"):
        assert pw not in trivial


@given(st.text(max_size=10))
def test_anything_but_six_ascii_digits_is_a_format_problem(pw):
    ok = len(pw) == 6 and all(c in "0123456789" for c in pw)
    assert is_password_format(pw) is ok
    if not ok:
        assert password_problem(pw, pw, id_number=ZHANG, policy=ID_LAST6) == "format"


@given(st.integers(0, 999999), st.integers(0, 999999))
def test_problem_codes(a, b):
    new, confirm = f"{a:06d}", f"{b:06d}"
    code = password_problem(new, confirm, id_number=ZHANG, policy=ID_LAST6)
    if new == "074573":
        assert code == "initial"
    elif new == "900307":
        assert code == "from_id"
    elif is_trivial_password(new):
        assert code == "trivial"
    elif new != confirm:
        assert code == "mismatch"
    else:
        assert code is None


def test_initial_password_policy():
    assert initial_password_for(ZHANG, ID_LAST6) == "074573"
    assert initial_password_for("44010619881203118X", ID_LAST6) == "031180"
    assert initial_password_for(ZHANG, "802413") == "802413"
    assert normalise_policy("id_last6") == "id_last6"
    assert normalise_policy("012345") == "012345"
    assert normalise_policy(802413) == "802413"
    for bad in ("12345", "1234567", "abcdef", 12345, 1234567, None, True, "ID_LAST6"):
        with pytest.raises(ValueError):
            normalise_policy(bad)
