"""The Flask application factory."""
from __future__ import annotations

import importlib
import os

from flask import Flask

from ivr.config import load_config

# Blueprint modules: each defines ``bp`` and may define ``init_app(app)``. They are imported by
# create_app, only when registered: the softphone's pulls in the local phone, numpy and soundfile.
_BLUEPRINT_MODULES = [
    "ivr.web.voice",
    "ivr.web.audio",
    "ivr.web.softphone.routes",
    "ivr.web.dashboard",
]
_SOFTPHONE_MODULE = "ivr.web.softphone.routes"


def _blueprint_modules(config) -> list[str]:
    """The blueprint modules this app registers: the softphone's only with ``SOFTPHONE`` on."""
    return [name for name in _BLUEPRINT_MODULES if name != _SOFTPHONE_MODULE or config["SOFTPHONE"]]


def create_app(config: dict | None = None) -> Flask:
    """Build the hotline app. ``config`` overrides defaults and IVR_* env vars (tests pass it)."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    os.makedirs(app.instance_path, exist_ok=True)

    from ivr.logs import setup_logging

    setup_logging(app)

    from ivr.hotline.db import Database
    from ivr.hotline.hotline import Hotline

    db = Database.from_config(app.config)
    db.create_all()
    app.extensions["ivr_db"] = db
    # Loads and validates menus.toml and the prompts; raises MenuFileError listing every problem.
    app.extensions["ivr_hotline"] = Hotline.from_config(app.config, db)

    from ivr.web import security

    security.init_app(app)   # signatures, proxies, body caps, error answers, sessions, admin token
    from ivr.web import forms

    forms.init_app(app)      # a Twilio form parsed without werkzeug's general machinery (issue 17)
    for name in _blueprint_modules(app.config):
        module = importlib.import_module(name)
        if hasattr(module, "init_app"):
            module.init_app(app)
        app.register_blueprint(module.bp)
    from ivr.web import test_clock

    test_clock.init_app(app)  # IVR_TEST_CLOCK (development only)
    from ivr.web import webhook_lane

    webhook_lane.init_app(app)  # Twilio's webhooks answered without Flask's request machinery (issue 17)
    return app
