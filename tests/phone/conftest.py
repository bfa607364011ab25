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
