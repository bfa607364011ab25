"""JSON columns go through orjson (issue 17): what is stored reads back as the standard library
would have stored and read it, on the engine every Database makes."""
from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from ivr.hotline.db import Database, json_dumps
from ivr.hotline.models import Call

values = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(),
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(values)
def test_orjson_writes_what_json_reads_back_alike(value):
    assert json.loads(json_dumps(value)) == json.loads(json.dumps(value))


def test_non_string_keys_become_strings_as_with_json():
    assert json.loads(json_dumps({1: "a", 2.5: "b"})) == json.loads(json.dumps({1: "a", 2.5: "b"}))


def test_a_call_state_round_trips_through_the_database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'j.sqlite3'}")
    db.create_all()
    state = {"call_sid": "CA1", "path": ["main", "account"], "data": {"masked_id": "1101**********4573",
                                                                   "名字": "张三", "n": 3}}
    with db.Session() as s, s.begin():
        s.add(Call(call_sid="CA1", state=state, menu="main", steps=1))
    with db.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT state FROM calls WHERE call_sid = 'CA1'").scalar_one()
    assert json.loads(raw) == state and "张三" in raw   # orjson writes UTF-8, not \\u escapes
    with db.Session() as s:
        assert s.get(Call, "CA1").state == state
