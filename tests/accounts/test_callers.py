"""Calling numbers as the per-caller limit counts them (issue 16)."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ivr.accounts.callers import INVALID, caller_key

SAME = ["+8613222223333", "tel:+86-132-2222-3333", "+86 132 2222 3333", "13222223333", "8613222223333",
        "+86\u200b13222223333", "\uff0b\uff18\uff16 13222223333", "(+86) 132-2222-3333", "0086 132 2222 3333",
        "+86.132.2222.3333", "\ufeff+8613222223333"]


@pytest.mark.parametrize("spelling", SAME)
def test_every_spelling_of_one_number_is_one_key(spelling):
    assert caller_key(spelling) == "+8613222223333"


@pytest.mark.parametrize("text", ["", "   ", "Anonymous", "client:bob", "+266696687", "garbage", "x" * 80,
                                  None, 12, "sip:alice@example.com"])
def test_what_is_no_number_shares_one_bucket(text):
    assert caller_key(text) == INVALID


def test_other_countries_and_the_region():
    assert caller_key("+1 415 555 2671") == "+14155552671"
    assert caller_key("(415) 555-2671", region="US") == "+14155552671"
    assert caller_key("+8617012345678") == "+8617012345678"     # the softphone's made-up numbers


@given(st.text(max_size=40))
def test_any_text_gives_e164_or_invalid(text):
    key = caller_key(text)
    assert key == INVALID or (key.startswith("+") and key[1:].isdigit())
