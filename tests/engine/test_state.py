"""CallState.from_dict: the stored form as this version saves it, and older or newer ones."""
import dataclasses

from ivr.engine.state import CallState


def test_a_saved_state_comes_back_equal():
    state = CallState("CA1", "en-US", "main", stack=["top"], steps=4, data={"account_id": 7}, version="v1")
    state.log_keys("2")
    saved = state.to_dict()
    back = CallState.from_dict(saved)
    assert back == state and back.to_dict() == saved
    back.steps += 1
    assert saved["steps"] == 4   # the loaded state is its own object


def test_an_older_or_newer_stored_form_still_loads():
    saved = CallState("CA2", "zh-CN", "apply").to_dict()
    older = {k: v for k, v in saved.items() if k not in ("heard", "confirm", "version")}
    newer = {**saved, "added_later": 1}
    for stored in (older, newer):
        back = CallState.from_dict(stored)
        assert [f.name for f in dataclasses.fields(back)] == list(back.__dict__)
        assert (back.call_sid, back.menu, back.heard, back.confirm, back.version) == (stored["call_sid"], "apply",
                                                                                     [], None, "")
        assert not hasattr(back, "added_later")
