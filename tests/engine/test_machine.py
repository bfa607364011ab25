"""ivr.engine.machine: Engine.run dispatches on the action's kind through one table."""
import datetime as dt

import pytest

from ivr.engine import Engine
from ivr.engine.machine import CallEnv
from ivr.engine.model import ACTION_KINDS, Action
from ivr.engine.prompts import Catalogue
from ivr.hotline.menus import load_menus
from tests.conftest import ROOT

CATALOGUE = Catalogue.load(ROOT / "prompts")
MODEL = load_menus(ROOT / "menus.toml", CATALOGUE)[0]
ENV = CallEnv(now=dt.datetime(2026, 11, 25, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))))


def engine() -> Engine:
    return Engine(MODEL, CATALOGUE)


def call(eng: Engine):
    state = eng.new_call("CA" + "0" * 32, at_top=True)
    eng.start(state, ENV)
    return state


def test_every_kind_the_menu_file_may_name_has_a_method():
    assert set(Engine.ACTIONS) == set(ACTION_KINDS)
    for method in Engine.ACTIONS.values():
        assert callable(getattr(Engine, method))


def test_an_unknown_kind_is_refused():
    eng = engine()
    with pytest.raises(ValueError, match="unknown action 'teleport'"):
        eng.run(call(eng), Action("teleport"), ENV)


@pytest.mark.parametrize("action,menu,stack,end", [
    (Action("submenu", menu="law"), "law", ["main"], "Gather"),
    (Action("back"), "main", [], "Gather"),
    (Action("top"), "main", [], "Gather"),
    (Action("repeat"), "main", [], "Gather"),
    (Action("play", prompt="goodbye"), "main", [], "Gather"),
    (Action("language", lang="en-US", then="main"), "main", [], "Gather"),
    (Action("hangup"), "main", [], "Hangup"),
    (Action("record"), "main", [], "Record"),
])
def test_each_kind_moves_the_call_as_before(action, menu, stack, end):
    eng = engine()
    state = call(eng)
    prefix = [eng.say("goodbye", "zh-CN")]
    reply = eng.run(state, action, ENV, prefix)
    assert state.menu == menu and state.stack == stack and type(reply.end).__name__ == end
    assert reply.speech[0] == prefix[0] and len(prefix) == 1   # the caller's prefix is copied, not changed
    if action.kind == "language":
        assert state.language == "en-US"
    if action.kind == "hangup":
        assert state.awaiting == "ended" and reply.outcome == "menu"
