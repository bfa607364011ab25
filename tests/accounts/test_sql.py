"""ivr.accounts.sql: a prepared statement stores and reads exactly what SQLAlchemy would, on SQLite
and PostgreSQL, and leaves to SQLAlchemy what it cannot prepare."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import MultipleResultsFound, NoResultFound

from ivr.accounts import sql
from ivr.accounts.models import Account, CallerFailure
from ivr.accounts.service import _LOGIN_OK, _SPENDING, _login_statements
from ivr.accounts.seed import seed_demo

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)
_WINDOW = select(CallerFailure.failures, CallerFailure.window_start).where(
    CallerFailure.caller_hash == bindparam("h"))
_IN = select(Account.id).where(Account.id.in_(bindparam("ids", expanding=True)))


def _reserve(conn, how, caller_hash: str, now: dt.datetime):
    params = {"reserve_hash": caller_hash, "now": now, "cutoff": now - dt.timedelta(hours=1), "max_failures": 3}
    stmt = _login_statements(conn.dialect).reserve_caller
    return how(conn, stmt, params).first()


def _sqlalchemy(conn, stmt, params):
    return conn.execute(stmt, params)


@pytest.mark.parametrize("how", [sql.execute, _sqlalchemy], ids=["prepared", "sqlalchemy"])
def test_upsert_returning_and_timestamps_match_sqlalchemy(database, how):
    with database.engine.begin() as conn:
        first = _reserve(conn, how, "h1", NOW)
        again = _reserve(conn, how, "h1", NOW + dt.timedelta(minutes=1))
    # RETURNING comes back as a named row with the stored window start, an aware UTC datetime
    assert first.window_start == NOW and first.window_start.tzinfo is not None
    assert again.window_start == NOW   # within the window: the same window
    with database.engine.connect() as conn:
        row = conn.execute(_WINDOW, {"h": "h1"}).one()   # read back through SQLAlchemy
        prepared = sql.execute(conn, _WINDOW, {"h": "h1"}).one()
    assert tuple(row) == tuple(prepared) == (2, NOW)
    assert prepared.failures == 2 and prepared.window_start == NOW


def test_stored_values_are_those_sqlalchemy_stores(database):
    """One row written each way: the raw column text is the same (the bind processors ran)."""
    with database.engine.begin() as conn:
        sql.execute(conn, _login_statements(conn.dialect).reserve_caller,
                    {"reserve_hash": "a", "now": NOW, "cutoff": NOW, "max_failures": 3})
        conn.execute(_login_statements(conn.dialect).reserve_caller,
                     {"reserve_hash": "b", "now": NOW, "cutoff": NOW, "max_failures": 3})
    with database.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT caller_hash, window_start, failures FROM caller_password_failures "
                                   "ORDER BY caller_hash").all()
    assert [r[1:] for r in raw] == [raw[1][1:]] * 2


def test_update_rowcount_and_statement_defaults(database):
    seed_demo(database.Session, hash_method="pbkdf2:sha256:1")
    with database.engine.connect() as conn:
        acct = conn.execute(select(Account.id, Account.password_hash).limit(1)).one()
    params = {"account_id": acct.id, "old_hash": acct.password_hash, "now": NOW}
    with database.engine.begin() as conn:
        assert sql.execute(conn, _LOGIN_OK, params).rowcount == 1
        assert sql.execute(conn, _LOGIN_OK, {**params, "old_hash": "changed"}).rowcount == 0
    # _SPENDING's LIMIT is a parameter; SQLite adds an OFFSET the statement fills itself
    with database.engine.connect() as conn:
        mine = sql.execute(conn, _SPENDING, {"account_id": acct.id, "limit": 2}).all()
        theirs = conn.execute(_SPENDING, {"account_id": acct.id, "limit": 2}).all()
    assert [tuple(r) for r in mine] == [tuple(r) for r in theirs] and len(mine) == 2


def test_result_methods_mean_what_sqlalchemys_mean(database):
    seed_demo(database.Session, hash_method="pbkdf2:sha256:1")
    every = select(Account.id)
    nobody = select(Account.id).where(Account.id == bindparam("n"))
    with database.engine.connect() as conn:
        assert sql.execute(conn, nobody, {"n": -1}).first() is None
        assert sql.execute(conn, nobody, {"n": -1}).scalar_one_or_none() is None
        with pytest.raises(NoResultFound):
            sql.execute(conn, nobody, {"n": -1}).scalar_one()
        with pytest.raises(MultipleResultsFound):
            sql.execute(conn, every).one()
        with pytest.raises(MultipleResultsFound):
            sql.execute(conn, every).scalar_one_or_none()


def test_expanding_parameters_go_through_sqlalchemy(database):
    seed_demo(database.Session, hash_method="pbkdf2:sha256:1")
    assert sql.Prepared.get(_IN, database.engine.dialect) is None
    with database.engine.connect() as conn:
        ids = [r.id for r in conn.execute(select(Account.id)).all()][:2]
        assert sorted(r.id for r in sql.execute(conn, _IN, {"ids": ids}).all()) == sorted(ids)


def test_writes_stay_in_the_callers_transaction(database):
    seed_demo(database.Session, hash_method="pbkdf2:sha256:1")
    stmt = update(Account).where(Account.id == bindparam("aid")).values(failed_attempts=bindparam("n"))
    with database.engine.connect() as conn:
        aid = conn.execute(select(Account.id).limit(1)).scalar_one()
        conn.commit()
        conn.begin()
        sql.execute(conn, stmt, {"aid": aid, "n": 2})
        conn.rollback()   # the caller's rollback undoes the prepared write
        assert conn.execute(select(Account.failed_attempts).where(Account.id == aid)).scalar_one() == 0


def test_value_is_what_sqlalchemy_reads_first(database):
    """``Prepared.value``: the first column of the first row through its result processor (a JSON
    column decoded, a timestamp made aware), None for no row, as ``.first()[0]`` gives."""
    from ivr.hotline.models import Call

    state = {"menu": "main", "keys": ["2", "*"], "data": {"login": {"masked": "1101**********4573"}}}
    database.create_all()   # the calls table too
    with database.engine.begin() as conn:
        conn.execute(Call.__table__.insert().values(call_sid="CAvalue", state=state, menu="main", language="zh-CN",
                                                    caller="", steps=1, started_at=NOW, updated_at=NOW))
    dialect = database.engine.dialect
    by_sid = {"sid": "CAvalue"}
    with database.engine.connect() as conn:
        for column in (Call.state, Call.updated_at, Call.steps):
            stmt = select(column).where(Call.call_sid == bindparam("sid"))
            assert sql.Prepared(stmt, dialect).value(conn, by_sid) == conn.execute(stmt, by_sid).first()[0]
        assert sql.Prepared(select(Call.state).where(Call.call_sid == bindparam("sid")), dialect).value(
            conn, {"sid": "CAnobody"}) is None
    with database.engine.connect() as conn:
        assert sql.Prepared(select(Call.state).where(Call.call_sid == bindparam("sid")), dialect).value(
            conn, by_sid) == state
