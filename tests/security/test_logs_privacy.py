"""Logs: one structured line per webhook (JSON lines with IVR_LOG_FORMAT=json), and no full ID
number or password anywhere in logs, call records or TwiML after full scripted calls for every
demo account (login, balances, spending, password change, loss report, wrong passwords, lockout)."""
from __future__ import annotations

import io
import json
import logging
import re
import tomllib
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from ivr.accounts.idnumber import check_digit
from tests.conftest import ROOT, make_app
from tests.security.conftest import (DEMO, HttpClient, SignedClient, running_server, seed_demo_accounts,
                                     table_dump)
from tests.twiml import Caller

EN = tomllib.loads((ROOT / "prompts/en-US.toml").read_text("utf-8"))
ZH = tomllib.loads((ROOT / "prompts/zh-CN.toml").read_text("utf-8"))

NEW_PASSWORDS = ["583920", "691357", "702468", "815937"]
WRONG = ["918273", "564738", "392817"]
UNKNOWN_ID = "11010519851015" + "771"
UNKNOWN_ID += check_digit(UNKNOWN_ID)      # a valid ID number without an account


@contextmanager
def ivr_stream():
    """What the ``ivr`` stderr handler writes, in its configured format."""
    logger = logging.getLogger("ivr")
    handlers = [h for h in logger.handlers if getattr(h, "_ivr", False)]
    assert handlers, "create the app first"
    buf = io.StringIO()
    old = [h.setStream(buf) for h in handlers]
    try:
        yield buf
    finally:
        for h, stream in zip(handlers, old):
            h.setStream(stream)


