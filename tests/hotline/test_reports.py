"""ivr.hotline.reports: the call log and the dashboard's figures, read straight from the tables
(no app, no Flask), masked whatever the rows hold."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.accounts.models import Account, CallerFailure, UnknownIdFailure
from ivr.hotline import reports
from ivr.hotline.db import Database
from ivr.hotline.models import Call

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ID = "110101199003074573"


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'reports.sqlite3'}")
    database.create_all()
    yield database
    database.dispose()


def add_call(session, sid, minutes_ago, **columns):
    state = columns.pop("state", {})
    session.add(Call(call_sid=sid, state=state, started_at=NOW - dt.timedelta(minutes=minutes_ago), **columns))


def test_a_call_row_is_masked_whatever_the_row_holds(db):
    with db.Session() as s, s.begin():
        add_call(s, "CA1", 5, caller="+8613812345678", language="en-US", outcome="abandoned",
                 ended_at=NOW - dt.timedelta(minutes=3),
                 state={"path": ["language", "main"], "keys": ["2", ID, "#"],
                        "heard": [{"menu": "main", "said": "one one zero one", "result": "digits",
                                   "confidence": 0.9}, "junk", {"said": "余额", "confidence": "high"}],
                        "data": {"masked_id": ID}})
    with db.Session() as s:
        [row] = reports.recent_calls(s, 10)
    assert row["caller"] == "+86138****5678"
    assert row["keys"] == ["2", "•" * 18, "#"]
    assert row["said"] == [{"menu": "main", "said": "•" * len("one one zero one"), "result": "digits", "confidence": 0.9},
                           {"menu": "", "said": "余额", "result": "", "confidence": None}]
    assert row["masked_id"] == "1101**********4573"
    assert row["outcome_label"] == "caller hung up"
    assert row["duration"] == 120 and row["duration_from"] == "log"   # no CallDuration: from the log
    assert row["started_at"].endswith("+00:00")


def test_recent_calls_are_newest_first_and_limited(db):
    with db.Session() as s, s.begin():
        for n in range(4):
            add_call(s, f"CA{n}", 10 - n, duration=n)
    with db.Session() as s:
        rows = reports.recent_calls(s, 2)
        assert reports.call_count(s) == 4
    assert [r["call_sid"] for r in rows] == ["CA3", "CA2"]
    assert rows[0]["duration"] == 3 and rows[0]["duration_from"] == "twilio"


def test_menu_counts_and_outcome_totals(db):
    with db.Session() as s, s.begin():
        add_call(s, "CA1", 2, outcome="timeout", state={"stats": {"main": {"success": 1, "timeout": 3}}})
        add_call(s, "CA2", 1, state={"stats": {"main": {"invalid": 2, "transfer": "x"}, "old_menu": {"success": 1}}})
    with db.Session() as s:
        counts, counted = reports.menu_counts(s, ["main", "law"])
        totals = reports.outcome_totals(s)
    assert counted == 2
    assert counts["main"] == {**dict.fromkeys(reports.OUTCOMES, 0), "success": 1, "invalid": 2, "timeout": 3}
    assert counts["law"] == dict.fromkeys(reports.OUTCOMES, 0)
    assert counts["old_menu"]["success"] == 1            # a menu since removed still counts
    assert totals == {"timeout hang-up": 1, "in progress": 1}


def test_account_security_shows_masked_ids_and_counts(db):
    with db.Session() as s, s.begin():
        s.add(Account(id_number=ID, card_number="A00000001", name="x", city="x", password_hash="x", failed_attempts=3,
                      locked_until=NOW + dt.timedelta(minutes=30), card_status="active",
                      updated_at=NOW))
        s.add(UnknownIdFailure(id_hash="h1", failed_attempts=2, locked_until=NOW + dt.timedelta(minutes=5),
                               updated_at=NOW))
        s.add(CallerFailure(caller_hash="c1", failures=10, window_start=NOW - dt.timedelta(minutes=5)))
        s.add(CallerFailure(caller_hash="c2", failures=1, window_start=NOW - dt.timedelta(minutes=5)))
        s.add(CallerFailure(caller_hash="c3", failures=9, window_start=NOW - dt.timedelta(hours=3)))
    with db.Session() as s:
        seen = reports.account_security(s, NOW, caller_window_minutes=60, caller_max_failures=10)
    [account] = seen["accounts"]
    assert account["masked_id"] == "1101**********4573" and account["failed_attempts"] == 3
    assert account["locked_until"] is not None
    assert (seen["accounts_locked"], seen["unknown_ids_failing"], seen["unknown_ids_locked"]) == (1, 1, 1)
    assert (seen["callers_failing"], seen["callers_limited"], seen["caller_window_minutes"]) == (2, 1, 60)
    assert ID not in repr(seen)
