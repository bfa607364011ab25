"""What the caller said, in pure Python: normalised, matched to a menu option, read as digits.

Twilio's ``<Gather input="dtmf speech">`` posts the recogniser's words (SpeechResult) and how sure
it is (Confidence). Here they become a key of the menu, the digits of an entry, or nothing:

- ``normalise``: NFKC (full-width letters, digits and punctuation become ASCII), traditional to
  simplified Chinese (OpenCC's t2s table: the phrase lists are simplified), case folded, and
  punctuation/symbols turned into spaces.
- ``match``: every phrase of every option (and global key) found in the utterance competes; the
  longest wins. Two different keys with an equally long best phrase is a tie: no match. Latin
  phrases match whole words ("pension" is not found in "suspension"); Chinese ones anywhere.
- ``spoken_digits``: "一一零一…", "幺", "one one zero…", "double five", ASCII digits, a final
  "X" (ID numbers) -> "110…"; anything that is not only digits -> None.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

MAX_UTTERANCE = 200          # characters of SpeechResult looked at (Twilio's are a sentence)

# Chinese digit words as callers read numbers out (幺 for 1, 两 for 2, 拐 for 7, 洞 for 0 are the
# radio/telephone readings).
ZH_DIGITS = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
             "四": "4", "五": "5", "六": "6", "七": "7", "拐": "7", "八": "8", "九": "9", "勾": "9"}
EN_DIGITS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
             "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
EN_REPEAT = {"double": 2, "triple": 3}
# The letter X of an ID number, said in English or the usual Mandarin ways.
X_WORDS = ("x", "ex", "叉", "艾克斯", "爱克斯", "埃克斯")
# Said at the end of a number as if pressing the finish key: ignored.
FINISH_WORDS = ("井号", "井号键", "pound", "hash")

YES = {"zh-CN": ("是的", "是", "对的", "对", "确认", "没错", "好的", "嗯"),
       "en-US": ("yes", "yeah", "yep", "correct", "right", "confirm", "sure")}
NO = {"zh-CN": ("不是", "不对", "不用", "取消", "错了", "不"),
      "en-US": ("no", "nope", "wrong", "cancel", "not")}
# The key a confirmation's yes/no is pressed with.
CONFIRM_KEY, REJECT_KEY = "1", "2"


@functools.lru_cache(maxsize=1)
def _opencc():
    import opencc  # OpenCC's own binding: its t2s table, not a hand-kept one

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    if text.isascii():
        return text
    return _opencc().convert(text)


def normalise(text: str) -> str:
    """Comparable form of an utterance or a phrase: see the module docstring."""
    text = unicodedata.normalize("NFKC", str(text)[:MAX_UTTERANCE])
    text = to_simplified(text).casefold()
    chars = [" " if unicodedata.category(c)[0] in "PSZC" else c for c in text]
    return " ".join("".join(chars).split())


def _is_latin(text: str) -> bool:
    return any(c.isascii() and c.isalnum() for c in text)


def _tokens(text: str) -> list[str]:
    """Latin words and digits stay whole; every other character (Chinese) is its own token."""
    return re.findall(r"[0-9a-z']+|[^\s0-9a-z']", text)


@functools.lru_cache(maxsize=4096)
def _phrase(phrase: str) -> tuple[list[str], int]:
    """A phrase's tokens and its length for "longest wins" (phrases repeat on every webhook)."""
    norm = normalise(phrase)
    return _tokens(norm), len(norm.replace(" ", ""))


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True)
class Match:
    key: str | None           # the option's key, None when nothing (or a tie) matched
    phrase: str = ""          # the phrase that won
    reason: str = "matched"   # matched | digit | tie | nothing


