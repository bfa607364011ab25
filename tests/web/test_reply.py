"""ivr.web.reply: the one seam every /voice answer goes through (rendering, the apology, safe
error lines)."""
from __future__ import annotations

import tomllib

import pytest

from ivr.web import reply
from tests.conftest import ROOT
from tests.twiml import parse

EN = tomllib.loads((ROOT / "prompts/en-US.toml").read_text("utf-8"))
ZH = tomllib.loads((ROOT / "prompts/zh-CN.toml").read_text("utf-8"))


@pytest.mark.parametrize("language,heard", [
    ("zh-CN", ZH["app_error"]),
    ("en-US", EN["app_error"]),
    ("fr-FR", ZH["app_error"]),                           # not a hotline language: the default
    (None, ZH["app_error"] + " " + EN["app_error"]),      # unknown: every language, default first
])
def test_the_apology_in_each_language(app, language, heard):
    with app.test_request_context("/voice/input", method="POST"):
        doc = parse(reply.apology(language))
    assert doc.heard == heard and doc.hangs_up and doc.gather is None
    assert doc.root.find(".//Play") is None               # <Say>: no audio file to miss


def test_the_last_resort_never_fails(app, monkeypatch):
    with app.test_request_context("/voice", method="POST"):
        assert parse(reply.last_resort_apology()).heard == ZH["app_error"] + " " + EN["app_error"]

        def broken(*a, **k):
            raise RuntimeError("no prompts")

        monkeypatch.setattr(app.extensions["ivr_hotline"].engine, "apology", broken)
        with pytest.raises(RuntimeError):
            reply.apology("en-US")
        assert reply.last_resort_apology().get_data(as_text=True) == reply.LAST_RESORT_TWIML


def test_urls_are_absolute_under_a_public_url(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, PUBLIC_URL="https://ivr.example.test")
    with app.test_request_context("/voice", method="POST"):
        engine = app.extensions["ivr_hotline"].engine
        state = engine.new_call("CA" + "0" * 32)
        doc = parse(reply.twiml(reply.renderer().render(engine.start(state, None))))
    assert doc.gather.get("action") == "https://ivr.example.test/voice/input"


def test_error_lines_are_one_safe_line():
    exc = ValueError("bad thing\nSELECT * FROM accounts WHERE id_number = '110101199003074573'")
    assert reply.describe_error(exc) == "ValueError: bad thing"
    assert reply.printable("a\nb\x00c", 100) == "a\\nb\\x00c"
    assert reply.printable("x" * 50, 10) == "x" * 10
