"""Property-based fuzzing of every voice webhook (hypothesis).

Whatever arrives -- random or missing form fields, junk Digits and CallSids, any unicode (NUL
included), huge values, GET or POST -- the answer is 200 with TwiML whose root is <Response>.
With signing on, a correctly signed request gets exactly that and any other gets a plain 403.

Requests land on calls at every stage of the flow (fresh, menus, ID entry, password entry, logged
in, changing the password, confirming a loss report), so junk meets the real handlers, not only the
"unknown call" path. A request that carries a well-formed CallSid must not make a handler fail
either (an apology would hide the crash): the test collects the ``webhook failed`` log lines and
reports the input that caused one.

The run is reproducible (``derandomize=True``) and counts what it sent: ``PER_WEBHOOK`` requests
per webhook, 8 webhooks, plus the signed run: 10,040 in all.
"""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.accounts.service import hash_password
from tests.conftest import make_app
from tests.security.conftest import FAST_HASH, TOKEN, seed_demo_accounts, sign
from tests.twiml import Caller

WEBHOOKS = ["/voice", "/voice/input", "/voice/timeout", "/voice/dial-status", "/voice/recorded",
            "/voice/hold", "/voice/status", "/voice/fallback"]
EXAMPLES_PER_WEBHOOK = 590  # calls of two fuzzed webhooks each
PER_WEBHOOK = 2 * EXAMPLES_PER_WEBHOOK   # 8 webhooks x 1180 + 600 signed = 10,040 requests
SIGNED_EXAMPLES = 600
TOTALS: dict[str, int] = {}

TWILIO_FIELDS = ["CallSid", "AccountSid", "From", "To", "Caller", "Called", "CallStatus", "Direction",
                 "ApiVersion", "Digits", "msg", "FinishedOnKey", "SpeechResult", "Confidence",
                 "DialCallStatus", "DialCallSid", "DialCallDuration", "QueueResult", "QueueSid",
                 "QueuePosition", "QueueTime", "RecordingUrl", "RecordingSid", "RecordingDuration",
                 "CallDuration", "Timestamp", "SequenceNumber", "CallbackSource", "ErrorCode", "ErrorUrl",
                 "ForwardedFrom", "CallerName", "ParentCallSid", "StirVerstat"]

# ---------------------------------------------------------------- strategies

junk_text = st.text(max_size=12)      # any unicode but surrogates, NUL included
control_text = st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=12)
# A header value as it can arrive over HTTP: no CR, LF or NUL (werkzeug's client refuses them
# before sending, as any HTTP client would), otherwise any text.
header_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
                      max_size=12)
# Huge: 2-240 k characters, ASCII (cheap to parse) or any unicode (up to ~700 kB once
# percent-encoded: beyond WEBHOOK_MAX_BYTES (256 kB) the form is refused, and the webhook must
# still answer TwiML).
huge = st.one_of(
    st.builds(lambda piece, n: piece * n, st.text(alphabet="0123456789*#abcXYZ", min_size=4, max_size=8),
              st.integers(10_000, 30_000)),
    st.builds(lambda piece, n: piece * n, st.text(min_size=1, max_size=3), st.integers(2_000, 20_000)))
keypad = st.text(alphabet="0123456789*#", max_size=24)
digits = st.one_of(st.sampled_from(["1", "2", "3", "4", "5", "9", "0", "*", "#", "", "12", "１", "٣",
                                    "110101199003074573", "074573", "44010619881203118*", "999999"]),
                   keypad, junk_text, control_text)
sid_pool = st.sampled_from([f"CAfuzzpool{i:02d}" for i in range(6)])
sid_chars = "ABCDEFabcdef0123456789_-"
call_sid = st.one_of(sid_pool, st.text(alphabet=sid_chars, min_size=1, max_size=64), junk_text,
                     st.just(""), st.just("CA" + "x" * 65))
number = st.one_of(st.sampled_from(["+8613800138000", "+14155550100", "anonymous", "+266696687", ""]),
                   st.text(alphabet="+0123456789", min_size=1, max_size=24), junk_text)
status_word = st.one_of(st.sampled_from(["completed", "answered", "busy", "no-answer", "failed", "canceled",
                                         "in-progress", "ringing", "queued", "hangup", "bridged",
                                         "leave", "redirected", "error", "system-error"]), junk_text)
int_text = st.one_of(st.integers(-10**30, 10**30).map(str),
                     st.sampled_from(["", "7", "0", "-1", "1e9", " 5 ", "NaN", "５", "2147483648", "-2147483649",
                                      "9223372036854775808", "-9223372036854775809", "1" * 400]),
                     junk_text)

