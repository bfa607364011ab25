"""Loading and saving call state by CallSid: one read and one upsert per webhook."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.engine.state import CallState
from ivr.models import Call, Voicemail, utcnow

CALL_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def valid_sid(sid: str | None) -> bool:
    return bool(sid) and bool(CALL_SID.match(sid))


def mask_phone(number: str | None) -> str:
    """Keep the country code and the last 4 digits: +8613812345678 -> +86138****5678."""
    if not number:
        return ""
    number = number.strip()[:32]
    digits = sum(c.isdigit() for c in number)
    if digits < 7:
        return "*" * len(number)
    keep_head = 6 if number.startswith("+") else 3
    return number[:keep_head] + "*" * max(len(number) - keep_head - 4, 0) + number[-4:]


class CallStore:
    def load(self, session: Session, sid: str) -> CallState | None:
        row = session.execute(select(Call.state).where(Call.call_sid == sid)).scalar_one_or_none()
        return CallState.from_dict(row) if row else None

    def save(self, session: Session, state: CallState, caller: str | None = None) -> None:
        now = utcnow()
        values = {
            "call_sid": state.call_sid, "state": state.to_dict(), "menu": state.menu,
            "language": state.language, "outcome": state.outcome, "steps": state.steps,
            "updated_at": now,
        }
        if state.awaiting == "ended":
            values["ended_at"] = now
        insert_values = dict(values, started_at=now, caller=mask_phone(caller))
        dialect = session.get_bind().dialect.name
        ins = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
        if ins is None:   # other databases: read-then-write is fine for one call's serial webhooks
            if session.get(Call, state.call_sid):
                session.execute(update(Call).where(Call.call_sid == state.call_sid).values(**values))
            else:
                session.add(Call(**insert_values))
            return
        stmt = ins(Call).values(**insert_values)
        stmt = stmt.on_conflict_do_update(index_elements=[Call.call_sid], set_=values)
        session.execute(stmt)

    def complete(self, session: Session, sid: str, duration: int | None, status: str | None) -> bool:
        """Twilio's status callback: the call is over; keep its duration."""
        values: dict = {"ended_at": utcnow(), "duration": duration}
        call = session.get(Call, sid)
        if call is None:
            return False
        if call.outcome is None:
            # Caller hung up before the hotline ended the call.
            values["outcome"] = "abandoned" if status in (None, "completed") else status
        session.execute(update(Call).where(Call.call_sid == sid).values(**values))
        return True

    def record_error(self, session: Session, sid: str, code: str) -> None:
        session.execute(update(Call).where(Call.call_sid == sid).values(error_code=code[:16], outcome="error"))

    def add_voicemail(self, session: Session, sid: str, url: str, duration: int) -> None:
        session.add(Voicemail(call_sid=sid, recording_url=url[:2000], duration=duration))


def parse_now(value: str | None) -> dt.datetime:
    if value:
        now = dt.datetime.fromisoformat(value)
        return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)
