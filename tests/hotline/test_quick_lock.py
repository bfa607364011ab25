"""A kept SQLite webhook connection runs with busy_timeout 0, so a save is no PRAGMA pair around its
BEGIN IMMEDIATE (ivr.accounts.sqlite_lock, issue 17 round 10): every write on it takes the write
lock itself, waiting while another process holds it, and the connection waits as usual again once
it is back in the pool."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ivr.accounts.seed import seed_demo
from ivr.accounts.sqlite_lock import BUSY_TIMEOUT_MS, QUICK_LOCK
from ivr.engine.state import CallState
from ivr.hotline.models import Call, Voicemail
from tests.conftest import make_app
from tests.twiml import Caller

HOLD = 0.15   # seconds another process keeps the write lock


def busy_timeout(dbapi) -> int:
    return dbapi.execute("PRAGMA busy_timeout").fetchone()[0]


class LockHolder:
    """Another process's connection (sqlite3, no pool) holding the write lock for ``HOLD`` s."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path, timeout=0, check_same_thread=False, isolation_level=None)
        self.released = None

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")

        def release():
            time.sleep(HOLD)
            self.released = time.monotonic()
            self.conn.execute("COMMIT")

        self.thread = threading.Thread(target=release)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.thread.join()
        self.conn.close()


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    seed_demo(app.extensions["ivr_db"].Session)
    return app


def test_a_kept_connection_saves_without_a_pragma_and_waits_again_in_the_pool(app):
    db, calls = app.extensions["ivr_db"], app.extensions["ivr_hotline"].calls
    with db.connection() as (conn, _):
        dbapi = conn.connection.dbapi_connection
        assert conn.info[QUICK_LOCK] and busy_timeout(dbapi) == 0
        run = []
        dbapi.set_trace_callback(run.append)
        calls.save(conn, CallState(call_sid="CAquick", language="en-US", menu="main_menu"), caller="+8613800138000",
                   commit=True)
        dbapi.set_trace_callback(None)
    assert run[0] == "BEGIN IMMEDIATE" and not any("PRAGMA" in s for s in run)
    assert db.kept_connections == 1
    # Back in the pool (here: too old to keep), the connection has SQLite's busy timeout again.
    db._recycle = 0.0
    with db.connection() as (conn, _):
        dbapi = conn.connection.dbapi_connection
    assert db.kept_connections == 0
    with db.engine.connect() as pooled:
        assert pooled.connection.dbapi_connection is dbapi
        assert QUICK_LOCK not in pooled.info and busy_timeout(dbapi) == BUSY_TIMEOUT_MS


@pytest.mark.parametrize("how", ["prepared", "core", "orm", "text"])
def test_every_kind_of_write_on_a_kept_connection_waits_for_the_lock(app, tmp_path, how):
    db, calls = app.extensions["ivr_db"], app.extensions["ivr_hotline"].calls
    with db.connection() as (conn, _):
        calls.save(conn, CallState(call_sid="CAwait", language="en-US", menu="main_menu"), caller="+8613800138000",
                   commit=True)
    with db.connection() as (conn, _), LockHolder(tmp_path / "ivr.sqlite3") as holder:
        dbapi = conn.connection.dbapi_connection
        assert busy_timeout(dbapi) == 0
        with pytest.raises(sqlite3.OperationalError, match="locked"):   # what SQLite alone would do
            dbapi.execute("UPDATE calls SET steps = 7 WHERE call_sid = 'CAwait'")
        dbapi.rollback()   # the driver's BEGIN before that UPDATE
        if how == "prepared":     # the account service's and the status callback's statements
            assert calls.complete(conn, "CAwait", 42, "completed")
        elif how == "core":       # a statement SQLAlchemy runs
            conn.execute(sa.update(Call).where(Call.call_sid == "CAwait").values(duration=42))
        elif how == "orm":        # the ORM's flush (a voicemail)
            session = Session(bind=conn)
            session.add(Voicemail(call_sid="CAwait", recording_url="https://api.twilio.com/RE1", duration=42))
            session.flush()
            session.commit()
        else:
            conn.exec_driver_sql("UPDATE calls SET duration = 42 WHERE call_sid = 'CAwait'")
        assert time.monotonic() >= holder.released   # it waited for the other process's commit
        from ivr.accounts.sql import commit_open
        commit_open(conn)
    with db.engine.connect() as check:
        if how == "orm":
            assert check.execute(sa.select(Voicemail.duration).where(Voicemail.call_sid == "CAwait")).scalar() == 42
        else:
            assert check.execute(sa.select(Call.duration).where(Call.call_sid == "CAwait")).scalar() == 42


def test_webhooks_that_write_wait_for_another_process_instead_of_apologising(app, tmp_path):
    """A wrong password (the login's counters), a status callback: each while another process
    holds the write lock."""
    caller = Caller(app.test_client())
    caller.keys("2", "1")
    caller.press("110101199003074573")
    with LockHolder(tmp_path / "ivr.sqlite3"):
        heard = caller.press("000000").heard
    assert "The ID number or the password is not correct." in heard
    with LockHolder(tmp_path / "ivr.sqlite3"):
        response = app.test_client().post("/voice/status", data={"CallSid": caller.sid, "CallStatus": "completed",
                                                                 "CallDuration": "37"})
    assert response.status_code in (200, 204)
    db = app.extensions["ivr_db"]
    with db.engine.connect() as check:
        row = check.execute(sa.select(Call.duration, Call.outcome).where(Call.call_sid == caller.sid)).first()
    assert row.duration == 37 and row.outcome == "abandoned"