VALUES = {
    "Digits": digits, "CallSid": call_sid, "From": number, "To": number, "Caller": number,
    "CallStatus": status_word, "DialCallStatus": status_word, "QueueResult": status_word,
    "RecordingDuration": int_text, "CallDuration": int_text, "DialCallDuration": int_text,
    "RecordingUrl": st.one_of(st.just("https://api.twilio.com/2010-04-01/Recordings/RE1"), junk_text),
    "ErrorCode": st.one_of(st.sampled_from(["11200", "12100", "11205"]), junk_text),
}


def field_value(name: str):
    return VALUES.get(name, st.one_of(junk_text, control_text))


# What each handler reads: drawn far more often than the rest.
READS = {
    "/voice": ["CallSid", "From", "CallStatus"],
    "/voice/input": ["CallSid", "From", "Digits"],
    "/voice/timeout": ["CallSid", "From", "Digits"],
    "/voice/dial-status": ["CallSid", "DialCallStatus", "QueueResult"],
    "/voice/recorded": ["CallSid", "RecordingUrl", "RecordingDuration", "Digits"],
    "/voice/hold": ["CallSid", "QueuePosition", "QueueTime"],
    "/voice/status": ["CallSid", "CallDuration", "CallStatus"],
    "/voice/fallback": ["CallSid", "ErrorCode", "ErrorUrl"],
}


@st.composite
def forms(draw, path: str = "/voice/input", *, allow_huge: bool = True) -> dict[str, str]:
    names = draw(st.sets(st.sampled_from(READS[path]), max_size=len(READS[path])))
    names |= draw(st.sets(st.sampled_from(TWILIO_FIELDS), max_size=2))
    if draw(st.integers(0, 3)) == 0:
        names.add(draw(junk_text))       # a field Twilio never sends, any name at all
    form = {name: draw(field_value(name)) for name in sorted(names)}
    if allow_huge and form and draw(st.integers(0, 11)) == 0:
        form[draw(st.sampled_from(sorted(form)))] = draw(huge)
    return form


# A stage is reached by keys from a fresh call; None sends the request to a call nobody set up.
LOGIN = ["1", "1"]                             # Mandarin, personal account -> ID entry
STAGES = {
    "none": None,
    "language": [],
    "main_en": ["2"],
    "guide_menu": ["2", "3"],
    "id_entry": LOGIN,
    "password_entry": LOGIN + ["110101199003074573"],
    "account_menu": LOGIN + ["310104198511122035", "246810"],
    "new_password": ["2", "1", "44010619881203118*", "135790", "4"],
    "confirm_password": ["2", "1", "44010619881203118*", "135790", "4", "583920"],
    "lost_confirm": ["2", "1", "310104198511122035", "246810", "5"],
    "voicemail": ["2", "0"],
}


@st.composite
def fuzz_requests(draw, path: str):
    return {
        "stage": draw(st.sampled_from(sorted(STAGES))),
        "method": draw(st.sampled_from(["POST", "POST", "POST", "GET"])),
        "form": draw(forms(path)),
        "keep_sid": draw(st.integers(0, 3)) > 0,
        "path": path,
    }


@st.composite
def fuzz_calls(draw, path: str):
    """Two fuzzed webhooks in a row on one call set up at a stage."""
    first = draw(fuzz_requests(path))
    second = draw(st.fixed_dictionaries({
        "method": st.sampled_from(["POST", "POST", "POST", "GET"]), "form": forms(path),
        "keep_sid": st.integers(0, 3).map(bool)}))
    return first["stage"], [first, dict(second, path=path, stage=first["stage"])]


# ---------------------------------------------------------------- the app under fuzz

class ErrorLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def crashes(self, start: int = 0) -> list[str]:
        """Error lines since ``start`` that are not the designed answers to unusable requests."""
        out = []
        for r in self.records[start:]:
            fields = getattr(r, "fields", {})
            error = str(fields.get("error", ""))
            if r.getMessage() == "webhook failed" and "malformed CallSid" in error:
                continue                   # by design: no call to act on
            if error.startswith("413") or error.startswith("RequestEntityTooLarge"):
                continue                   # bigger than WEBHOOK_MAX_BYTES: refused, in TwiML
            out.append(f"{r.getMessage()} {fields}")
        return out


def fuzz_app(tmp_path, **overrides):
    url = overrides.pop("DATABASE_URL", None) or f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"
    seed_demo_accounts(url)
    app = make_app(tmp_path, DATABASE_URL=url, **overrides)
    # Demo passwords are hashed cheaply for the run; the login code path is the real one.
    accounts = app.extensions["ivr_hotline"].services.accounts
    accounts.hash_method = FAST_HASH
    accounts._dummy_hash = hash_password("000000", FAST_HASH)
    accounts._hash_prefix = accounts._dummy_hash.split("$", 1)[0]
    return app


