import shutil
import threading

import pytest
from werkzeug.serving import make_server

from ivr.phone import Phone


class Served:
    """A WSGI app on a free loopback port, in a thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def serve():
    """serve(app) -> base URL of the app on a loopback port; stopped after the test."""
    running = []

    def start(app):
        served = Served(app)
        running.append(served)
        return served.url

    yield start
    for served in running:
        served.stop()


@pytest.fixture(params=["wsgi", "http"])
def make_phone(request, serve):
    """make_phone(app, path="/voice", **settings): the same app reached in-process or over HTTP."""

    def build(app, path="/voice", **settings):
        base = "http://localhost" if request.param == "wsgi" else serve(app)
        for key in ("fallback_url", "status_callback"):  # paths are on the app under test
            if str(settings.get(key, "")).startswith("/"):
                settings[key] = base + settings[key]
        if request.param == "wsgi":
            return Phone(base + path, app=app, **settings)
        return Phone(base + path, **settings)

    build.transport = request.param
    return build


# The phone fixture (ivr.phone.pytest_plugin) knows no app: these tests call our hotline,
# plugged in here from outside the phone package (ivr.testing), each test on a fresh database.

@pytest.fixture(scope="session")
def phone_template_database(tmp_path_factory):
    """A SQLite file with the hotline's schema, demo accounts and the scenarios' made-up
    accounts, built once per session (hashing the demo passwords is slow) and copied per test."""
    from ivr.testing import seeded_hotline_app

    path = tmp_path_factory.mktemp("phone-template") / "template.sqlite3"
    app = seeded_hotline_app({"DATABASE_URL": f"sqlite:///{path}"})
    app.extensions["ivr_db"].dispose()
    return path


@pytest.fixture(scope="session")
def phone_audio_dir(tmp_path_factory):
    """Prompt audio rendered during the session (kept out of the developer's instance folder)."""
    return tmp_path_factory.mktemp("phone-audio")


@pytest.fixture
def phone_app_config(tmp_path, phone_template_database, phone_audio_dir) -> dict:
    """Settings for the in-process hotline: a fresh copy of the seeded database and the
    session's audio folder. Override to add settings (keep DATABASE_URL)."""
    database = tmp_path / "phone.sqlite3"
    shutil.copyfile(phone_template_database, database)
    return {"DATABASE_URL": f"sqlite:///{database}", "AUDIO_DIR": str(phone_audio_dir)}


@pytest.fixture
def phone_app(phone_app_config):
    """The hotline, for the plugin's phone fixture."""
    from ivr.testing import hotline_app

    return hotline_app(phone_app_config)
