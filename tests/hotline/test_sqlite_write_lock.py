"""The call-state save takes SQLite's write lock in short pauses, not SQLite's millisecond busy
sleeps (ivr.accounts.sqlite_lock begin_sqlite_write, issue 17 round 5)."""
import sqlite3
import threading

import pytest

from ivr.accounts.sqlite_lock import BUSY_TIMEOUT_MS, SPINS, begin_sqlite_write
from tests.conftest import make_app
from tests.twiml import Caller


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "lock.sqlite3"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.commit()
    setup.close()
    return path


def connect(path):
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def busy_timeout(conn) -> int:
    return conn.execute("PRAGMA busy_timeout").fetchone()[0]


def test_waits_in_short_pauses_while_another_process_writes(database):
    holder, saver = connect(database), connect(database)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 4:
            holder.commit()   # the other writer finishes

    begin_sqlite_write(saver, sleep=sleep)
    assert saver.in_transaction
    assert pauses == pytest.approx([20e-6, 40e-6, 80e-6, 160e-6])
    assert busy_timeout(saver) == BUSY_TIMEOUT_MS   # restored for everything else on the connection
    saver.execute("INSERT INTO t VALUES (2)")
    saver.commit()
    assert [r[0] for r in holder.execute("SELECT x FROM t ORDER BY x")] == [1, 2]


def test_pauses_grow_to_a_millisecond_and_give_up_as_busy_timeout_would(database):
    holder, saver = connect(database), connect(database)
    holder.execute("BEGIN IMMEDIATE")
    clock = {"now": 100.0}
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        clock["now"] += seconds

    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        begin_sqlite_write(saver, timeout=0.05, clock=lambda: clock["now"], sleep=sleep)
    assert max(pauses) == pytest.approx(1e-3) and sum(pauses) >= 0.05
    assert not saver.in_transaction and busy_timeout(saver) == BUSY_TIMEOUT_MS
    holder.rollback()


def test_a_webhook_saves_after_another_process_releases_the_lock(tmp_path):
    app = make_app(tmp_path)
    caller = Caller(app.test_client())
    caller.keys("2")
    holder = sqlite3.connect(tmp_path / "ivr.sqlite3", check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.05, holder.commit)
    release.start()
    try:
        doc = caller.post("/voice/input", Digits="1")   # waits for the lock, then saves
    finally:
        release.join()
        holder.close()
    assert doc.gather is not None and not doc.hangs_up
    assert caller.post("/voice/input", Digits="*").gather is not None   # the saved state moved on


def test_first_retries_come_at_once_yielding_the_core(database):
    """A save holds the lock some tens of microseconds; the first retries come without a pause
    (each after a yield of the core), so a waiting save takes the lock as it is let go."""
    holder, saver = connect(database), connect(database)
    holder.execute("BEGIN IMMEDIATE")
    yields, pauses = [], []

    def yield_():
        yields.append(1)
        if len(yields) == 3:
            holder.commit()

    begin_sqlite_write(saver, sleep=pauses.append, yield_=yield_)
    assert saver.in_transaction and len(yields) == 3 and pauses == []
    saver.rollback()


def test_pauses_follow_the_retries_at_once(database):
    holder, saver = connect(database), connect(database)
    holder.execute("BEGIN IMMEDIATE")
    yields, pauses = [], []

    def sleep(seconds):
        pauses.append(seconds)
        holder.commit()

    begin_sqlite_write(saver, sleep=sleep, yield_=lambda: yields.append(1))
    assert len(yields) == SPINS and pauses == [20e-6]
    saver.rollback()
