"""The webhooks' saves checkpoint SQLite's WAL themselves, every CHECKPOINT_EVERY committed saves,
with a RESTART that never waits (ivr.hotline.db checkpoint_sqlite; issue 17, round 9: with two
server processes SQLite's own passive checkpoints never started the WAL over, so every commit
checkpointed again)."""
from __future__ import annotations

import sqlite3
import struct
import threading

import pytest

import ivr.hotline.calls as calls
from ivr.engine.state import CallState
from ivr.hotline.calls import CallStore
from ivr.hotline.db import AUTOCHECKPOINT_PAGES, BUSY_TIMEOUT_MS, Database, checkpoint_sqlite


@pytest.fixture
def db(tmp_path):
    """A SQLite file, whatever database the suite runs on: its WAL index is what these tests read
    (disposed by tests/conftest.py's ``_dispose_databases``)."""
    database = Database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    database.create_all()
    return database


def wal_state(db) -> tuple[int, int]:
    """(pages in the WAL, of which copied into the database), read from the WAL index (the -shm
    file: mxFrame of its header, nBackfill after its two copies; https://www.sqlite.org/walformat.html)
    without taking part: a checkpoint to ask would be one."""
    with open(db.engine.url.database + "-shm", "rb") as shm:
        head = shm.read(100)
    return struct.unpack_from("=I", head, 16)[0], struct.unpack_from("=I", head, 96)[0]


def wal_pages(db) -> int:
    return wal_state(db)[0]


def saves(store, conn, sid, count):
    for _ in range(count):
        state = store.load(conn, sid)
        state.steps += 1
        store.save(conn, state, known=True, commit=True)


def test_every_nth_committed_save_starts_the_wal_over(db, monkeypatch):
    monkeypatch.setattr(calls, "CHECKPOINT_EVERY", 5)
    store = CallStore()
    with db.engine.connect() as conn:
        store.save(conn, CallState(call_sid="CAwal", language="en-US", menu="main", version="v1"), commit=True)
        saves(store, conn, "CAwal", 3)
        assert wal_pages(db) > 0          # four saves: the WAL grows, nothing checkpointed yet
        assert wal_state(db)[1] == 0
        saves(store, conn, "CAwal", 1)    # the fifth: all copied into the database
        grown, copied = wal_state(db)
        assert copied == grown > 0
        saves(store, conn, "CAwal", 1)
        assert 0 < wal_pages(db) < grown  # the next save writes from the WAL's beginning
        assert store.load(conn, "CAwal").steps == 5   # nothing lost on the way


def test_the_checkpoint_never_waits_for_a_reader(db, monkeypatch):
    """A reader in the middle of a transaction: the checkpoint gives up at once (busy), without
    SQLite's busy timeout, and leaves that timeout as it was for the connection's other writes."""
    store = CallStore()
    with db.engine.connect() as conn:
        store.save(conn, CallState(call_sid="CAread", language="en-US", menu="main", version="v1"), commit=True)
        saves(store, conn, "CAread", 2)
        reader = sqlite3.connect(db.engine.url.database)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM calls").fetchone()   # holds its snapshot of the WAL
        saves(store, conn, "CAread", 1)   # a frame the reader's snapshot lacks
        dbapi = conn.connection.dbapi_connection
        ran = []
        dbapi.set_trace_callback(ran.append)
        try:
            busy, _pages, _copied = checkpoint_sqlite(dbapi)
        finally:
            dbapi.set_trace_callback(None)
            reader.rollback()
            reader.close()
        assert busy == 1
        assert ran == ["PRAGMA busy_timeout=0", "PRAGMA wal_checkpoint(RESTART)",
                       f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}"]
        assert dbapi.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
        pages, copied = wal_state(db)
        assert copied < pages
        assert checkpoint_sqlite(dbapi)[0] == 0   # the reader gone: all copied, the WAL starts over
        assert wal_state(db) == (pages, pages)
        saves(store, conn, "CAread", 1)
        assert wal_pages(db) < pages


def test_saves_of_two_threads_keep_the_wal_short(db, monkeypatch):
    """Two writers at once (as two server processes are): the WAL is started over again and again,
    so it stays near CHECKPOINT_EVERY saves' worth of pages instead of growing to SQLite's limit."""
    monkeypatch.setattr(calls, "CHECKPOINT_EVERY", 20)
    seen = []

    def writer(n):
        store = CallStore()
        with db.engine.connect() as conn:
            sid = f"CAtwo{n}"
            store.save(conn, CallState(call_sid=sid, language="en-US", menu="main", version="v1"), commit=True)
            for _ in range(10):
                saves(store, conn, sid, 20)
                seen.append(wal_pages(db))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 20
    assert max(seen) < 400                      # 400 saves in all, ~3 pages each without checkpoints
    assert min(seen) < 120


def test_connections_leave_the_automatic_checkpoint_as_a_backstop(db):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT_PAGES


def test_a_failed_checkpoint_is_logged_not_raised(caplog):
    class Broken:
        def cursor(self):
            return self

        def execute(self, sql):
            if "wal_checkpoint" in sql:
                raise sqlite3.OperationalError("disk I/O error")
            return self

        def close(self):
            pass

    with caplog.at_level("WARNING", logger="ivr"):
        assert checkpoint_sqlite(Broken())[0] == 1
    assert "WAL checkpoint failed (OperationalError)" in caplog.text
