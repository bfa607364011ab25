"""ivr.web.softphone.store: one request per call at a time, the cap on calls going at once, tidying."""
from __future__ import annotations

import time

import pytest

from ivr.hotline.db import Database
from ivr.web.softphone.store import (ABANDON_SECONDS, KEEP_SECONDS, LOCK_STALE_SECONDS, REAP_BATCH, CallBusy,
                                     CallNotFound, CallStore)


@pytest.fixture
def store(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'phone.sqlite3'}")
    db.create_all()   # phone_calls is one of the tables every database gets
    yield CallStore(db)
    db.dispose()


def saved(n_events=1, ended=None):
    return {"sid": "CA" + "1" * 32, "events": [{"verb": "Say"}] * n_events, "ended": ended}


def test_a_reserved_call_is_busy_until_dialled(store):
    now = time.time()
    assert store.reserve("c1", None, None, now)
    with pytest.raises(CallBusy):
        store.claim("c1")
    store.dialled("c1", saved())
    token, row = store.claim("c1")
    assert row.snapshot == saved() and row.call_sid == saved()["sid"]
    with pytest.raises(CallBusy):           # one request at a time
        store.claim("c1")
    store.release("c1", token, saved(2))
    token, row = store.claim("c1")
    assert len(row.snapshot["events"]) == 2
    store.release("c1", "not-the-token")    # only the holder releases
    with pytest.raises(CallBusy):
        store.claim("c1")


def test_a_stale_claim_is_taken_over(store):
    store.reserve("c1", None, None, time.time() - LOCK_STALE_SECONDS - 1)
    token, _ = store.claim("c1")            # the dialling request died
    assert token != "dialling"


def test_unknown_calls(store):
    with pytest.raises(CallNotFound):
        store.get("nope")
    with pytest.raises(CallNotFound):
        store.claim("nope")


def test_the_cap_counts_live_calls_per_client(store):
    now = time.time()
    assert store.reserve("a1", "client-a", 2, now) and store.reserve("a2", "client-a", 2, now)
    assert not store.reserve("a3", "client-a", 2, now)
    assert store.reserve("b1", "client-b", 2, now)          # another client
    store.dialled("a1", saved(ended={"status": "completed", "by": "caller"}))
    assert store.reserve("a3", "client-a", 2, now)           # an ended call does not count
    store.delete("a2")
    assert store.reserve("a4", "client-a", 2, now + ABANDON_SECONDS + 1)   # nor an abandoned one


def test_tidy_forgets_ended_calls_and_names_abandoned_ones(store):
    old = time.time() - max(ABANDON_SECONDS, KEEP_SECONDS) - 60
    for n in range(REAP_BATCH + 2):
        store.reserve(f"idle{n}", None, None, old)
        store.dialled(f"idle{n}", saved())
    store.reserve("done", None, None, old)
    store.dialled("done", saved(ended={"status": "completed", "by": "caller"}))
    stale = store.tidy(now=time.time() + max(ABANDON_SECONDS, KEEP_SECONDS) + 120)
    assert len(stale) == REAP_BATCH and all(s.startswith("idle") for s in stale)
    with pytest.raises(CallNotFound):
        store.get("done")
