"""Calling numbers as the per-caller login limit counts them: one key per real number.

Twilio's ``From`` is whatever the caller's network (or a forger of unsigned requests, or a SIP
client) put there: ``tel:+86-130-...``, spaces, dashes, full-width digits, a zero-width space.
:func:`caller_key` turns every spelling of one number into its E.164 form with ``phonenumbers``
(numbers without a country code are read in ``region``, CN by default), and everything that is
not a valid number -- ``Anonymous``, ``client:bob``, garbage -- into the single bucket
:data:`INVALID`, so made-up texts share one limit instead of getting a fresh one each.
"""
from __future__ import annotations

import functools
import unicodedata

import phonenumbers

INVALID = "invalid"
_MAX_LENGTH = 64        # longer is no phone number (and phonenumbers refuses past 250)


def caller_key(text: object, region: str = "CN") -> str:
    if isinstance(text, str) and len(text) <= _MAX_LENGTH:
        return _caller_key(text, region)   # one parse per number and region (a call logs in more than once)
    return INVALID


@functools.lru_cache(maxsize=4096)
def _caller_key(text: str, region: str) -> str:
    if not isinstance(text, str) or not text.strip() or len(text) > _MAX_LENGTH:
        return INVALID
    # NFKC: full-width digits and plus signs; then drop format characters (zero-width space, BOM).
    cleaned = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return INVALID
    if not phonenumbers.is_valid_number(number):
        return INVALID
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
