"""Where scenario calls go: an app in-process (one app per distinct config) or a URL over HTTP."""
from __future__ import annotations

import json
from typing import Callable
from urllib.parse import urljoin

from ivr.phone.phone import Phone


def in_process_url(app, path: str = "/voice") -> str:
    """The URL an in-process app believes it serves: its PUBLIC_URL when it has one (so absolute
    URLs and signatures match), else http://localhost."""
    config = getattr(app, "config", None) or {}
    return (config.get("PUBLIC_URL") or "http://localhost").rstrip("/") + path


def app_phone(app, path: str = "/voice", **settings) -> Phone:
    """A phone wired to a WSGI app; a Flask app's TWILIO_AUTH_TOKEN signs the requests.
    ``path``: the entry webhook, a path on the app or an absolute URL (the origin the app sees).
    A fallback URL or status callback given as a path is on the same origin."""
    config = getattr(app, "config", None) or {}
    if not settings.get("auth_token"):
        settings["auth_token"] = config.get("TWILIO_AUTH_TOKEN")
    url = path if "://" in path else in_process_url(app, path)
    for key in ("fallback_url", "status_callback"):
        if str(settings.get(key) or "").startswith("/"):
            settings[key] = urljoin(url, settings[key])
    return Phone(url, app=app, **settings)


class AppTarget:
    """``factory(config) -> WSGI app``; scenarios' [config] tables are merged over ``base_config``."""

    def __init__(self, factory: Callable[[dict], object], base_config: dict | None = None,
                 number: Callable[[object], dict] | None = None, *, url: str = "/voice",
                 config_refused: str | None = None, **settings):
        """``number(app)``: default number settings for that app (e.g. its own status callback);
        ``settings`` win over them. ``url``: the entry webhook (``app_phone``'s ``path``).
        ``config_refused``: set for an app that takes no config: why a scenario with a
        ``[config]`` table is skipped (it would run without what it pins)."""
        self.factory = factory
        self.base_config = dict(base_config or {})
        self.number = number
        self.url = url
        self.config_refused = config_refused
        self.settings = settings
        self._phones: dict[str, Phone] = {}

    def phone(self, config: dict | None = None) -> Phone:
        merged = {**self.base_config, **(config or {})}
        key = json.dumps(merged, sort_keys=True, default=str)
        if key not in self._phones:
            app = self.factory(merged)
            defaults = self.number(app) if self.number else {}
            self._phones[key] = app_phone(app, self.url, **{**defaults, **self.settings})
        return self._phones[key]

    def __call__(self, scenario) -> Phone | str:
        if scenario.config and self.config_refused:
            return f"needs app config {scenario.config}: {self.config_refused}"
        return self.phone(scenario.config)


# App config a running server can take per request (ivr.web.test_clock): only the pinned time.
TEST_CLOCK_CONFIG = frozenset({"NOW"})


class HttpTarget:
    """A webhook URL. A scenario that needs app config runs where ``url_for_config`` knows a
    server started with it; one that only pins ``NOW`` runs against the URL with the test clock
    header (``X-IVR-Test-Now``), and counts as skipped if the server does not acknowledge it
    (``scenario.run``); other config is skipped (a remote app's settings are not ours to set)."""

    def __init__(self, url: str, url_for_config: Callable[[dict], str | None] | None = None, **settings):
        self.url = url
        self.url_for_config = url_for_config
        self.settings = settings
        self._phones: dict[str, Phone] = {}

    def __call__(self, scenario):
        from ivr.phone.fetcher import TEST_NOW_HEADER

        url, headers = self.url, {}
        if scenario.config:
            url = self.url_for_config(scenario.config) if self.url_for_config else None
            if url is None and set(scenario.config) <= TEST_CLOCK_CONFIG:
                url, headers = self.url, {TEST_NOW_HEADER: str(scenario.config["NOW"])}
            if url is None:
                return f"needs app config {scenario.config} (run it in-process)"
        key = (url, tuple(sorted(headers.items())))
        if key not in self._phones:
            merged = {**self.settings.get("headers", {}), **headers}
            self._phones[key] = Phone(url, **{**self.settings, "headers": merged})
        return self._phones[key]
