"""IVR_CALL_STATE_ASYNC_COMMIT (issue 17): on PostgreSQL a call-state save commits without waiting
for the WAL flush, that save's transaction alone; everything else on the connection stays
synchronous. Whole calls over the webhooks keep working either way (tests/hotline/test_call_flow.py
runs on PostgreSQL with the default)."""
from __future__ import annotations

import pytest

from ivr.engine.state import CallState
from ivr.hotline.calls import CallStore
from ivr.hotline.db import Database
from tests.conftest import make_app
from tests.twiml import Caller


@pytest.fixture
def pg(pg_schema_url):
    db = Database(pg_schema_url)
    db.create_all()
    yield db
    db.dispose()


def _save_and_read_setting(db, store: CallStore) -> tuple[str, str]:
    """(synchronous_commit as the save's own transaction saw it, as the connection has it after)."""
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")   # as the webhook's connection
        store.save(conn, CallState(call_sid="CAasync", menu="main", language="en-US"))
        after = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
        sql = store._sql(conn).upsert.sql
    return sql, after


def test_the_save_alone_commits_asynchronously(pg):
    sql, after = _save_and_read_setting(pg, CallStore(async_commit=True))
    assert "set_config" in sql and "synchronous_commit" in sql
    assert after == "on"   # the next statement on the connection (an account write) waits as before
    with pg.engine.connect() as conn:
        assert CallStore().load(conn, "CAasync").menu == "main"


def test_switched_off_the_save_waits_for_the_flush(pg):
    sql, after = _save_and_read_setting(pg, CallStore(async_commit=False))
    assert "set_config" not in sql and after == "on"


def test_sqlite_is_untouched(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    db.create_all()
    store = CallStore(async_commit=True)
    with db.engine.connect() as conn:
        store.save(conn, CallState(call_sid="CAlite", menu="main", language="en-US"))
        conn.commit()
        assert "set_config" not in store._sql(conn).upsert.sql


@pytest.mark.parametrize("setting", [True, False])
def test_a_call_on_postgresql_with_either_setting(tmp_path, pg_schema_url, setting):
    app = make_app(tmp_path, DATABASE_URL=pg_schema_url, CALL_STATE_ASYNC_COMMIT=setting)
    assert app.extensions["ivr_hotline"].calls.async_commit is setting
    caller = Caller(app.test_client())
    caller.dial()
    caller.press("2")
    doc = caller.press("2")
    assert doc.gather is not None
    with app.extensions["ivr_db"].Session() as s:
        from ivr.hotline.models import Call

        assert s.get(Call, caller.sid).steps == 3
