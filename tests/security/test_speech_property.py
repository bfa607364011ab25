"""Property tests of speech input (hypothesis): whatever a recogniser posts as SpeechResult and
Confidence, at any stage of a call, the webhook answers TwiML, nothing crashes, and a sensitive
entry (ID number, password) takes an utterance only when it is that number read out -- and keeps
nothing of it but dots."""
from __future__ import annotations

import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.engine import speech
from ivr.engine.loader import read_menu_file
from tests.conftest import ROOT
from tests.security.test_fuzz import Driver, ErrorLog, assert_twiml, fuzz_app

MODEL = read_menu_file(ROOT / "menus.toml")[0]
PHRASES = sorted({p for m in MODEL.menus.values() for said in m.phrases.values() for ps in said.values()
                  for p in ps} | {p for said in MODEL.global_phrases.values() for ps in said.values() for p in ps})
DIGIT_WORDS = {d: [w for w, v in {**speech.ZH_DIGITS, **speech.EN_DIGITS}.items() if v == d] + [d]
               for d in "0123456789"}
WORDS = PHRASES + [w for ws in DIGIT_WORDS.values() for w in ws] + ["X", "叉", "井号", "double", "不是", "是", "yes"]
ID, PASSWORD = "110101199003074573", "074573"

utterance = st.one_of(
    st.text(max_size=40),                                                       # any unicode
    st.lists(st.sampled_from(WORDS), max_size=20).map(" ".join),                # menu and digit words
    st.lists(st.sampled_from(WORDS), max_size=20).map("".join),
    st.text(alphabet="0123456789Xx*# ", max_size=24),
    st.builds(lambda junk, n: junk + n, st.text(min_size=1, max_size=3), st.sampled_from([PASSWORD, ID])),
)
confidence = st.one_of(st.none(), st.floats(0, 1).map(lambda f: f"{f:.3f}"),
                       st.sampled_from(["", "high", "-1", "2", "nan", "0.49", "0.5"]), st.text(max_size=6))
STAGES = ["language", "main_en", "guide_menu", "id_entry", "password_entry", "account_menu",
          "new_password", "lost_confirm", "voicemail", "none"]


@st.composite
def read_out(draw, number: str) -> str:
    """``number`` read out the ways callers and recognisers write it."""
    out = ""
    for d in number:
        piece = draw(st.sampled_from(DIGIT_WORDS[d]))
        joiner = draw(st.sampled_from([" ", "", ", ", "  "])) if out else ""
        if joiner == "" and out and out[-1].isascii() and piece.isascii():
            joiner = " "   # recognisers write English words apart ("seven three", not "seventhree")
        out += joiner + piece
    return out


def test_random_speech_never_crashes_and_never_opens_an_entry_wrongly(tmp_path):
    app = fuzz_app(tmp_path)
    driver = Driver(app)
    hotline = app.extensions["ivr_hotline"]
    errors = ErrorLog()
    logging.getLogger("ivr").addHandler(errors)

    @settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(stage=st.sampled_from(STAGES), said=utterance, sure=confidence)
    def one(stage, said, sure):
        sid = driver.stage(stage) or "CAunknowncall0001"
        form = {"CallSid": sid, "From": "+8613912345678", "SpeechResult": said, "msg": "Gather End"}
        if sure is not None:
            form["Confidence"] = sure
        start = len(errors.records)
        assert_twiml(driver.client.post("/voice/input", data=form), (stage, said, sure))
        assert errors.crashes(start) == [], (stage, said, sure)
        with hotline.transaction() as session:
            state = hotline.calls.load(session, sid)
        data = state.data if state else {}
        if stage == "password_entry":
            logged_in = "account_id" in data
            assert logged_in == (speech.spoken_digits(said) == PASSWORD), said
        if stage == "id_entry" and (state.flow or {}).get("entry") == "password":
            assert speech.spoken_digits(said, allow_x=True) == ID, said
        if stage in ("id_entry", "password_entry", "new_password") and said.strip() and state.heard:
            assert set(state.heard[-1]["said"]) <= {"•"}, state.heard[-1]   # only dots, ever
    try:
        one()
    finally:
        logging.getLogger("ivr").removeHandler(errors)


def test_a_password_read_out_any_way_logs_in(tmp_path):
    app = fuzz_app(tmp_path)
    driver = Driver(app)
    hotline = app.extensions["ivr_hotline"]

    @settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(said=read_out(PASSWORD))
    def one(said):
        sid = driver.stage("password_entry")
        driver.client.post("/voice/input", data={"CallSid": sid, "SpeechResult": said, "Confidence": "0.8"})
        with hotline.transaction() as session:
            state = hotline.calls.load(session, sid)
        assert "account_id" in state.data, said
        assert PASSWORD not in str(state.to_dict()) and said not in str(state.to_dict())
    one()


@settings(max_examples=500, derandomize=True)
@given(text=st.text(max_size=60), allow_x=st.booleans())
def test_spoken_digits_are_digits_or_nothing(text, allow_x):
    digits = speech.spoken_digits(text, allow_x=allow_x)
    if digits is not None:
        body = digits[:-1] if allow_x and digits.endswith("X") else digits
        assert body and body.isascii() and body.isdigit()


@settings(max_examples=500, derandomize=True)
@given(text=st.text(max_size=60))
def test_a_match_is_always_a_phrase_that_was_said(text):
    choices = {k: p["zh-CN"] for k, p in MODEL.menus["account"].phrases.items()}
    found = speech.match(text, choices)
    if found.reason == "matched":
        assert speech.normalise(found.phrase).replace(" ", "") in speech.normalise(text).replace(" ", "")
