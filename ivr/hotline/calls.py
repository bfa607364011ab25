"""Loading and saving call state by CallSid: one read and one write per webhook (an UPDATE of the
call it loaded; an upsert for a new call).

The hot path (``load`` and ``save`` on SQLite and PostgreSQL) runs statements compiled once per
dialect (``ivr.accounts.sql``) straight on the DB-API cursor of the caller's connection, inside the
caller's transaction: building the ``insert .. on_conflict_do_update`` with ORM coercion on every
webhook cost more than the rest of the webhook together (docs/benchmarks.md). Values go through the
column types' own bind processors, so what is stored is exactly what SQLAlchemy would store; other
databases keep the ORM read-then-write.
"""
from __future__ import annotations

import dataclasses
import functools
import datetime as dt
import re

from sqlalchemy import bindparam, func, literal_column, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ivr.accounts.idnumber import BEIJING
from ivr.accounts.sql import Prepared
from ivr.accounts.sqlite_lock import QUICK_LOCK, begin_sqlite_write
from ivr.hotline.db import CHECKPOINT_EVERY, checkpoint_sqlite
from ivr.engine.state import CallState
from ivr.hotline.models import Call, Voicemail, utcnow

CALL_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_STATE_FIELDS = tuple(f.name for f in dataclasses.fields(CallState))
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
# Columns written by every save (the update on conflict); an insert adds started_at, caller and
# menu_version (a call keeps the version it started on),
# and a save of an ended call adds ended_at.
_UPDATED = ("call_sid", "state", "menu", "language", "outcome", "steps", "updated_at")
_INSERTED = _UPDATED + ("started_at", "caller", "ended_at", "menu_version")


def valid_sid(sid: str | None) -> bool:
    return bool(sid) and bool(CALL_SID.match(sid))


@functools.lru_cache(maxsize=4096)   # every save binds it: one caller, many webhooks
def mask_phone(number: str | None) -> str:
    """Keep the country code and the last 4 digits: +8613812345678 -> +86138****5678."""
    if not number:
        return ""
    number = "".join(c for c in number.strip()[:32] if c.isprintable())
    digits = sum(c.isdigit() for c in number)
    if digits < 7:
        return "*" * len(number)
    keep_head = 6 if number.startswith("+") else 3
    return number[:keep_head] + "*" * max(len(number) - keep_head - 4, 0) + number[-4:]


def state_values(state: CallState) -> dict:
    """The call state as stored: the same mapping as ``state.to_dict()`` without its deep copy
    (the values are only serialized)."""
    return {name: getattr(state, name) for name in _STATE_FIELDS}


class _Statements:
    """The hot path's statements for one dialect."""

    def __init__(self, dialect, async_commit: bool = False):
        table = Call.__table__
        # SQLite: the save takes the write lock itself, in short pauses (sqlite_lock.begin_sqlite_write),
        # and the committed saves checkpoint the WAL now and then (db.checkpoint_sqlite).
        self.begin_write = begin_sqlite_write if dialect.name == "sqlite" else None
        self.saves = 0
        self.load = Prepared(select(table.c.state).where(table.c.call_sid == bindparam("sid")), dialect)
        insert = _INSERTS[dialect.name](table)
        upsert, upsert_ended = self._upsert(insert, _UPDATED), self._upsert(insert, _UPDATED + ("ended_at",))
        if async_commit and dialect.name == "postgresql":
            # The save's own transaction (the webhook's connection is in autocommit) commits without
            # waiting for its WAL flush: set_config(.., true) lasts until that commit. Nothing else
            # changes: account writes stay synchronous (CallStore's docstring).
            flag = func.set_config(literal_column("'synchronous_commit'"), literal_column("'off'"), true())
            upsert, upsert_ended = upsert.returning(flag), upsert_ended.returning(flag)
        self.upsert = Prepared(upsert, dialect, list(_INSERTED))
        self.upsert_ended = Prepared(upsert_ended, dialect, list(_INSERTED))
        c = table.c
        # A call loaded by this webhook is saved with a plain UPDATE: five fewer values to bind
        # than the upsert, no insert attempted first. No row updated (the call was deleted in
        # between) falls back to the upsert.
        changed = {name: bindparam(name, type_=c[name].type) for name in _UPDATED if name != "call_sid"}
        known = update(table).where(c.call_sid == bindparam("sid"))
        known, known_ended = known.values(**changed), known.values(**changed, ended_at=bindparam("ended_at",
                                                                                     type_=c.ended_at.type))
        if async_commit and dialect.name == "postgresql":
            known, known_ended = known.returning(flag), known_ended.returning(flag)
        self.update, self.update_ended = Prepared(known, dialect), Prepared(known_ended, dialect)
        self.complete = Prepared(
            update(table).where(c.call_sid == bindparam("sid")).values(
                ended_at=bindparam("ended", type_=c.ended_at.type),
                duration=bindparam("duration", type_=c.duration.type),
                outcome=func.coalesce(c.outcome, bindparam("new_outcome", type_=c.outcome.type))), dialect)

    @staticmethod
    def _upsert(insert, columns):
        return insert.on_conflict_do_update(index_elements=[Call.__table__.c.call_sid],
                                            set_={c: insert.excluded[c] for c in columns if c != "call_sid"})


