"""The per-webhook log line written straight by the hotline's own handler (ivr.logs.log_webhook,
issue 17 round 5): the same text logging would write, and logging's own way whenever anything else
listens (a handler on the root logger such as pytest's caplog, a filter, another handler)."""
import io
import json
import logging
import time
from contextlib import contextmanager

import pytest

from ivr import logs
from tests.conftest import make_app
from tests.twiml import Caller

FIELDS = {"call": "CA" + "1" * 32, "route": "/voice/input", "menu": "主菜单", "outcome": "menu", "ms": 0.4}


@contextmanager
def nothing_on_root():
    """No handler on the root logger, as under ``ivr serve`` (pytest puts its capture handlers
    there for each test phase, and takes them off itself)."""
    saved = logging.root.handlers[:]
    logging.root.handlers.clear()
    try:
        yield
    finally:
        logging.root.handlers[:] = saved


@pytest.fixture
def handler(monkeypatch):
    """The ivr logger as ``ivr serve`` leaves it: its own stream handler only (with
    ``nothing_on_root`` in the test)."""
    logger = logging.getLogger(logs.LOGGER)
    stream = io.StringIO()
    own = logging.StreamHandler(stream)
    own._ivr = True
    monkeypatch.setattr(logger, "handlers", [own])
    monkeypatch.setattr(logger, "filters", [])
    logger.setLevel(logging.INFO)
    return own


@pytest.mark.parametrize("formatter", [logs.TextFormatter, logs.JsonFormatter])
def test_the_direct_line_is_the_line_logging_writes(handler, formatter, monkeypatch):
    with nothing_on_root():
        handler.setFormatter(formatter())
        monkeypatch.setattr(time, "time", lambda: 1764756000.123456)
        assert logs._only_handler(logging.INFO) is handler
        logs.log_webhook(logging.INFO, "webhook", **FIELDS)                 # directly
        handler.addFilter(lambda record: True)                             # now through logging
        assert logs._only_handler(logging.INFO) is None
        logs.log_webhook(logging.INFO, "webhook", **FIELDS)
        direct, through_logging = handler.stream.getvalue().splitlines()
        assert direct == through_logging
        if formatter is logs.JsonFormatter:
            assert json.loads(direct)["menu"] == "主菜单" and json.loads(direct)["level"] == "INFO"
        else:
            assert direct.endswith("INFO webhook call=CA" + "1" * 32 + " route=/voice/input menu=主菜单 outcome=menu ms=0.4")


def test_anything_else_listening_gets_a_real_record(handler, caplog):
    handler.setFormatter(logs.TextFormatter())
    with caplog.at_level(logging.INFO, logger=logs.LOGGER):   # caplog's handler on the root logger
        logs.log_webhook(logging.WARNING, "fallback", **FIELDS)
    assert [r.fields["call"] for r in caplog.records] == [FIELDS["call"]]
    assert handler.stream.getvalue().count("WARNING fallback") == 1


def test_levels_and_other_handlers_are_respected(handler):
    with nothing_on_root():
        handler.setFormatter(logs.TextFormatter())
        logger = logging.getLogger(logs.LOGGER)
        logger.setLevel(logging.WARNING)
        logs.log_webhook(logging.INFO, "webhook", **FIELDS)
        assert handler.stream.getvalue() == ""
        logger.setLevel(logging.INFO)
        handler.setLevel(logging.ERROR)
        logs.log_webhook(logging.INFO, "webhook", **FIELDS)
        assert handler.stream.getvalue() == ""
        handler.setLevel(logging.NOTSET)
        second = logging.StreamHandler(io.StringIO())
        logger.handlers.append(second)
        assert logs._only_handler(logging.INFO) is None
        logs.log_webhook(logging.INFO, "webhook", **FIELDS)
        assert "webhook" in handler.stream.getvalue() and "webhook" in second.stream.getvalue()


def test_a_broken_stream_is_logging_s_to_report(handler, monkeypatch):
    with nothing_on_root():
        handler.setFormatter(logs.TextFormatter())
        reported = []
        monkeypatch.setattr(handler, "handleError", lambda record: reported.append(record.getMessage()))

        class Broken(io.StringIO):
            def write(self, text):
                raise OSError("stderr is gone")

        handler.setStream(Broken())
        logs.log_webhook(logging.INFO, "webhook", **FIELDS)   # never raises into the webhook
        assert reported == ["webhook"]


def test_a_served_webhook_writes_one_line_directly(handler, tmp_path, monkeypatch):
    with nothing_on_root():
        app = make_app(tmp_path)
        logger = logging.getLogger(logs.LOGGER)
        monkeypatch.setattr(logger, "handlers", [handler])   # create_app added the test's stderr handler
        handler.setFormatter(logs.TextFormatter())
        made = []
        real = logging.Logger.makeRecord
        monkeypatch.setattr(logging.Logger, "makeRecord", lambda self, *a, **k: made.append(a[4]) or real(self, *a, **k))
        caller = Caller(app.test_client())
        caller.keys("2")
        lines = handler.stream.getvalue().splitlines()
        assert [line.split(" INFO ")[1].split(" call=")[0] for line in lines if " webhook call=" in line] == ["webhook"] * 2
        assert all(f"call={caller.sid}" in line for line in lines if " webhook call=" in line)
        assert "webhook" not in made   # no LogRecord was made for them
