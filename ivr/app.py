"""The Flask application factory."""
from __future__ import annotations

import importlib
import os

from flask import Flask

from ivr.config import ConfigError, load_config

# Blueprint modules: each defines ``bp`` and may define ``init_app(app)``. They are imported by
# create_app, only when registered: the softphone's pulls in the local phone, numpy and soundfile.
_BLUEPRINT_MODULES = [
    "ivr.web.voice",
    "ivr.web.audio",
    "ivr.web.phone_page",
    "ivr.web.dashboard",
]
_SOFTPHONE_MODULE = "ivr.web.phone_page"


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

    security.init_app(app)   # X-Twilio-Signature, ProxyFix, no error pages on /voice (issue 7)
    from ivr.web import sessions

    sessions.init_app(app)   # no session cookie, no signer: what every Twilio request is
    from ivr.web import admin

    admin.init_app(app)      # admin token length, CSRF tokens for admin forms (issue 16)
    if app.config["SOFTPHONE"] and app.config.get("TWILIO_AUTH_TOKEN") and not app.config.get("ADMIN_TOKEN"):
        raise ConfigError("IVR_SOFTPHONE=true with TWILIO_AUTH_TOKEN set (production mode) needs "
                         "IVR_ADMIN_TOKEN: the softphone then answers only the admin token's holder")
    for name in _blueprint_modules(app.config):
        module = importlib.import_module(name)
        if hasattr(module, "init_app"):
            module.init_app(app)
        app.register_blueprint(module.bp)
    from ivr.web import test_clock

    test_clock.init_app(app)  # IVR_TEST_CLOCK (development only)
    return app
