"""ivr.web.softphone.view and the masking in ivr.web.softphone.calls: what the page sees."""
from __future__ import annotations

from ivr.web.softphone.calls import mask_entries
from ivr.web.softphone.view import heard, languages, number


def test_prompts_are_heard_in_their_language():
    assert heard({"verb": "Say", "text": "您好", "language": "cmn-CN"}) == ("您好", "zh-CN")
    assert heard({"verb": "Play", "url": "http://localhost/audio/en-US/main.wav", "text": "Hi"}) == ("Hi", "en-US")
    assert heard({"verb": "Play", "url": "http://x/tone.wav", "text": "请按"}) == ("请按", "zh-CN")
    assert heard({"verb": "Gather"}) is None


def test_languages_since_the_caller_last_answered():
    events = [{"verb": "Say", "text": "a", "language": "en-US"}, {"verb": "Gather"},
              {"verb": "Say", "text": "b", "language": "cmn-CN"}, {"verb": "Say", "text": "c", "language": "en-US"}]
    assert languages(events) == ["zh-CN", "en-US"]


def test_numbers_from_the_page():
    assert [number("5", 0), number(" 7 ", 0), number("x", 3), number(None, 3), number("0", None, 1)] == [5, 7, 3, 3, None]


def test_answers_of_more_than_one_digit_are_masked():
    events = [{"verb": "Gather", "digits": "110101199003074573", "pressed": "1"},
              {"verb": "Gather", "speech": "one one zero", "ignored": "say@0.9:幺幺零"},
              {"verb": "Gather", "speech": "查余额"}, {"verb": "Say", "text": "123456"}]
    mask_entries(events)
    assert events[0] == {"verb": "Gather", "digits": "•" * 18, "pressed": "1"}
    assert events[1]["speech"] == "•" * 12 and set(events[1]["ignored"]) == {"•"}
    assert events[2]["speech"] == "查余额" and events[3]["text"] == "123456"
