"""Nothing lost: real ``ivr serve`` (gunicorn) processes, SIGKILL between webhooks, two servers on
one database taking turns, confirmations that are already committed when they are spoken, and
concurrent changes to one account.

Every test drives calls over HTTP with signed requests and follows the TwiML like Twilio would;
the PostgreSQL variants run in a schema of their own and skip, saying why, without a server.
"""
from __future__ import annotations

import re
import threading
import tomllib

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from ivr.accounts.service import AccountService
from ivr.hotline.db import Database
from tests.conftest import ROOT
from tests.security.conftest import (FAST_HASH, HttpClient, HttpResponse, running_server,
                                     seed_demo_accounts, sign)
from tests.twiml import Caller, parse

EN = tomllib.loads((ROOT / "prompts/en-US.toml").read_text("utf-8"))
ZH = tomllib.loads((ROOT / "prompts/zh-CN.toml").read_text("utf-8"))
ID1, PW1 = "110101199003074573", "074573"
ID2, PW2 = "310104198511122035", "246810"
IDX, PWX = "44010619881203118*", "135790"

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    seed_demo_accounts(url)
    return url


def service(url: str) -> tuple[AccountService, Database]:
    db = Database(url)
    return AccountService(db.Session, secret="test-secret", hash_method=FAST_HASH), db


def spoken_reference(text: str) -> str:
    """The reference number said digit by digit in English words, back to digits."""
    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    match = re.search(r"reference number is ((?:[a-z]+ ?)+)\.", text)
    assert match, text
    return "".join(str(words.index(w)) for w in match[1].split())


# ---------------------------------------------------------------- gunicorn really serves

def test_ivr_serve_runs_gunicorn_with_the_workers_asked_for(tmp_path, sqlite_url):
    with running_server(tmp_path, sqlite_url, workers=3) as server:
        assert len(server.workers()) == 3
        doc = Caller(HttpClient([server.url])).dial()
        assert doc.gather is not None and doc.gather.get("action") == "/voice/input"
        # An unsigned request is refused by every worker alike.
        import requests

        for _ in range(6):
            r = requests.post(server.url + "/voice", data={"CallSid": "CAx"}, timeout=30)
            assert r.status_code == 403
        err = server.stderr()
        assert "Using worker: sync" in err
        assert err.count("Booting worker with pid") == 3
        assert "DEVELOPMENT MODE" not in err + server.stdout()
        assert "Twilio voice webhook (POST):" in server.stdout()


def test_ivr_serve_without_a_token_warns_at_start_and_once_per_worker(tmp_path, sqlite_url):
    with running_server(tmp_path, sqlite_url, workers=1, TWILIO_AUTH_TOKEN=None) as server:
        caller = Caller(HttpClient([server.url], token=None))
        caller.keys("2", "3", "1")
        caller.press("2")
        err = server.stderr()
    # The start-up banner (stderr) and one log line from the one worker that served the call.
    assert err.count("DEVELOPMENT MODE: TWILIO_AUTH_TOKEN is not set") == 2, err


# ---------------------------------------------------------------- SIGKILL between webhooks

def _kill_all_workers(server) -> set[int]:
    import os
    import signal

    pids = set(server.workers())
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


def test_sigkilled_workers_lose_nothing(tmp_path, sqlite_url):
    """Every worker is killed -9 before each webhook; the respawned ones carry the call on."""
    seed_demo_accounts(sqlite_url)
    with running_server(tmp_path, sqlite_url, workers=2) as server:
        killed: set[int] = set()
        caller = Caller(HttpClient([server.url]))
        script = [
            ("2", EN["main_menu"]),                       # English
            ("3", EN["check_menu"]),
            ("1", EN["check_wechat"]),
            ("*", EN["main_menu_short"]),
            ("1", EN["enter_id"]),
            (ID2, EN["enter_password"]),
            (PW2, EN["account_menu"]),
            ("2", "Your basic pension personal account holds 102,400 yuan."),
        ]
        caller.dial()
        for key, expected in script:
            killed |= _kill_all_workers(server)
            fresh = server.wait_workers(2, exclude=killed)
            assert not set(fresh) & killed
            doc = caller.press(key)
            assert expected in doc.heard, (key, doc.heard)
        assert "SIGKILL" in server.stderr()
    with Database(sqlite_url).Session() as s:
        row = s.execute(sa.text("SELECT menu, steps FROM calls WHERE call_sid = :s"), {"s": caller.sid}).one()
    assert row.menu == "account" and row.steps == len(script) + 1