def match(utterance: str, choices: dict[str, tuple[str, ...]]) -> Match:
    """``choices``: key -> phrases (one language). The longest phrase found wins; a tie between
    two keys, or no phrase at all, is no match. A bare spoken key ("一", "one", "按1") picks it."""
    said = _tokens(normalise(utterance))
    best: dict[str, tuple[int, str]] = {}
    for key, phrases in choices.items():
        for phrase in phrases:
            tokens, size = _phrase(phrase)
            if size and _contains(said, tokens):
                if size > best.get(key, (0, ""))[0]:
                    best[key] = (size, phrase)
    if best:
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        if len(ranked) > 1 and ranked[0][1][0] == ranked[1][1][0]:
            return Match(None, reason="tie")
        key, (_, phrase) = ranked[0]
        return Match(key, phrase)
    key = spoken_key(utterance)
    if key is not None and key in choices:
        return Match(key, key, "digit")
    return Match(None, reason="nothing")


def spoken_key(utterance: str) -> str | None:
    """A single key said on its own ("一", "one", "按一", "press one"), or None."""
    text = normalise(utterance)
    text = re.sub(r"^(请按|按|press|key)\s*", "", text)
    digits = spoken_digits(text)
    return digits if digits is not None and len(digits) == 1 else None


def spoken_digits(utterance: str, allow_x: bool = False) -> str | None:
    """The digits a caller read out, or None when the words are not just digits. With
    ``allow_x`` a final X (an ID number's check digit) is kept as "X"."""
    text = normalise(utterance)
    for word in FINISH_WORDS:
        if text.endswith(word):
            text = text[: -len(word)].rstrip()
    out: list[str] = []
    repeat = 1
    i = 0
    words = _tokens(text)
    while i < len(words):
        word = words[i]
        i += 1
        if word in EN_REPEAT:
            repeat = EN_REPEAT[word]
            continue
        if word.isdigit():
            piece = word
        elif allow_x and i == len(words) and re.fullmatch(r"\d+x", word):
            out.append(word[:-1] + "X")   # a recogniser that wrote the number as one word
            break
        elif word in ZH_DIGITS:
            piece = ZH_DIGITS[word]
        elif word in EN_DIGITS:
            piece = EN_DIGITS[word]
        else:
            x = _x_at(words, i - 1)
            if x and allow_x and i - 1 + x == len(words) and out:
                out.append("X")
                break
            return None
        out.append(piece * repeat if len(piece) == 1 else piece)
        repeat = 1
    if repeat != 1 or not out:
        return None
    return "".join(out)


def _x_at(words: list[str], i: int) -> int:
    """How many tokens the X word starting at ``words[i]`` spans (0: not an X)."""
    for x in X_WORDS:
        need = _tokens(x)
        if words[i:i + len(need)] == need:
            return len(need)
    return 0


def yes_or_no(utterance: str, language: str) -> bool | None:
    """True for a yes, False for a no, None when it is neither (no is looked for first: 不是)."""
    said = _tokens(normalise(utterance))
    lang = language if language in YES else "en-US"
    if any(_contains(said, _tokens(w)) for w in NO[lang]):
        return False
    if any(_contains(said, _tokens(w)) for w in YES[lang]):
        return True
    key = spoken_key(utterance)
    return {CONFIRM_KEY: True, REJECT_KEY: False}.get(key)


def confidence(value) -> float | None:
    """Twilio's Confidence (0.0-1.0); None when absent, 0.0 when it is not a number in range."""
    if value is None or value == "":
        return None
    try:
        number = float(str(value)[:16])
    except ValueError:
        return 0.0
    return number if 0.0 <= number <= 1.0 else 0.0


def mask(text: str) -> str:
    """What a sensitive entry keeps of an utterance: only its length, in dots."""
    return "•" * min(len(text), 40)


def reads_a_number(text: str) -> bool:
    """Whether ``text`` reads out a number of more than one digit (an ID number, a password), in
    words or in digits: what a call log or a transcript shows only as dots."""
    digits = spoken_digits(text, allow_x=True)
    return (digits is not None and len(digits) > 1) or sum(c.isdigit() for c in text) > 1