def _connection(session) -> Connection:
    if isinstance(session, Connection):
        return session
    if session.new or session.dirty or session.deleted:
        session.flush()   # what autoflush did before an ORM execute: pending objects go first
    return session.connection()


class CallStore:
    """``load`` and ``save`` take the webhook's Session (or a Core Connection) and work inside its
    transaction; the caller commits.

    ``async_commit`` (``IVR_CALL_STATE_ASYNC_COMMIT``, PostgreSQL only): a save's commit does not
    wait for PostgreSQL to flush its WAL to disk (``synchronous_commit = off`` for that transaction
    alone). What it risks is what SQLite's ``synchronous=NORMAL`` in WAL mode risks too: a crash of
    the database server or the machine (not of a hotline process: kill -9 of a worker loses
    nothing) may forget the last moments of saves, so a call then continues from a slightly older
    menu or starts over. It cannot corrupt anything, and account writes (login counters, locks,
    password changes, loss reports) stay synchronous. Issue 17: a navigation webhook on PostgreSQL
    spent most of its time waiting for that flush. A save inside a longer transaction would make
    the whole transaction asynchronous: the webhook's connection runs in autocommit, so there the
    save is its own transaction."""

    def __init__(self, async_commit: bool = False):
        self.async_commit = async_commit
        self._statements: dict = {}   # dialect -> _Statements

    def _sql(self, conn: Connection) -> _Statements | None:
        dialect = conn.dialect
        sql = self._statements.get(dialect)
        if sql is None and dialect.name in _INSERTS:
            sql = self._statements[dialect] = _Statements(dialect, self.async_commit)
        return sql

    def load(self, session: Session | Connection, sid: str) -> CallState | None:
        conn = _connection(session)
        sql = self._sql(conn)
        if sql is None:
            row = conn.execute(select(Call.state).where(Call.call_sid == sid)).scalar_one_or_none()
        else:
            row = sql.load.value(conn, {"sid": sid})
        return CallState.from_dict(row) if row else None

    def save(self, session: Session | Connection, state: CallState, caller: str | None = None,
             known: bool = False, commit: bool = False) -> None:
        """Store ``state``; ``known``: it was loaded from its row by this transaction's caller (the
        row is updated; inserted again if it has gone). ``commit``: the save is the transaction's
        last write; commit it at once.

        On SQLite the statement's parameters (the state's JSON among them) are made before the
        write lock is taken, and with ``commit`` the lock is let go right after the statement:
        two server processes wait for each other's lock less the shorter it is held (a save held
        it ~90 us, ~140 us with two processes, and about one save in five had to wait;
        docs/hotpath.md, round 8). Every ``CHECKPOINT_EVERY``-th committed save on a Connection
        (the webhooks') then checkpoints the WAL without waiting (``db.checkpoint_sqlite``)."""
        now = utcnow()
        ended = state.awaiting == "ended"
        conn = _connection(session)
        sql = self._sql(conn)
        if sql is None:   # other databases: read-then-write is fine for one call's serial webhooks
            self._save_orm(session, conn, state, caller, now, ended)
        else:
            # One mapping for both statements: each binds the names it has (the UPDATE's key is "sid").
            values = {"sid": state.call_sid, "call_sid": state.call_sid, "state": state_values(state),
                      "menu": state.menu, "language": state.language, "outcome": state.outcome,
                      "steps": state.steps, "updated_at": now, "ended_at": now if ended else None}
            update_stmt = (sql.update_ended if ended else sql.update) if known else None
            params = update_stmt.params(values) if update_stmt is not None else None
            if sql.begin_write is not None:
                dbapi = conn.connection.dbapi_connection
                if not dbapi.in_transaction:   # else this transaction wrote already: it holds the lock
                    sql.begin_write(dbapi, quick=conn.info.get(QUICK_LOCK, False))
            if update_stmt is None or update_stmt.run(conn, values, params).rowcount != 1:
                values.update(started_at=now, caller=mask_phone(caller), menu_version=state.version)
                (sql.upsert_ended if ended else sql.upsert).run(conn, values)
        if commit:
            if conn.in_transaction() or isinstance(session, Session):
                session.commit()
            else:   # statements run on the cursor begin no SQLAlchemy transaction to commit
                conn.connection.dbapi_connection.commit()
            # The webhooks' saves (on a Connection; a Session's goes back to the pool at commit).
            if sql is not None and sql.begin_write is not None and session is conn:
                sql.saves += 1
                if sql.saves % CHECKPOINT_EVERY == 0:   # committed: no lock held, none waited for
                    checkpoint_sqlite(conn.connection.dbapi_connection, quick=conn.info.get(QUICK_LOCK, False))

    @staticmethod
    def _save_orm(session, conn, state: CallState, caller: str | None, now, ended: bool) -> None:
        values = {
            "call_sid": state.call_sid, "state": state.to_dict(), "menu": state.menu,
            "language": state.language, "outcome": state.outcome, "steps": state.steps,
            "updated_at": now,
        }
        if ended:
            values["ended_at"] = now
        if isinstance(session, Session) and session.get(Call, state.call_sid):
            session.execute(update(Call).where(Call.call_sid == state.call_sid).values(**values))
        elif isinstance(session, Session):
            session.add(Call(**values, started_at=now, caller=mask_phone(caller), menu_version=state.version))
        elif conn.execute(select(Call.call_sid).where(Call.call_sid == state.call_sid)).first():
            conn.execute(update(Call).where(Call.call_sid == state.call_sid).values(**values))
        else:
            conn.execute(Call.__table__.insert().values(**values, started_at=now, caller=mask_phone(caller),
                                                        menu_version=state.version))

    def complete(self, session: Session | Connection, sid: str, duration: int | None, status: str | None) -> bool:
        """Twilio's status callback: the call is over; keep its duration. A call the hotline did
        not end (no outcome yet) was abandoned by the caller, or ended with Twilio's status."""
        now = utcnow()
        # Caller hung up before the hotline ended the call.
        outcome = "abandoned" if status in (None, "completed") else status
        conn = _connection(session)
        sql = self._sql(conn)
        if sql is None:
            call = conn.execute(select(Call.outcome).where(Call.call_sid == sid)).first()
            if call is None:
                return False
            values: dict = {"ended_at": now, "duration": duration}
            if call.outcome is None:
                values["outcome"] = outcome
            conn.execute(update(Call).where(Call.call_sid == sid).values(**values))
            return True
        # One statement: a call we do not know matches no row, so nothing is written for it.
        return sql.complete.run(conn, {"sid": sid, "ended": now, "duration": duration,
                                       "new_outcome": outcome}).rowcount == 1

    def record_error(self, session: Session, sid: str, code: str) -> None:
        session.execute(update(Call).where(Call.call_sid == sid).values(error_code=code[:16], outcome="error"))

    def add_voicemail(self, session: Session, sid: str, url: str, duration: int) -> None:
        session.add(Voicemail(call_sid=sid, recording_url=url[:2000], duration=duration))


def parse_now(value: str | dt.datetime | None) -> dt.datetime:
    """``IVR_NOW`` (an ISO date-time standing in for the clock) or the real time. Without an offset
    it is Beijing time, the hotline's own, as the account service reads it too."""
    if value:
        now = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return now if now.tzinfo else now.replace(tzinfo=BEIJING)
    return dt.datetime.now(dt.timezone.utc)