def test_a_whole_server_killed_and_restarted_continues_the_call(tmp_path, db_url):
    caller = Caller(HttpClient([]))
    with running_server(tmp_path, db_url, workers=1, name="first") as first:
        caller.client.bases = [first.url]
        caller.keys("2", "1", IDX)
        assert caller.doc.heard == EN["enter_password"]
        first.kill9()                                   # master and worker, no clean shutdown
    with running_server(tmp_path, db_url, workers=1, name="second") as second:
        caller.client.bases = [second.url]
        assert caller.press(PWX).heard == EN["account_menu"]
        assert caller.press("1").speech[0][1] == "Your medical insurance personal account balance is 88 yuan 8 fen."


# ---------------------------------------------------------------- two servers, alternating webhooks

SCRIPTS = {
    "guides_en": (["2", "3", "1", "*", "4", "2"],
                  [EN["main_menu"], EN["check_menu"], EN["check_wechat"], EN["main_menu_short"],
                   EN["law_menu"], "Article 10"]),
    "balance_zh": (["1", "1", ID1, PW1, "1", "2"],
                   [ZH["main_menu"], ZH["enter_id"], ZH["enter_password"], ZH["account_menu"],
                    "一千二百三十四元五角六分", "四万五千六百七十八元九角"]),
    "spending_en": (["2", "1", ID2, PW2, "3", "9"],
                    [EN["main_menu"], EN["enter_id"], EN["enter_password"], EN["account_menu"],
                     EN["spending_none"], EN["account_menu"]]),
    "star_x_en": (["2", "1", IDX, PWX, "1", "*"],
                  [EN["main_menu"], EN["enter_id"], EN["enter_password"], EN["account_menu"],
                   "88 yuan 8 fen", EN["main_menu_short"]]),
}


def _run_interleaved(callers: dict[str, Caller], start: int, stop: int) -> None:
    """Step ``start``..``stop`` of every script, one webhook per call in turn."""
    for step in range(start, stop):
        for name, caller in callers.items():
            keys, expected = SCRIPTS[name]
            doc = caller.press(keys[step])
            assert expected[step] in doc.heard, (name, step, doc.heard)


def test_two_servers_on_one_database_take_turns_and_survive_a_kill(tmp_path, db_url):
    with running_server(tmp_path, db_url, workers=1, name="a") as a, \
            running_server(tmp_path, db_url, workers=1, name="b") as b:
        callers = {}
        for i, name in enumerate(SCRIPTS):
            client = HttpClient([a.url, b.url])
            client.turn = i                       # half the calls start on a, half on b
            callers[name] = Caller(client)
            callers[name].dial()
        _run_interleaved(callers, 0, 3)
        for caller in callers.values():          # both servers really served every call
            assert {u.split("/voice")[0] for u in caller.client.sent} == {a.url, b.url}
        a.kill9()                                 # a load balancer now sends everything to b
        for caller in callers.values():
            caller.client.bases = [b.url]
        _run_interleaved(callers, 3, 4)
        with running_server(tmp_path, db_url, workers=1, name="a2", port=a.port) as a2:
            for caller in callers.values():
                caller.client.bases = [a2.url, b.url]
            _run_interleaved(callers, 4, 6)
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = {r.call_sid: r for r in conn.execute(sa.text("SELECT call_sid, steps, menu, state FROM calls"))}
    engine.dispose()
    for name, caller in callers.items():
        row = rows[caller.sid]
        assert row.steps == 7, (name, row.steps)   # dial + 6 keys, none lost, none counted twice
    assert rows[callers["guides_en"].sid].menu == "law"
    assert rows[callers["balance_zh"].sid].menu == "account"


# ---------------------------------------------------------------- committed before it is spoken