class Driver:
    """Puts a fresh call at a stage, then sends the fuzzed webhook.

    Each stage is reached once with real webhooks; its stored state is then copied to a new
    CallSid for every example (one upsert instead of up to six webhooks), so every example meets
    the stage exactly, at a cost the 10,000-request budget allows."""

    def __init__(self, app, signed: bool = False):
        from tests.security.conftest import SignedClient

        self.app = app
        self.hotline = app.extensions["ivr_hotline"]
        self.client = app.test_client()
        self.signed = signed
        self.sent = 0
        self.serial = 0
        self.snapshots: dict[str, dict] = {}
        setup = SignedClient(self.client) if signed else self.client
        for name, keys in STAGES.items():
            if keys is None:
                continue
            caller = Caller(setup, sid=f"CAsnapshot{name}", number="+8613912345678")
            caller.keys(*keys)
            with self.hotline.transaction() as session:
                self.snapshots[name] = self.hotline.calls.load(session, caller.sid).to_dict()

    def stage(self, name: str) -> str | None:
        from ivr.engine.state import CallState

        if name not in self.snapshots:
            return None
        self.serial += 1
        sid = f"CAstage{self.serial:08d}"
        state = CallState.from_dict({**self.snapshots[name], "call_sid": sid})
        with self.hotline.transaction() as session:
            self.hotline.calls.save(session, state, caller="+8613912345678")
        return sid

    def send(self, req: dict, sid: str | None, signature: str | None = "auto"):
        form = dict(req["form"])
        if sid and req["keep_sid"]:
            form["CallSid"] = sid
        path = req["path"]
        self.sent += 1
        if req["method"] == "GET":
            target = path + ("?" + urlencode(form) if form else "")
            headers = self._headers("http://localhost" + target, None, signature)
            return self.client.get(target, headers=headers), form
        headers = self._headers("http://localhost" + path, form, signature)
        return self.client.post(path, data=form, headers=headers), form

    def _headers(self, url, form, signature):
        if signature == "auto":
            return {"X-Twilio-Signature": sign(url, form)} if self.signed else {}
        return {} if signature is None else {"X-Twilio-Signature": signature}


def assert_twiml(response, context):
    assert response.status_code == 200, (response.status_code, context)
    assert response.mimetype == "text/xml", (response.mimetype, context)
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response", context
    return root


def _short(form: dict) -> dict:
    return {k[:40]: (v[:60] + f"...({len(v)} chars)" if len(v) > 60 else v) for k, v in form.items()}


