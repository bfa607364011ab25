"""Fixtures for the softphone, the dashboard and the diagram: a seeded hotline with an admin
token, a real server on a free loopback port, and headless Chromium through Playwright."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ivr.accounts.seed import seed_demo
from tests.conftest import make_app
from tests.servers import ServeProcess, ivr_env

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
ADMIN_TOKEN = "test-admin-token-5f2c9e"
DEMO_ID = "110101199003074573"
DEMO_PASSWORD = "074573"
CHROMIUM = os.environ.get("IVR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required"]


def seeded_app(tmp_path, **overrides):
    overrides.setdefault("ADMIN_TOKEN", ADMIN_TOKEN)
    app = make_app(tmp_path, **overrides)
    seed_demo(app.extensions["ivr_db"].Session)
    return app


@pytest.fixture
def app_builder():
    """The root `app` fixture, here seeded and with an admin token (see tests/conftest.py)."""
    return seeded_app


# The names the web tests know the root fixtures by: on SQLite, and again on PostgreSQL.
@pytest.fixture
def web_app(app):
    return app


@pytest.fixture
def web_client(client):
    return client


class LiveServer:
    """The app on a free loopback port, served by werkzeug in a thread (threaded: the page
    fetches audio while a call request runs)."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


@pytest.fixture
def live_server_factory(tmp_path):
    servers = []

    def start(**overrides) -> LiveServer:
        directory = tmp_path / f"server{len(servers)}"
        directory.mkdir()
        server = LiveServer(seeded_app(directory, **overrides))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        server.app.extensions["ivr_db"].dispose()


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (install Debian's chromium: make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.problems = problems
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"), full_page=True)
    context.close()


def shot(page, name: str) -> Path:
    """Keep a screenshot as a test artefact (test-artifacts/web/, git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class GunicornServer(ServeProcess):
    """``ivr serve --workers N`` on a seeded SQLite database in ``directory``, with the admin token."""

    def __init__(self, directory: Path, workers: int = 3, **config):
        settings = {"ADMIN_TOKEN": ADMIN_TOKEN, "VOICE_MODE": "say", "AUDIO_DIR": str(directory / "audio"),
                    "DATABASE_URL": f"sqlite:///{directory / 'hotline.sqlite3'}", **config}
        seeded_app(directory, **settings).extensions["ivr_db"].dispose()   # schema + demo accounts
        super().__init__(directory, ivr_env(settings), workers=workers)