def test_password_change_is_committed_before_the_confirmation(tmp_path, db_url):
    with running_server(tmp_path, db_url, workers=1) as server:
        caller = Caller(HttpClient([server.url]))
        caller.keys("2", "1", ID2, PW2, "4", "583920")
        doc = caller.press("583920")
        assert doc.speech[0][1] == EN["password_changed"]
        server.kill9()                            # the server dies the moment it has spoken
    accounts, db = service(db_url)
    assert accounts.verify(ID2, "583920").ok
    assert not accounts.verify(ID2, PW2).ok
    assert accounts.lookup(ID2).password_is_initial is False


def test_loss_report_is_committed_before_its_reference_is_read(tmp_path, db_url):
    with running_server(tmp_path, db_url, workers=1) as server:
        caller = Caller(HttpClient([server.url]))
        caller.keys("2", "1", ID1, PW1, "5")
        assert caller.doc.heard.startswith(EN["lost_confirm"])
        doc = caller.press("1")
        reference = spoken_reference(doc.speech[0][1])
        server.kill9()
    accounts, db = service(db_url)
    info = accounts.lookup(ID1)
    assert info.card_status == "reported_lost" and info.lost_reference == reference


def _refuse_account_writes(url: str) -> None:
    """A database that refuses to change accounts (a full disk, a lost primary)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(sa.text("CREATE TRIGGER refuse_account_writes BEFORE UPDATE ON accounts "
                                 "BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END"))
        else:
            conn.execute(sa.text("CREATE FUNCTION refuse_writes() RETURNS trigger AS $$ BEGIN "
                                 "RAISE EXCEPTION 'disk full (test)'; END $$ LANGUAGE plpgsql"))
            conn.execute(sa.text("CREATE TRIGGER refuse_account_writes BEFORE UPDATE ON accounts "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse_writes()"))
    engine.dispose()


def test_no_confirmation_when_the_change_cannot_be_stored(tmp_path, db_url):
    with running_server(tmp_path, db_url, workers=1) as server:
        caller = Caller(HttpClient([server.url]))
        caller.keys("2", "1", ID2, PW2, "4", "583920")
        lost = Caller(HttpClient([server.url]))
        lost.keys("2", "1", ID1, PW1, "5")
        _refuse_account_writes(db_url)
        doc = caller.press("583920")
        assert EN["password_changed"] not in doc.heard
        assert doc.heard == EN["app_error"] and doc.hangs_up
        doc = lost.press("1")
        assert "reference number" not in doc.heard
        assert doc.heard == EN["app_error"] and doc.hangs_up
        assert "disk full (test)" in server.stderr()
    accounts, db = service(db_url)
    with db.Session() as s:
        row = s.execute(sa.text("SELECT card_status, lost_reference FROM accounts WHERE id_number = :i"),
                        {"i": ID1}).one()
    assert tuple(row) == ("active", None)


# ---------------------------------------------------------------- concurrent changes to one account

NEW_PASSWORDS = ["583920", "691357", "702468", "815937", "927384", "130579"]


def _together(callers, key: str) -> list:
    """Every caller presses ``key`` at the same moment (a barrier, then one POST each)."""
    barrier = threading.Barrier(len(callers))
    results: list = [None] * len(callers)

    def go(i, caller):
        barrier.wait()
        try:
            results[i] = caller.press(key)
        except BaseException as exc:          # reported below, not lost in the thread
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def _logged_in(servers, id_number, password, count):
    callers = []
    for i in range(count):
        client = HttpClient([s.url for s in servers])
        client.turn = i
        caller = Caller(client, number=f"+86139000000{i:02d}")
        caller.keys("2", "1", id_number, password)
        assert caller.doc.heard == EN["account_menu"]
        callers.append(caller)
    return callers


def test_concurrent_password_changes_leave_one_consistent_password(tmp_path, db_url):
    with running_server(tmp_path, db_url, workers=2, name="a") as a, \
            running_server(tmp_path, db_url, workers=2, name="b") as b:
        callers = _logged_in([a, b], ID2, PW2, len(NEW_PASSWORDS))
        for caller, new in zip(callers, NEW_PASSWORDS):
            caller.press("4")
            assert caller.press(new).heard == EN["confirm_new_password"]
        # Each confirms its own new password at the same moment.
        barrier = threading.Barrier(len(callers))
        heard: dict[str, str] = {}

        def confirm(caller, new):
            barrier.wait()
            heard[new] = caller.press(new).speech[0][1]

        threads = [threading.Thread(target=confirm, args=cn) for cn in zip(callers, NEW_PASSWORDS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert heard == {new: EN["password_changed"] for new in NEW_PASSWORDS}
    accounts, db = service(db_url)
    with db.Session() as s:
        stored = s.execute(sa.text("SELECT password_hash FROM accounts WHERE id_number = :i"), {"i": ID2}).scalar()
    winners = [new for new in NEW_PASSWORDS + [PW2] if check_password_hash(stored, new)]
    assert len(winners) == 1 and winners[0] != PW2, winners   # exactly one of them, hashed whole
    info = accounts.lookup(ID2)
    assert info.password_is_initial is False and info.locked_until is None and info.failed_attempts == 0
    assert accounts.verify(ID2, winners[0]).ok


def test_concurrent_loss_reports_store_one_reference(tmp_path, db_url):
    with running_server(tmp_path, db_url, workers=2, name="a") as a, \
            running_server(tmp_path, db_url, workers=2, name="b") as b:
        callers = _logged_in([a, b], ID1, PW1, 5)
        for caller in callers:
            assert caller.press("5").heard.startswith(EN["lost_confirm"])
        docs = _together(callers, "1")
    texts = [d.speech[0][1] for d in docs]
    done = [t for t in texts if t.startswith("Your card has been reported lost.")]
    already = [t for t in texts if t.startswith("Your card was already reported lost")]
    assert len(done) == 1 and len(already) == 4, texts
    reference = spoken_reference(done[0])
    assert {spoken_reference(t) for t in already} == {reference}
    accounts, db = service(db_url)
    assert accounts.lookup(ID1).lost_reference == reference


def test_signed_requests_to_a_server_with_another_token_are_refused(tmp_path, sqlite_url):
    """The deployment mistake `ivr twilio setup --check` catches: a server with another token."""
    with running_server(tmp_path, sqlite_url, workers=1, TWILIO_AUTH_TOKEN="another-token") as server:
        client = HttpClient([server.url])
        response = client.post("/voice", data={"CallSid": "CAabc", "From": "+14155550100"})
        assert response.status_code == 403
        assert "webhook signature rejected" in server.stderr()
        import requests

        url = server.url + "/voice"
        form = {"CallSid": "CAabc"}
        ok = requests.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form, "another-token")},
                           timeout=30)
        assert parse(HttpResponse(ok)).gather is not None


# ---------------------------------------------------------------- behind ngrok, for real

NGROK = "https://abc.ngrok.app"


def test_real_server_behind_a_tunnel_with_trust_proxy(tmp_path, sqlite_url):
    """A tunnel connects from localhost and says where Twilio really called (X-Forwarded-*)."""
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "abc.ngrok.app", "X-Forwarded-For": "54.172.60.1"}
    with running_server(tmp_path, sqlite_url, workers=2, IVR_TRUST_PROXY="1") as server:
        caller = Caller(HttpClient([server.url], public=NGROK, headers=headers))
        assert caller.keys("2", "3").heard == EN["check_menu"]
        assert caller.press("1").speech[0][1] == EN["check_wechat"]
        assert "webhook signature rejected" not in server.stderr()


def test_real_server_with_public_url(tmp_path, sqlite_url):
    """No forwarded headers at all: IVR_PUBLIC_URL says what Twilio signed; actions are absolute."""
    with running_server(tmp_path, sqlite_url, workers=2, IVR_PUBLIC_URL=NGROK) as server:
        caller = Caller(HttpClient([server.url], public=NGROK))
        doc = caller.keys("2")
        assert doc.gather.get("action") == NGROK + "/voice/input"
        assert caller.press("4").heard == EN["law_menu"]
        # Signed for the address the server listens on instead: refused.
        assert HttpClient([server.url]).post("/voice", data={"CallSid": "CAlocal"}).status_code == 403
