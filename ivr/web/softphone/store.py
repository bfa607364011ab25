"""The softphone's calls between requests: rows of ``phone_calls`` (``ivr.hotline.models.PhoneCall``,
created with every other table by ``Database.create_all``), each claimed by one request at a time.

A call's interpreter cannot stay in one server process's memory between requests that another
process may answer, so after every request the call is saved here (``ivr.phone.snapshot``: its
events and the TwiML verbs it waits at) and restored by whichever process gets the next one.
Each request claims the row first (a lock token with a time stamp, :meth:`CallStore.claim`), so
two requests for one call never run it at once (:class:`CallBusy`); a claim older than
``LOCK_STALE_SECONDS`` belongs to a request that died. Pure SQLAlchemy: no Flask, no phone.
"""
from __future__ import annotations

import secrets
import time

from sqlalchemy import delete, func, insert, literal, or_, select, text, update

from ivr.hotline.models import PhoneCall

LOCK_STALE_SECONDS = 120       # a claim older than this belongs to a request that died
ABANDON_SECONDS = 30 * 60      # a call untouched this long is hung up
KEEP_SECONDS = 60 * 60         # ended calls are forgotten after this long
REAP_BATCH = 5


class CallNotFound(Exception):
    pass


class CallBusy(Exception):
    pass


class TooManyCalls(Exception):
    pass


class CallStore:
    def __init__(self, db):
        self.db = db

    def get(self, call_id: str) -> PhoneCall:
        with self.db.Session() as s:
            row = s.get(PhoneCall, call_id)
        if row is None:
            raise CallNotFound(call_id)
        return row

    def claim(self, call_id: str) -> tuple[str, PhoneCall]:
        """(lock token, row) of a call no other request holds; CallBusy if one does."""
        token, now = secrets.token_hex(8), time.time()
        with self.db.Session() as s, s.begin():
            claimed = s.execute(
                update(PhoneCall)
                .where(PhoneCall.id == call_id,
                       or_(PhoneCall.lock.is_(None), PhoneCall.locked_at < now - LOCK_STALE_SECONDS))
                .values(lock=token, locked_at=now)).rowcount
            row = s.get(PhoneCall, call_id)
        if row is None:
            raise CallNotFound(call_id)
        if claimed != 1:
            raise CallBusy(call_id)
        return token, row

    def release(self, call_id: str, token: str, data: dict | None = None) -> None:
        """Let go of a claim, saving the call's ``data`` when given."""
        values: dict = {"lock": None, "locked_at": None}
        if data is not None:
            values.update(snapshot=data, ended=bool(data["ended"]), updated_at=time.time())
        with self.db.Session() as s, s.begin():
            s.execute(update(PhoneCall).where(PhoneCall.id == call_id, PhoneCall.lock == token).values(**values))

    def reserve(self, call_id: str, client: str | None, max_calls: int | None, now: float) -> bool:
        """INSERT the call's row, claimed ("dialling"), only while the client has fewer than
        ``max_calls`` live calls: one statement (atomic on SQLite); PostgreSQL first takes a lock
        per client for the transaction. False when the client is at its cap."""
        values = {"id": call_id, "call_sid": "", "snapshot": {"pending": True}, "ended": False,
                  "lock": "dialling", "locked_at": now, "dialled_at": now, "updated_at": now, "client": client}
        with self.db.engine.begin() as conn:
            if max_calls is None or client is None:
                conn.execute(insert(PhoneCall).values(**values))
                return True
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(client[:15], 16)})
            live = (select(func.count()).select_from(PhoneCall)
                    .where(PhoneCall.client == client, PhoneCall.ended.is_(False),
                           PhoneCall.updated_at > now - ABANDON_SECONDS).scalar_subquery())
            cols = list(values)
            row = select(*[literal(values[c], PhoneCall.__table__.c[c].type).label(c) for c in cols]).where(
                live < max_calls)
            # RETURNING, not rowcount: psycopg reports -1 for INSERT .. SELECT
            return conn.execute(insert(PhoneCall).from_select(cols, row).returning(PhoneCall.id)).first() is not None

    def dialled(self, call_id: str, data: dict) -> None:
        """The reserved call reached its first input point: save it and release its claim."""
        with self.db.engine.begin() as conn:
            conn.execute(update(PhoneCall).where(PhoneCall.id == call_id).values(
                call_sid=data["sid"], snapshot=data, ended=bool(data["ended"]), lock=None, locked_at=None,
                updated_at=time.time()))

    def delete(self, call_id: str) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(delete(PhoneCall).where(PhoneCall.id == call_id))

    def tidy(self, now: float | None = None) -> list[str]:
        """Forget calls ended more than KEEP_SECONDS ago; the ids (at most REAP_BATCH) of live calls
        nobody touched for ABANDON_SECONDS and nobody holds, to be hung up."""
        now = time.time() if now is None else now
        with self.db.Session() as s, s.begin():
            s.execute(delete(PhoneCall).where(PhoneCall.ended.is_(True), PhoneCall.updated_at < now - KEEP_SECONDS))
            return list(s.execute(select(PhoneCall.id).where(
                PhoneCall.ended.is_(False), PhoneCall.updated_at < now - ABANDON_SECONDS,
                or_(PhoneCall.lock.is_(None), PhoneCall.locked_at < now - LOCK_STALE_SECONDS))
                .limit(REAP_BATCH)).scalars().all())
