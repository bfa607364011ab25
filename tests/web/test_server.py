"""``ivr serve --server NAME`` (issue 17): every server offered answers webhooks, reloads an edited
menu on SIGHUP (new calls get it, calls in progress keep theirs), and kills a worker whose request
outlives the timeout."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import requests

from ivr.web.server import DEFAULT_SERVER, SERVERS
from tests.hotline.edits import NEW_WORDS, flow_copy, swap_keys_2_and_3
from tests.hotline.test_reload import HttpCaller, _env, _english_main
from tests.servers import ServeProcess, free_port

OLD_APPLY = "Applying for a social security card."
CHECK_WAYS = "Other ways to check your balance."


def test_serve_offers_exactly_the_servers_of_ivr_web_server():
    from ivr.cli.core import serve

    option = next(p for p in serve.params if p.name == "server_name")
    assert list(option.type.choices) == list(SERVERS)
    assert option.default == DEFAULT_SERVER


def test_threads_only_with_a_threaded_server(tmp_path):
    from click.testing import CliRunner

    from ivr.cli.core import serve

    result = CliRunner().invoke(serve, ["--server", "gunicorn", "--threads", "8"])
    assert result.exit_code == 2 and "--threads goes with --server gunicorn-gthread" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("server_name", list(SERVERS))
def test_each_server_answers_and_reloads_on_sighup(tmp_path, server_name):
    menus, prompts = flow_copy(tmp_path / "flow")
    env = _env(tmp_path, menus, prompts, f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    server = ServeProcess(tmp_path, env, workers=2, args=("--server", server_name, "--max-requests", "1000"))
    try:
        before, heard = _english_main(server)
        assert NEW_WORDS not in heard
        assert "policy" in before.press("4").lower()
        before.press("*")

        swap_keys_2_and_3(menus, prompts)
        old_workers = set(server.workers())
        server.proc.send_signal(signal.SIGHUP)
        server.wait_workers(2, exclude=old_workers)
        deadline = time.monotonic() + 20
        while True:   # the master published the new version; new calls get it on any worker
            fresh, heard = _english_main(server)
            if NEW_WORDS in heard or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert NEW_WORDS in heard
        assert CHECK_WAYS in fresh.press("2")
        assert OLD_APPLY in before.press("2")      # the call in progress keeps its version
        assert "menu reload failed" not in server.stderr()
    finally:
        server.stop()


HUNG_APP = textwrap.dedent("""
    import os, sys, time
    from flask import Flask
    from ivr.web.server import run_gunicorn

    class NoDatabase:
        engine = property(lambda self: self)
        def dispose(self, close=True):
            pass
        def forget_connections(self):
            pass

    app = Flask("hung")
    app.extensions["ivr_db"] = NoDatabase()

    @app.get("/pid")
    def pid():
        return str(os.getpid())

    @app.get("/sleep")
    def sleep():
        time.sleep(8)
        return "woke up"

    run_gunicorn(app, "127.0.0.1", int(sys.argv[1]), 1, worker_class=sys.argv[2], threads=2, timeout=2)
""")


@pytest.mark.slow
@pytest.mark.parametrize("worker_class, killed", [("ivr.web.server.TimedThreadWorker", True),
                                                  ("gthread", False)])
def test_a_request_past_the_timeout_kills_its_threaded_worker(tmp_path, worker_class, killed):
    """ivr's gthread worker keeps the sync worker's timeout; gunicorn's own lets the request run on."""
    port = free_port()
    script = tmp_path / "hung.py"
    script.write_text(HUNG_APP)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, str(script), str(port), worker_class], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "err.log", "wb"), start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                first = requests.get(f"http://127.0.0.1:{port}/pid", timeout=2).text
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "err.log").read_text()
                time.sleep(0.1)
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/sleep", timeout=20).text
        except requests.ConnectionError:
            answer = None
        if killed:
            assert answer is None
            assert "WORKER TIMEOUT" in (tmp_path / "err.log").read_text()
            deadline = time.monotonic() + 15
            while True:   # a new worker took its place
                try:
                    now = requests.get(f"http://127.0.0.1:{port}/pid", timeout=2).text
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
            assert now != first
        else:
            assert answer == "woke up"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


@pytest.mark.slow
@pytest.mark.parametrize("server_name", list(SERVERS))
def test_max_requests_replaces_a_worker(tmp_path, server_name):
    menus, prompts = flow_copy(tmp_path / "flow")
    env = _env(tmp_path, menus, prompts, f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    server = ServeProcess(tmp_path, env, workers=1, args=("--server", server_name, "--max-requests", "5"))
    try:
        first = server.workers()
        for _ in range(4):   # 8 webhooks: past 5 the worker is replaced after its current request
            _english_main(server)
        server.wait_workers(1, exclude=set(first))
        caller, heard = _english_main(server)   # and the new one answers
        assert "personal account" in heard
    finally:
        server.stop()
