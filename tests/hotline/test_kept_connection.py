"""A SQLite file's webhook connection stays open between webhooks (ivr.hotline.db Database.connection,
issue 17 round 5): reused, never holding a transaction or a lock between webhooks, rolled back after
a failure, never used by a forked child, closed by dispose()."""
import logging
import os
import sqlite3

import pytest
import sqlalchemy as sa

from ivr.hotline.models import Call
from tests.conftest import make_app
from tests.twiml import Caller


def dbapi_ids(db):
    return [id(c.connection.dbapi_connection) for c in db._kept]


def steps(db, sid):
    with db.Session() as s:
        return s.scalar(sa.select(Call.steps).where(Call.call_sid == sid))


def test_webhooks_reuse_one_open_connection_and_leave_no_transaction(tmp_path):
    app = make_app(tmp_path)
    db = app.extensions["ivr_db"]
    caller = Caller(app.test_client())
    caller.dial()
    first = dbapi_ids(db)
    assert len(first) == 1
    caller.keys("2", "1", "*")
    assert dbapi_ids(db) == first
    assert not db._kept[0].in_transaction()
    # No lock is held between webhooks: another process's connection takes the write lock at once.
    other = sqlite3.connect(tmp_path / "ivr.sqlite3", timeout=0)
    other.execute("BEGIN IMMEDIATE")
    other.rollback()
    # Nor a read snapshot: a checkpoint that must wait for every reader copies the whole WAL back.
    assert other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone() == (0, 0, 0)
    other.close()


def test_a_failed_webhook_is_rolled_back_and_the_next_one_works(tmp_path, monkeypatch):
    app = make_app(tmp_path)
    db = app.extensions["ivr_db"]
    caller = Caller(app.test_client())
    caller.keys("2")
    before = steps(db, caller.sid)
    calls = app.extensions["ivr_hotline"].calls
    real_save = calls.save

    def save_then_fail(conn, state, caller=None):
        real_save(conn, state, caller)   # written inside the webhook's transaction ...
        raise sa.exc.OperationalError("UPDATE calls", {}, Exception("disk I/O error"))   # ... then lost

    monkeypatch.setattr(calls, "save", save_then_fail)
    assert caller.post("/voice/input", Digits="1").hangs_up   # the apology
    assert steps(db, caller.sid) == before                     # nothing of that webhook was kept
    assert db.kept_connections == 1 and not db._kept[0].in_transaction()
    monkeypatch.setattr(calls, "save", real_save)
    other = Caller(app.test_client())
    assert other.keys("2").gather is not None
    assert steps(db, other.sid) >= 1


def test_dispose_closes_the_open_connection(tmp_path):
    app = make_app(tmp_path)
    db = app.extensions["ivr_db"]
    Caller(app.test_client()).dial()
    kept = db._kept[0]
    db.dispose()
    assert kept.closed and db.kept_connections == 0


def test_an_in_memory_database_keeps_nothing(tmp_path):
    from ivr.hotline.db import Database

    db = Database("sqlite://")
    with db.connection() as (conn, _):
        conn.execute(sa.text("select 1"))
    assert db.kept_connections == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_never_uses_the_parents_connection(tmp_path):
    app = make_app(tmp_path)
    db = app.extensions["ivr_db"]
    caller = Caller(app.test_client())
    caller.keys("2")
    parent = dbapi_ids(db)
    parents_own = db._kept[0].connection.dbapi_connection   # held, so no new object takes its address
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: its own connection, the call goes on
        try:
            os.close(read)
            ok = db.kept_connections == 0
            doc = caller.post("/voice/input", Digits="1")
            ok = ok and doc.gather is not None and db.kept_connections == 1 \
                and db._kept[0].connection.dbapi_connection is not parents_own
            os.write(write, (b"ok" if ok else repr((db.kept_connections, doc.gather is not None)).encode()))
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 200)
    os.waitpid(pid, 0)
    os.close(read)
    assert answer == b"ok"
    assert dbapi_ids(db) == parent   # the parent's own connection is untouched and still works
    assert caller.post("/voice/input", Digits="*").gather is not None


def test_a_kept_server_connection_the_server_dropped_costs_no_caller_an_apology(pg_schema_url, tmp_path, caplog):
    """On PostgreSQL the webhook's first statement stands in for the pool's pre-ping: a kept
    connection whose backend is gone is replaced and the webhook answered as usual."""
    app = make_app(tmp_path, DATABASE_URL=pg_schema_url)
    db = app.extensions["ivr_db"]
    caller = Caller(app.test_client())
    caller.keys("2")
    before = steps(db, caller.sid)
    assert db.kept_connections == 1
    with db.engine.connect() as admin:
        pid = db._kept[0].connection.dbapi_connection.info.backend_pid
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()
    doc = caller.post("/voice/input", Digits="1")
    assert doc.gather is not None and not doc.hangs_up
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert db.kept_connections == 1 and db._kept[0].connection.dbapi_connection.info.backend_pid != pid
    assert steps(db, caller.sid) == before + 1   # that webhook was answered and saved


def test_pool_recycle_bounds_a_kept_connections_age(tmp_path):
    app = make_app(tmp_path, DB_POOL_RECYCLE=0)
    Caller(app.test_client()).dial()
    assert app.extensions["ivr_db"].kept_connections == 0
