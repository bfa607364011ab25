"""CallStore.save with ``commit``: the webhook's last write committed at once, and on SQLite the
write lock held only for the statement: the state is encoded before the lock is taken, and the
lock is free when the save returns (issue 17, round 8: two server processes waited for each
other's lock about one save in five while a save held it through its own encoding)."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from ivr.engine.state import CallState
from ivr.hotline.calls import CallStore
from ivr.hotline.models import Call


def _steps(db, sid) -> int | None:
    with db.engine.connect() as conn:
        return conn.execute(select(Call.steps).where(Call.call_sid == sid)).scalar_one_or_none()


def _other_writer_can_begin(db) -> bool:
    other = sqlite3.connect(db.engine.url.database, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.mark.parametrize("known", [False, True])
def test_committed_when_the_save_returns(db, known):
    store = CallStore()
    sid = f"CAcommit{int(known)}"
    with db.engine.connect() as conn:
        store.save(conn, CallState(call_sid=sid, language="en-US", menu="main", version="v1"), caller="+8613800138000")
        conn.commit()
        state = store.load(conn, sid)
        state.steps = 7
        store.save(conn, state, known=known, commit=True)
        assert not conn.in_transaction()
        assert _steps(db, sid) == 7   # seen from another connection: committed, not just written
        if db.engine.dialect.name == "sqlite":
            assert _other_writer_can_begin(db)   # the lock went with the commit
        conn.rollback()                           # nothing left to undo
    assert _steps(db, sid) == 7


def test_without_commit_the_caller_commits(db):
    store = CallStore()
    with db.engine.connect() as conn:
        store.save(conn, CallState(call_sid="CAlater", language="en-US", menu="main", version="v1"))
        assert _steps(db, "CAlater") is None   # written, not committed: another connection sees nothing
        conn.rollback()
    assert _steps(db, "CAlater") is None


def test_sqlite_state_encoded_before_the_write_lock(tmp_path):
    """A state that cannot be encoded fails the save before SQLite's lock is taken: no other
    process ever waited for this save's encoding."""
    from ivr.hotline.db import Database

    db = Database(f"sqlite:///{tmp_path / 'enc.sqlite3'}")
    db.create_all()
    store = CallStore()
    with db.engine.connect() as conn:
        store.save(conn, CallState(call_sid="CAenc", language="en-US", menu="main", version="v1"), commit=True)
        state = store.load(conn, "CAenc")
        state.data = {"unencodable": object()}
        with pytest.raises(TypeError):
            store.save(conn, state, known=True, commit=True)
        assert not conn.connection.dbapi_connection.in_transaction
        assert _other_writer_can_begin(db)
