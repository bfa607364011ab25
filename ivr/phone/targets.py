"""Where scenario calls go: an app in-process (one app per distinct config) or a URL over HTTP."""
from __future__ import annotations

import json
from typing import Callable

from ivr.phone.phone import Phone


def in_process_url(app, path: str = "/voice") -> str:
    """The URL an in-process app believes it serves: its PUBLIC_URL when it has one (so absolute
    URLs and signatures match), else http://localhost."""
    config = getattr(app, "config", None) or {}
    return (config.get("PUBLIC_URL") or "http://localhost").rstrip("/") + path


def app_phone(app, path: str = "/voice", **settings) -> Phone:
    """A phone wired to a WSGI app; a Flask app's TWILIO_AUTH_TOKEN signs the requests."""
    config = getattr(app, "config", None) or {}
    if not settings.get("auth_token"):
        settings["auth_token"] = config.get("TWILIO_AUTH_TOKEN")
    return Phone(in_process_url(app, path), app=app, **settings)


class AppTarget:
    """``factory(config) -> WSGI app``; scenarios' [config] tables are merged over ``base_config``."""

    def __init__(self, factory: Callable[[dict], object], base_config: dict | None = None, **settings):
        self.factory = factory
        self.base_config = dict(base_config or {})
        self.settings = settings
        self._phones: dict[str, Phone] = {}

    def phone(self, config: dict | None = None) -> Phone:
        merged = {**self.base_config, **(config or {})}
        key = json.dumps(merged, sort_keys=True, default=str)
        if key not in self._phones:
            self._phones[key] = app_phone(self.factory(merged), **self.settings)
        return self._phones[key]

    def __call__(self, scenario) -> Phone:
        return self.phone(scenario.config)


class HttpTarget:
    """A webhook URL. A scenario that needs app config runs only where ``url_for_config`` knows a
    server started with it; elsewhere it is skipped (a remote app's settings are not ours to set)."""

    def __init__(self, url: str, url_for_config: Callable[[dict], str | None] | None = None, **settings):
        self.url = url
        self.url_for_config = url_for_config
        self.settings = settings
        self._phones: dict[str, Phone] = {}

    def __call__(self, scenario):
        url = self.url
        if scenario.config:
            url = self.url_for_config(scenario.config) if self.url_for_config else None
            if url is None:
                return f"needs app config {scenario.config} (run it in-process)"
        if url not in self._phones:
            self._phones[url] = Phone(url, **self.settings)
        return self._phones[url]
