"""CallStore.save of a call the webhook loaded (``known``): a plain UPDATE that stores exactly what
the upsert stores, keeps what only an insert writes (start, caller, menu version), and puts the
row back when it has gone in between. SQLite and PostgreSQL, with and without the asynchronous
call-state commit."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.engine.state import CallState
from ivr.hotline.calls import CallStore
from ivr.hotline.models import Call

CALLER = "+8613800138000"
# what differs between two calls by design: their id and the clock
_OWN = {"call_sid", "started_at", "updated_at", "ended_at"}


def _row(db, sid) -> dict | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(Call.__table__).where(Call.call_sid == sid)).mappings().first()
    return dict(row) if row else None


def _states(sid: str) -> list[CallState]:
    first = CallState(call_sid=sid, language="en-US", menu="main", version="v1")
    later = CallState(call_sid=sid, language="zh-CN", menu="apply", stack=["main"], steps=3, visits=1,
                      path=["main", "apply"], keys=["2", "1"], stats={"main": {"success": 1}}, version="v1",
                      data={"login": {"ref": "r", "masked": "1101**********4573"}})
    ended = CallState(call_sid=sid, language="zh-CN", menu="apply", steps=4, awaiting="ended", outcome="completed",
                      version="v1")
    return [first, later, ended]


def _comparable(row: dict) -> dict:
    state = dict(row["state"], call_sid="")
    return {k: v for k, v in row.items() if k not in _OWN} | {"state": state}


@pytest.mark.parametrize("async_commit", [False, True])
def test_update_stores_what_the_upsert_stores(db, async_commit):
    store = CallStore(async_commit=async_commit)
    for n, state in enumerate(_states("CAupsert")):   # the upsert all along (known=False)
        with db.engine.begin() as conn:
            store.save(conn, state, caller=CALLER)
        upserted = _row(db, "CAupsert")
        twin = _states("CAknown")[n]
        with db.engine.begin() as conn:
            store.save(conn, twin, caller=CALLER, known=n > 0)   # inserted first, then updated
        known = _row(db, "CAknown")
        assert _comparable(known) == _comparable(upserted)
        assert known["state"]["menu"] == twin.menu and known["steps"] == twin.steps
    last = _row(db, "CAknown")
    assert last["caller"] == "+86138****8000" and last["menu_version"] == "v1"
    assert last["ended_at"] is not None and last["outcome"] == "completed"


def test_update_keeps_what_only_the_insert_writes(db):
    store = CallStore()
    first, later, _ = _states("CAkeep")
    with db.engine.begin() as conn:
        store.save(conn, first, caller=CALLER)
    before = _row(db, "CAkeep")
    later.version = "v2"   # a loaded call never changes version; if it did, the row's stays
    with db.engine.begin() as conn:
        store.save(conn, later, caller="+8613999999999", known=True)
    after = _row(db, "CAkeep")
    assert (after["started_at"], after["caller"], after["menu_version"]) == \
        (before["started_at"], before["caller"], before["menu_version"])
    assert after["menu"] == "apply" and after["steps"] == 3 and after["ended_at"] is None
    assert after["updated_at"] >= before["updated_at"]


def test_a_call_gone_between_load_and_save_is_stored_again(db):
    store = CallStore()
    _, later, _ = _states("CAgone")
    with db.engine.begin() as conn:   # no row: the UPDATE matches nothing, the upsert inserts
        store.save(conn, later, caller=CALLER, known=True)
    row = _row(db, "CAgone")
    assert row is not None and row["menu"] == "apply" and row["steps"] == 3
    assert row["caller"] == "+86138****8000" and row["started_at"] is not None
    with db.engine.connect() as conn:
        assert store.load(conn, "CAgone").path == ["main", "apply"]


def test_webhooks_save_loaded_calls_as_known(app, monkeypatch):
    """The incoming-call webhook inserts; every later webhook of the call updates its row."""
    hotline = app.extensions["ivr_hotline"]
    seen = []
    save = hotline.calls.save

    def spy(conn, state, caller=None, known=False, commit=False):
        seen.append((state.steps, known, commit))
        return save(conn, state, caller=caller, known=known, commit=commit)

    monkeypatch.setattr(hotline.calls, "save", spy)
    client = app.test_client()
    form = {"CallSid": "CAspyknown", "From": CALLER, "To": "+8612333"}
    assert client.post("/voice", data=form).status_code == 200
    for digits in ("2", "2", "*"):
        assert client.post("/voice/input", data={**form, "Digits": digits}).status_code == 200
    assert [known for _, known, _ in seen] == [False, True, True, True]
    assert all(commit for *_, commit in seen)   # each webhook's save commits at once (test_save_commit)
    with hotline.db.engine.connect() as conn:
        state = hotline.calls.load(conn, "CAspyknown")
    assert state.menu == "main" and state.keys == ["2", "2", "*"]
