"""This project's hotline as an app for the local phone (``ivr.phone``), which knows no app of
its own: what ``ivr call``/``ivr test`` call by default and what the tests' ``phone`` fixture
calls (tests/phone/conftest.py).

``hotline_source()`` is the ``ivr.phone.app_source.AppSource`` the ``ivr`` command hands the
phone's commands: the hotline on the configured database for a call, on a fresh seeded
database per scenario ``[config]``, with its own status callback and fallback URL as the
number's settings, its log lines routed by ``server_log``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path


def hotline_app(config: dict | None = None):
    from ivr import create_app  # lazy: `ivr call --url` and the plugin never load the hotline

    return create_app(config or {})


# Made-up accounts the shipped scenarios use for what changes an account (password, lost card,
# lockout), so the demo accounts stay as documented: ``ivr db seed --accounts 5 --seed 1``.
SCENARIO_BULK_ACCOUNTS = (5, 1)


def seeded_hotline_app(config: dict | None = None, directory: str | Path | None = None):
    """The hotline on a fresh database (in ``directory``, unless config names one) holding the
    demo accounts and the scenarios' made-up accounts: what ``ivr test`` and the tests use."""
    config = dict(config or {})
    if "DATABASE_URL" not in config:
        key = hashlib.sha1(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]
        config["DATABASE_URL"] = temporary_database(directory, f"hotline-{key}.sqlite3")
    app = hotline_app(config)
    seed_accounts(app.extensions["ivr_db"].Session)
    return app


def seed_accounts(session_factory) -> None:
    from ivr.accounts.seed import seed_bulk, seed_demo

    seed_demo(session_factory)
    count, seed = SCENARIO_BULK_ACCOUNTS
    seed_bulk(session_factory, count, seed)


def temporary_database(directory: str | Path | None = None, name: str = "phone.sqlite3") -> str:
    """A fresh SQLite database URL, so scenario runs never touch the real call records."""
    directory = Path(directory or tempfile.mkdtemp(prefix="ivr-phone-"))
    path = directory / name
    if path.exists():
        path.unlink()
    return f"sqlite:///{path}"


def hotline_number(app) -> dict:
    """The in-process hotline's number settings: its own status callback and fallback URL, so
    local calls complete in its call records as Twilio's do."""
    from ivr.phone.targets import in_process_url

    return {"status_callback": in_process_url(app, "/voice/status"),
            "fallback_url": in_process_url(app, "/voice/fallback")}


@contextmanager
def server_log(verbose: bool = False, path: str | None = None):
    """Within: where the in-process hotline's log lines go: nowhere by default (the terminal
    shows the caller's transcript), stderr with ``verbose``, appended to ``path`` if given.
    Enter before building the app (the hotline then keeps this handler, ``ivr.logs.setup_logging``);
    the handler is put back as it was on exit."""
    from ivr.logs import LOGGER

    logger = logging.getLogger(LOGGER)
    handler = next((h for h in logger.handlers if getattr(h, "_ivr", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._ivr = True
        logger.addHandler(handler)
    saved = (handler.level, handler.stream)
    log_file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115 - closed below
    if log_file:
        handler.setStream(log_file)
    handler.setLevel(logging.NOTSET if verbose or path else logging.CRITICAL + 1)
    try:
        yield
    finally:
        handler.setLevel(saved[0])
        handler.setStream(saved[1])
        if log_file:
            log_file.close()


def hotline_source():
    """The hotline as the phone's default in-process app (``ivr call`` and ``ivr test`` without
    --app or --url): ``-c`` settings reach ``create_app``; scenario runs get it seeded afresh."""
    from ivr.phone.app_source import AppSource

    return AppSource(
        name="the hotline", build=hotline_app, build_fresh=seeded_hotline_app, number=hotline_number,
        logs=server_log, about="on a fresh temporary database with the demo accounts (and the made-up "
        "ones of `ivr db seed --accounts 5 --seed 1`) per distinct [config]")
