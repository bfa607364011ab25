"""CallStore.complete, Twilio's status callback on the call record, in one statement (issue 17):
a call it knows gets its end and duration (and "abandoned" unless the hotline ended it); a call it
does not know gets nothing; a repeat changes nothing but the end time. SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from ivr.engine.state import CallState
from ivr.hotline.calls import CallStore
from ivr.hotline.models import Call


def _row(db, sid):
    with db.engine.connect() as conn:
        return conn.execute(select(Call.outcome, Call.duration, Call.ended_at).where(Call.call_sid == sid)).first()


def test_complete_knows_its_calls(db):
    store = CallStore()
    with db.engine.begin() as conn:
        store.save(conn, CallState(call_sid="CAopen", language="en-US", menu="main"), caller="+8613800138000")
        ended = CallState(call_sid="CAdone", language="en-US", menu="main", outcome="completed", awaiting="ended")
        store.save(conn, ended, caller="+8613800138000")
    with db.engine.begin() as conn:
        assert store.complete(conn, "CAopen", 80, "completed") is True
        assert store.complete(conn, "CAdone", 95, "completed") is True
        assert store.complete(conn, "CAnobody", 10, "completed") is False
    open_, done = _row(db, "CAopen"), _row(db, "CAdone")
    assert (open_.outcome, open_.duration) == ("abandoned", 80) and open_.ended_at is not None
    assert (done.outcome, done.duration) == ("completed", 95)
    assert _row(db, "CAnobody") is None
    with db.engine.begin() as conn:   # Twilio retries: the outcome stays
        assert store.complete(conn, "CAopen", 80, "busy") is True
    assert _row(db, "CAopen").outcome == "abandoned"