class Sid:
    """CallSids without digits, so a 6-digit secret can never turn up in one by chance."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        letters = "".join(chr(ord("a") + int(d)) for d in f"{self.n:04d}")
        return f"CA{self.prefix}{letters}"


def demo_calls(new_caller) -> list:
    """Every demo account through every account action; returns every TwiML document heard.
    ``new_caller(number)`` returns a fresh Caller."""
    docs = []

    def keep(caller):
        docs.extend(caller.history)

    for i, (id_number, keyed, password, medical, state) in enumerate(DEMO):
        new_pw = NEW_PASSWORDS[i]
        number = f"+861380013{i:04d}"
        # Call 1 (English): a wrong password, then the right one; every account action.
        c = new_caller(number)
        c.keys("2", "1", keyed)
        assert c.press(WRONG[0]).speech[0][1] == EN["login_failed"]
        assert c.press(password).heard == EN["account_menu"]
        assert medical in c.press("1").heard
        assert "yuan" in c.press("2").heard
        c.press("3")
        c.press("4")
        assert c.press("123456").speech[0][1] == EN["password_trivial"]
        assert c.press(new_pw).heard == EN["confirm_new_password"]
        assert c.press(WRONG[1]).speech[0][1] == EN["password_mismatch"]
        c.press(new_pw)
        assert c.press(new_pw).speech[0][1] == EN["password_changed"]
        doc = c.press("5")
        if state == "lost":
            assert doc.heard.startswith("Your card was already reported lost")
        else:
            assert doc.heard.startswith(EN["lost_confirm"])
            assert c.press("1").heard.startswith("Your card has been reported lost.")
        c.press("*")
        c.post("/voice/status", CallStatus="completed", CallDuration="95")
        keep(c)
        # Call 2 (Mandarin): the new password works.
        c = new_caller(number)
        c.keys("1", "1", keyed)
        assert c.press(new_pw).heard == ZH["account_menu"]
        c.press("1")
        c.post("/voice/status", CallStatus="completed", CallDuration="30")
        keep(c)
        # Call 3: three wrong passwords lock the account; call 4: even the right one is refused.
        c = new_caller(number)
        c.keys("2", "1", keyed)
        c.press(WRONG[0])
        c.press(WRONG[1])
        assert c.press(WRONG[2]).heard.startswith("Too many wrong passwords. The account is locked until")
        keep(c)
        c = new_caller(number)
        c.keys("2", "1", keyed)
        assert c.press(new_pw).heard.startswith("Too many wrong passwords.")
        c.post("/voice/status", CallStatus="completed", CallDuration="41")
        keep(c)
    # An ID number without an account: the same answers, and the same lock.
    c = new_caller("+8613900139000")
    c.keys("2", "1", UNKNOWN_ID)
    for wrong in WRONG[:2]:
        assert c.press(wrong).speech[0][1] == EN["login_failed"]
    assert c.press(WRONG[2]).heard.startswith("Too many wrong passwords.")
    keep(c)
    # A caller hangs up in the middle of the password.
    c = new_caller("+8613900139001")
    c.keys("2", "1", DEMO[1][1])
    c.post("/voice/status", CallStatus="completed", CallDuration="12")
    keep(c)
    return docs


def secrets() -> dict[str, str]:
    """What must never be seen outside the accounts table: each full ID number (also as keyed,
    without its check digit, and the part masking hides) and every password used or tried."""
    out = {}
    for id_number, keyed, password, *_ in DEMO + [(UNKNOWN_ID, UNKNOWN_ID, "-")]:
        out[f"ID {id_number}"] = id_number
        out[f"ID keyed {keyed}"] = keyed
        out[f"ID body {id_number[:17]}"] = id_number[:17]
        out[f"ID middle {id_number[4:14]}"] = id_number[4:14]
        if id_number.endswith("X"):
            out[f"ID lower {id_number}"] = id_number.lower()
        if password != "-":
            out[f"password {password}"] = password
    for pw in NEW_PASSWORDS + WRONG:
        out[f"password {pw}"] = pw
    return out


def find_secrets(where: str, text: str) -> list[str]:
    return [f"{name} in {where}" for name, value in secrets().items() if value in text]


def records_text(records) -> str:
    out = []
    fmt = logging.Formatter()
    for r in records:
        out.append(r.getMessage())
        out.append(repr(getattr(r, "fields", {})))
        out.append(repr(r.args))
        if r.exc_info:
            out.append(fmt.formatException(r.exc_info))
    return "\n".join(out)


GUNICORN_PIDS = re.compile(r"\[\d+\]|pid:? \d+")


# ---------------------------------------------------------------- the log format

def test_json_lines_one_per_webhook(tmp_path):
    app = make_app(tmp_path, LOG_FORMAT="json")
    caller = Caller(app.test_client(), sid="CAjsonlines")
    with ivr_stream() as out:
        caller.keys("2", "3", "1", "_")
        caller.post("/voice/status", CallStatus="completed", CallDuration="20")
    lines = out.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]          # every line is one JSON object
    webhooks = [e for e in entries if e["msg"] == "webhook"]
    # Six webhooks, six lines: the status callback too (waits for the lead: it logs nothing yet).
    assert [e["route"] for e in webhooks] == ["/voice", "/voice/input", "/voice/input", "/voice/input",
                                              "/voice/timeout", "/voice/status"]
    assert [e["menu"] for e in webhooks[:5]] == ["language", "main", "check_ways", "check_ways", "check_ways"]
    assert [e["outcome"] for e in webhooks[:5]] == ["menu", "menu", "menu", "play", "timeout"]
    for e in webhooks:
        assert e["call"] == "CAjsonlines" and e["level"] == "INFO"
        assert isinstance(e["ms"], (int, float)) and e["ms"] >= 0
        assert set(e) >= {"time", "level", "msg", "call", "route", "menu", "outcome", "ms"}


def test_text_lines_one_per_webhook(tmp_path):
    app = make_app(tmp_path, LOG_FORMAT="text")
    caller = Caller(app.test_client(), sid="CAtextlines")
    with ivr_stream() as out:
        caller.keys("2", "4")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    for line, route, menu in zip(lines, ["/voice", "/voice/input", "/voice/input"], ["language", "main", "law"]):
        assert re.search(rf" INFO webhook call=CAtextlines route={route} menu={menu} outcome=\w+ ms=[0-9.]+$", line), line


def test_a_failing_webhook_is_one_line_with_the_call_sid(tmp_path, monkeypatch):
    app = make_app(tmp_path, LOG_FORMAT="json")
    caller = Caller(app.test_client(), sid="CAfailing")
    caller.keys("2")
    engine = app.extensions["ivr_hotline"].engine

    def broken(*a, **k):
        raise RuntimeError("disk on fire\n[SQL: SELECT secret]\n[parameters: ('110101199003074573',)]")

    monkeypatch.setattr(engine, "on_digits", broken)
    with ivr_stream() as out:
        doc = caller.press("3")
    assert doc.hangs_up
    [line] = out.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["msg"] == "webhook failed" and entry["call"] == "CAfailing" and entry["level"] == "ERROR"
    assert "disk on fire" in entry["error"]
    assert "110101199003074573" not in line       # waits for the lead: error= is the first line only


def test_json_logs_of_a_real_server(tmp_path, sqlite_url):
    seed_demo_accounts(sqlite_url)
    with running_server(tmp_path, sqlite_url, workers=2, IVR_LOG_FORMAT="json") as server:
        caller = Caller(HttpClient([server.url]), sid="CArealjson")
        caller.keys("2", "1", DEMO[1][1], DEMO[1][2], "1")
        sent = len(caller.history)
        err = server.stderr()
    ours = [line for line in err.splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in ours]
    webhooks = [e for e in entries if e["msg"] == "webhook" and e["call"] == "CArealjson"]
    assert len(webhooks) == sent == 6
    assert [e["outcome"] for e in webhooks] == ["menu", "menu", "entry", "entry", "login", "balance"]
    # Nothing of ours is left in another format (gunicorn's own lines start with "[").
    assert all(line.startswith(("{", "[")) or not line.strip() for line in err.splitlines()), err


# ---------------------------------------------------------------- no ID number, no password

def test_no_id_number_or_password_in_logs_records_or_twiml(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    url = f"sqlite:///{tmp_path / 'privacy.sqlite3'}"
    seed_demo_accounts(url)
    app = make_app(tmp_path, DATABASE_URL=url, LOG_FORMAT="text")
    client = app.test_client()
    sid = Sid("privacy")
    with ivr_stream() as out:
        docs = demo_calls(lambda number: Caller(client, sid=sid(), number=number))
    app.extensions["ivr_db"].dispose()
    assert len(docs) > 100
    found = find_secrets("caplog", records_text(caplog.records))
    found += find_secrets("stderr log", out.getvalue())
    found += find_secrets("TwiML", "\n".join(d.xml for d in docs))
    for table, rows in table_dump(url).items():
        found += find_secrets(f"table {table}", "\n".join(rows))
    assert not found, found
    # The scan saw what it should: full call records, masked callers, hashed counters.
    dump = table_dump(url)
    assert len(dump["calls"]) == len({d for d in range(sid.n)})
    assert any("1101**********4573" in row for row in dump["calls"])          # masked ID kept
    assert not any("+8613800130000" in row for row in dump["calls"])          # caller masked
    assert dump["unknown_id_failures"] and dump["caller_password_failures"]


def test_no_id_number_or_password_in_a_real_servers_output_or_database(tmp_path, db_url_privacy):
    url = db_url_privacy
    seed_demo_accounts(url)
    sid = Sid("server")
    with running_server(tmp_path, url, workers=2, IVR_LOG_FORMAT="json") as server:
        client = HttpClient([server.url])
        docs = demo_calls(lambda number: Caller(client, sid=sid(), number=number))
        output = server.stderr() + server.stdout()
    found = find_secrets("server output", GUNICORN_PIDS.sub("", output))
    found += find_secrets("TwiML", "\n".join(d.xml for d in docs))
    for table, rows in table_dump(url).items():
        found += find_secrets(f"table {table}", "\n".join(rows))
    assert not found, found
    # One log line per webhook, the status callbacks included (waits for the lead: /voice/status
    # and /voice/hold log nothing when they succeed).
    routes = [json.loads(line)["route"] for line in output.splitlines()
              if line.startswith("{") and '"route"' in line]
    sent = [u.split(server.url, 1)[1] for u in client.sent]
    assert sorted(routes) == sorted(sent)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url_privacy(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    return request.getfixturevalue("pg_schema_url")


# ---------------------------------------------------------------- ... not even when the database fails

def _fail_id_lookups(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE accounts RENAME COLUMN id_number TO id_number_moved"))
    engine.dispose()


def _fail_account_updates(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TRIGGER refuse_account_writes BEFORE UPDATE ON accounts "
                             "BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END"))
    engine.dispose()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_database_errors_do_not_log_id_numbers_or_password_hashes(tmp_path, caplog, log_format):
    """SQLAlchemy puts statement parameters into its error messages; a failing login or password
    change must not carry them into the log (waits for the lead: see the report)."""
    caplog.set_level(logging.DEBUG)
    url = f"sqlite:///{tmp_path / 'failing.sqlite3'}"
    seed_demo_accounts(url)
    app = make_app(tmp_path, DATABASE_URL=url, LOG_FORMAT=log_format)
    client = app.test_client()
    changer = Caller(client, sid="CAchanger", number="+8613800138001")
    changer.keys("2", "1", DEMO[1][1], DEMO[1][2], "4", NEW_PASSWORDS[1])
    login = Caller(client, sid="CAlogin", number="+8613800138002")
    login.keys("2", "1")
    with ivr_stream() as out:
        _fail_account_updates(url)
        assert changer.press(NEW_PASSWORDS[1]).heard == EN["app_error"]
        _fail_id_lookups(url)
        assert login.press(DEMO[0][1]).heard == EN["app_error"]
    app.extensions["ivr_db"].dispose()
    text = records_text(caplog.records) + "\n" + out.getvalue()
    assert "disk full (test)" in text and "id_number" in text          # the failures were logged
    found = find_secrets("logs", text)
    for marker in ("scrypt:", "pbkdf2:", "[parameters:"):
        if marker in text:
            found.append(f"{marker!r} in logs")
    assert not found, found
    webhook_lines = [line for line in out.getvalue().splitlines() if "webhook" in line]
    assert len(webhook_lines) == 2, out.getvalue()                      # one line per webhook


def test_signed_calls_keep_nothing_of_forged_requests(tmp_path, caplog):
    """A forger's request is refused before anything is stored or logged from its form."""
    caplog.set_level(logging.DEBUG)
    from tests.security.conftest import TOKEN

    url = f"sqlite:///{tmp_path / 'forged.sqlite3'}"
    app = make_app(tmp_path, DATABASE_URL=url, TWILIO_AUTH_TOKEN=TOKEN)
    client = app.test_client()
    r = client.post("/voice/input", data={"CallSid": "CAforged", "Digits": DEMO[0][0], "From": "+8613800138000"})
    assert r.status_code == 403
    doc = Caller(SignedClient(client), sid="CAsigned").dial()
    assert doc.gather is not None
    app.extensions["ivr_db"].dispose()
    assert not find_secrets("logs", records_text(caplog.records))
    assert [row for row in table_dump(url)["calls"] if "CAforged" in row] == []


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_junk_in_a_request_cannot_forge_log_lines(tmp_path, log_format):
    """A CallSid or ErrorUrl with a line break stays inside its own log line (waits for the lead:
    voice.py copies malformed CallSids and ErrorUrl into text log lines as they came)."""
    app = make_app(tmp_path, LOG_FORMAT=log_format)
    client = app.test_client()
    forged = "CA1\n1999-01-01 00:00:00,000 INFO webhook call=CAforged route=/voice/input"
    with ivr_stream() as out:
        client.post("/voice/input", data={"CallSid": forged, "Digits": "1"})
        client.post("/voice/status", data={"CallSid": forged, "CallStatus": "completed"})
        client.post("/voice/fallback", data={"CallSid": "CAok", "ErrorCode": "11200", "ErrorUrl": "x\n" + forged[4:]})
        client.post("/voice/hold", data={"CallSid": forged})
    lines = out.getvalue().splitlines()
    assert lines
    if log_format == "json":
        assert all(json.loads(line).get("call") != "CAforged" for line in lines)
    assert not [line for line in lines if line.startswith("1999-01-01")], lines