@pytest.mark.parametrize("path", WEBHOOKS)
def test_fuzz_webhook(tmp_path, path):
    app = fuzz_app(tmp_path)
    driver = Driver(app)
    errors = ErrorLog()
    logging.getLogger("ivr").addHandler(errors)

    @settings(max_examples=EXAMPLES_PER_WEBHOOK, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(call=fuzz_calls(path))
    def one(call):
        stage, reqs = call
        sid = driver.stage(stage)
        for i, req in enumerate(reqs):
            before = len(errors.records)
            response, form = driver.send(req, sid)
            context = (f"request {i + 1} of {len(reqs)}", req["method"], path, stage, _short(form))
            assert_twiml(response, context)
            new = errors.crashes(before)
            assert not new, (new, context)

    try:
        one()
    finally:
        logging.getLogger("ivr").removeHandler(errors)
        app.extensions["ivr_db"].dispose()
    TOTALS[path] = driver.sent
    assert driver.sent >= PER_WEBHOOK


def test_fuzz_signed_webhooks(tmp_path):
    """Signing on: signed junk gets TwiML; unsigned, forged or stale-signed junk gets a plain 403."""
    app = fuzz_app(tmp_path, TWILIO_AUTH_TOKEN=TOKEN)
    driver = Driver(app, signed=True)
    outcomes = {"signed": 0, "forged": 0}

    @st.composite
    def signed_requests(draw):
        req = draw(fuzz_requests(draw(st.sampled_from(WEBHOOKS))))
        req["form"] = draw(forms(req["path"], allow_huge=False))
        req["signature"] = draw(st.one_of(st.just("auto"), st.none(), header_text, st.just("stale")))
        return req

    @settings(max_examples=SIGNED_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(req=signed_requests())
    def one(req):
        sid = driver.stage(req["stage"])
        signature = req["signature"]
        if signature == "stale":          # a real signature, for other parameters
            signature = sign("http://localhost" + req["path"], {"CallSid": "CAother"})
        response, form = driver.send(req, sid, signature=signature)
        context = (req["method"], req["path"], req["stage"], signature, _short(form))
        if signature == "auto":
            outcomes["signed"] += 1
            assert_twiml(response, context)
        else:
            outcomes["forged"] += 1
            assert response.status_code == 403, context
            assert response.mimetype == "text/plain", context

    try:
        one()
    finally:
        app.extensions["ivr_db"].dispose()
    TOTALS["signed"] = driver.sent
    assert min(outcomes.values()) > SIGNED_EXAMPLES // 10, outcomes


def test_fuzz_total_is_at_least_10000():
    """Runs after the fuzz tests above (file order): the suite's fuzz run sent 10,000+ requests."""
    if len(TOTALS) < len(WEBHOOKS) + 1:
        pytest.skip("run the whole file to count the fuzz total")
    assert sum(TOTALS.values()) >= 10_000, TOTALS


# ---------------------------------------------------------------- edges the strategies rarely hit

@pytest.mark.parametrize("path", WEBHOOKS)
def test_oversized_and_overfull_requests_still_get_twiml(tmp_path, path):
    """Beyond werkzeug's limits (500 kB of form, 1000 fields) the webhook still answers TwiML."""
    app = fuzz_app(tmp_path)
    client = app.test_client()
    assert_twiml(client.post(path, data={"CallSid": "CAbig", "Digits": "1" * 600_000}), "600 kB")
    assert_twiml(client.post(path, data={f"f{i}": "x" for i in range(1500)}), "1500 fields")
    assert_twiml(client.post(path, data=b"%ff%fe=\xff\xfe&CallSid=CA\x00",
                             content_type="application/x-www-form-urlencoded"), "bad encoding")
    assert_twiml(client.post(path, data=b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"),
                 "broken multipart")
    assert_twiml(client.post(path, data="{not json", content_type="application/json"), "json")


def test_a_long_junk_call_keeps_answering(tmp_path):
    """One call, 300 junk webhooks in a row on one CallSid: every answer is TwiML, and the
    call ends politely (loop guard) instead of failing."""
    app = fuzz_app(tmp_path)
    driver = Driver(app)
    rng = __import__("random").Random(7)
    sid = driver.stage("password_entry")
    for i in range(300):
        path = rng.choice(WEBHOOKS[1:])
        form = {"CallSid": sid, "Digits": "".join(rng.choice("0123456789*#") for _ in range(rng.randint(0, 20))),
                "From": "+8613800138000", "RecordingDuration": str(rng.randint(-5, 200)),
                "RecordingUrl": "https://api.twilio.com/rec/RE%d" % i, "DialCallStatus": rng.choice(["busy", "completed"])}
        assert_twiml(driver.client.post(path, data=form), (i, path, form))


# ---------------------------------------------------------------- what the fuzzing found, pinned

FOUND = [
    # (stage, webhook, form): each made a handler fail (on SQLite, PostgreSQL or both) -- the caller
    # still got TwiML, but a voicemail or the end of a call record was lost.
    ("voicemail", "/voice/recorded", {"RecordingDuration": "9223372036854775808",
                                      "RecordingUrl": "https://api.twilio.com/2010-04-01/Recordings/RE1"}),
    ("voicemail", "/voice/recorded", {"RecordingDuration": "2147483648",
                                      "RecordingUrl": "https://api.twilio.com/2010-04-01/Recordings/RE1"}),
    ("voicemail", "/voice/recorded", {"RecordingDuration": "10", "RecordingUrl": "https://x/\x00y"}),
    ("main_en", "/voice/status", {"CallDuration": "9223372036854775808", "CallStatus": "completed"}),
    ("main_en", "/voice/status", {"CallDuration": "-2147483649", "CallStatus": "busy"}),
    ("main_en", "/voice/status", {"CallDuration": "1" * 400}),
    ("main_en", "/voice/status", {"CallStatus": "x" * 30}),
    ("main_en", "/voice/status", {"CallStatus": "bu\x00sy"}),
    ("main_en", "/voice/fallback", {"ErrorCode": "11\x0000"}),
    ("main_en", "/voice/input", {"Digits": "3", "From": "+8613800\x00138000"}),
]


@pytest.mark.parametrize("stage,path,form", FOUND, ids=[f"{p}-{i}" for i, (_, p, _) in enumerate(FOUND)])
def test_fuzz_findings(tmp_path, database_url, stage, path, form):
    app = fuzz_app(tmp_path, DATABASE_URL=database_url)
    driver = Driver(app)
    errors = ErrorLog()
    logging.getLogger("ivr").addHandler(errors)
    try:
        sid = driver.stage(stage)
        assert_twiml(driver.client.post(path, data={"CallSid": sid, **form}), form)
        assert not errors.crashes(), errors.crashes()
    finally:
        logging.getLogger("ivr").removeHandler(errors)
        app.extensions["ivr_db"].dispose()
