"""Where a navigation webhook's time goes over HTTP: the hotline cut down step by step.

Each step is the real hotline app (``ivr.create_app()``, same settings, same server) with the
``/voice/input`` view replaced by less and less work; the difference between two steps is what the
added work costs under load, including what profiles in one process do not show (two processes
sharing one SQLite file).

- framework: the hotline app, but the view returns the ceiling's constant TwiML (security hook,
  Flask session, routing: what every request of the hotline pays before any webhook code).
- form: + reading the Twilio form (``request.values``: CallSid, Digits, From).
- state: + the call's durable state: load and save (unchanged) through the shipped webhook
  transaction and ``CallStore``, committed per request.
- sqlite3: form + the least a durable state can cost: read the JSON and write it back with one
  sqlite3 connection per process (no pool, no SQLAlchemy): the naive baseline's way.
- (full: the hotline itself, served by ``ivr serve``.)
"""
from __future__ import annotations

import json
import os
import sqlite3

from flask import Response, request

from ceiling import TWIML

STEPS = ("framework", "form", "state", "sqlite3")


def ladder_app(step: str):
    if step not in STEPS:
        raise SystemExit(f"unknown ladder step {step!r} (known: {', '.join(STEPS)})")
    from ivr import create_app
    from ivr.hotline.calls import state_values
    from ivr.hotline.db import _sqlite_pragmas
    from ivr.engine.state import CallState
    from ivr.hotline.models import utcnow
    from ivr.web import voice

    app = create_app()
    hotline = app.extensions["ivr_hotline"]
    own: dict[int, sqlite3.Connection] = {}

    def connection() -> sqlite3.Connection:
        conn = own.get(os.getpid())
        if conn is None:
            path = app.config["DATABASE_URL"].split("sqlite:///", 1)[1]
            conn = own[os.getpid()] = sqlite3.connect(path, check_same_thread=False)
            _sqlite_pragmas(conn, None)
        return conn

    def view():
        if step != "framework":
            form = request.values
            sid, _digits, caller = form.get("CallSid"), form.get("Digits"), form.get("From")
        if step == "state":
            with voice._webhook_transaction(hotline) as (conn, _session):
                state = hotline.calls.load(conn, sid)
                hotline.calls.save(conn, state, caller=caller)
        elif step == "sqlite3":
            conn = connection()
            row = conn.execute("SELECT state FROM calls WHERE call_sid = ?", (sid,)).fetchone()
            state = CallState.from_dict(json.loads(row[0]))
            conn.execute("UPDATE calls SET state = ?, updated_at = ? WHERE call_sid = ?",
                         (json.dumps(state_values(state)), utcnow().strftime("%Y-%m-%d %H:%M:%S.%f"), sid))
            conn.commit()
        return Response(TWIML, status=200, mimetype="text/xml")

    app.view_functions["voice.input"] = view
    return app
