"""The real thing: ``ivr serve`` (gunicorn, 2 workers) gets menu edits while a call is in progress.

The call in progress finishes on the version it started on, new calls hear the new menu, a broken
edit changes nothing and is logged with the message ``ivr menus check`` prints; two servers on one
PostgreSQL switch together.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests

from tests.conftest import IN_HOURS
from tests.hotline.edits import (BROKEN_MESSAGE, NEW_WORDS, break_main_menu, flow_copy,
                                swap_keys_2_and_3)
from tests.servers import IVR, ServeProcess

pytestmark = pytest.mark.slow

OLD_APPLY = "Applying for a social security card."
CHECK_WAYS = "Other ways to check your balance."
THIRD_WORDS = "Third edition of the menu."


class HttpCaller:
    """Follows the hotline's TwiML over HTTP; ``servers`` take turns answering its webhooks."""

    def __init__(self, *servers):
        self.servers = list(servers)
        self.turn = 0
        self.sid = "CA" + uuid.uuid4().hex
        self.root = None

    def post(self, path: str, **extra) -> str:
        server = self.servers[self.turn % len(self.servers)]
        self.turn += 1
        data = {"CallSid": self.sid, "From": "+8613800138000", "To": "+8612333", "CallStatus": "in-progress",
                **extra}
        response = requests.post(server.url + path, data=data, timeout=30)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
        self.root = ET.fromstring(response.text)
        return " ".join(el.text or "" for el in self.root.iter("Say"))

    def dial(self) -> str:
        return self.post("/voice")

    def press(self, digits: str) -> str:
        gather = self.root.find("Gather")
        assert gather is not None, ET.tostring(self.root)
        return self.post(gather.get("action"), Digits=digits)


def _env(tmp_path, menus, prompts, database_url, **extra) -> dict:
    return {"IVR_DATABASE_URL": database_url, "IVR_MENUS_FILE": str(menus), "IVR_PROMPTS_DIR": str(prompts),
            "IVR_VOICE_MODE": "say", "IVR_NOW": IN_HOURS, "IVR_SECRET_KEY": "test-secret",
            "IVR_AUDIO_DIR": str(tmp_path / "audio"), "IVR_RELOAD_CHECK_SECONDS": "0.2", **extra}


def _reload(env: dict) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
    return subprocess.run([str(IVR), "reload"], env={**full, **env}, capture_output=True, text=True, timeout=120)


def _english_main(*servers) -> tuple[HttpCaller, str]:
    caller = HttpCaller(*servers)
    caller.dial()
    return caller, caller.press("2")


def _wait_for(predicate, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_menu_edits_reach_a_running_gunicorn_server(tmp_path):
    menus, prompts = flow_copy(tmp_path / "flow")
    env = _env(tmp_path, menus, prompts, f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    server = ServeProcess(tmp_path, env, workers=2)
    try:
        before, heard = _english_main(server)
        assert NEW_WORDS not in heard

        # 1. a valid edit, published with `ivr reload`
        swap_keys_2_and_3(menus, prompts)
        done = _reload(env)
        assert done.returncode == 0, done.stderr
        assert "is current (was" in done.stdout
        time.sleep(0.5)     # > RELOAD_CHECK_SECONDS: every worker looks again on its next request
        for _ in range(6):  # new calls, on whichever worker: the new menu
            fresh, heard = _english_main(server)
            assert NEW_WORDS in heard
            assert CHECK_WAYS in fresh.press("2")
        assert NEW_WORDS not in before.press("9")       # the call in progress: the old menu ...
        assert OLD_APPLY in before.press("2")           # ... and the old key 2

        # 2. a broken edit: `ivr reload` refuses it, and so does SIGHUP, with the check's message
        good = menus.read_text(encoding="utf-8")
        break_main_menu(menus)
        refused = _reload(env)
        assert refused.returncode == 1
        assert BROKEN_MESSAGE in refused.stdout.splitlines()
        old_workers = set(server.workers())
        server.proc.send_signal(signal.SIGHUP)
        _wait_for(lambda: f"menu problem: {BROKEN_MESSAGE}" in server.stderr(), "the refusal in the log")
        server.wait_workers(2, exclude=old_workers)
        fresh, heard = _english_main(server)
        assert NEW_WORDS in heard and "policy" in fresh.press("4").lower()   # still version 2

        # 3. a valid edit by SIGHUP: gunicorn restarts its workers on the new version
        menus.write_text(good, encoding="utf-8")
        text = (prompts / "en-US.toml").read_text(encoding="utf-8")
        (prompts / "en-US.toml").write_text(text.replace(NEW_WORDS, THIRD_WORDS), encoding="utf-8")
        old_workers = set(server.workers())
        server.proc.send_signal(signal.SIGHUP)
        server.wait_workers(2, exclude=old_workers)
        _wait_for(lambda: "menu reloaded" in server.stderr() and "source=SIGHUP" in server.stderr(),
                  "the SIGHUP reload")
        fresh, heard = _english_main(server)
        assert THIRD_WORDS in heard
        # the first call is still on the very first version, through two reloads and new workers
        assert NEW_WORDS not in before.press("*") and THIRD_WORDS not in before.press("9")
    finally:
        server.stop()


def test_watching_server_reloads_on_save(tmp_path):
    menus, prompts = flow_copy(tmp_path / "flow")
    env = _env(tmp_path, menus, prompts, f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    server = ServeProcess(tmp_path, env, workers=2, args=("--watch",))
    try:
        before, _ = _english_main(server)
        swap_keys_2_and_3(menus, prompts)
        _wait_for(lambda: NEW_WORDS in _english_main(server)[1], "the new menu after a save")
        assert OLD_APPLY in before.press("2")
        break_main_menu(menus)
        _wait_for(lambda: f"menu problem: {BROKEN_MESSAGE}" in server.stderr(), "the refusal in the log")
        fresh, heard = _english_main(server)
        assert NEW_WORDS in heard and "policy" in fresh.press("4").lower()
    finally:
        server.stop()


def test_two_servers_on_one_postgresql_switch_together(tmp_path, pg_schema_url):
    menus, prompts = flow_copy(tmp_path / "flow")
    env = _env(tmp_path, menus, prompts, pg_schema_url)
    one = ServeProcess(tmp_path, env, workers=2, name="one")
    try:
        two = ServeProcess(tmp_path, env, workers=2, name="two")
        try:
            before, heard = _english_main(one, two)
            assert NEW_WORDS not in heard
            swap_keys_2_and_3(menus, prompts)
            assert _reload(env).returncode == 0
            time.sleep(0.5)
            for server in (one, two, one, two):
                fresh, heard = _english_main(server)
                assert NEW_WORDS in heard and CHECK_WAYS in fresh.press("2")
            # the call in progress, its webhooks alternating between the servers: old menu throughout
            assert NEW_WORDS not in before.press("9")
            assert OLD_APPLY in before.press("2")
            break_main_menu(menus)
            assert _reload(env).returncode == 1
            time.sleep(0.5)
            for server in (one, two):
                fresh, heard = _english_main(server)
                assert NEW_WORDS in heard and "policy" in fresh.press("4").lower()
        finally:
            two.stop()
    finally:
        one.stop()


def test_the_dev_server_reloads_on_save_and_on_sighup(tmp_path):
    menus, prompts = flow_copy(tmp_path / "flow")
    env = _env(tmp_path, menus, prompts, f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    server = ServeProcess(tmp_path, env, workers=0, args=("--dev",))
    try:
        before, _ = _english_main(server)
        swap_keys_2_and_3(menus, prompts)
        _wait_for(lambda: NEW_WORDS in _english_main(server)[1], "the new menu after a save")
        assert OLD_APPLY in before.press("2")
        server.proc.send_signal(signal.SIGHUP)       # nothing changed since: still the same version
        time.sleep(1)
        assert server.proc.poll() is None and NEW_WORDS in _english_main(server)[1]
    finally:
        server.stop()


def test_menus_check_watch_reprints_on_every_save(tmp_path):
    menus, prompts = flow_copy(tmp_path / "flow")
    proc = subprocess.Popen([str(IVR), "menus", "check", str(menus), "--prompts", str(prompts), "--watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []

    def read_until(text: str, after: int = 0) -> int:
        """The index of the first line from ``after`` on holding ``text`` (read as needed)."""
        while True:
            for i in range(after, len(lines)):
                if text in lines[i]:
                    return i
            line = proc.stdout.readline()
            assert line, "ivr menus check --watch ended:\n" + "".join(lines)
            lines.append(line)

    # a hang would block readline: end the watcher after a minute whatever happens
    guard = threading.Timer(60, lambda: os.killpg(proc.pid, signal.SIGKILL))
    guard.start()
    try:
        first_ok = max(read_until(": OK: "), read_until("watching"))
        time.sleep(1)    # the watch starts just after its line is printed
        break_main_menu(menus)
        again = read_until("changed: checking again", first_ok)
        broken = read_until(BROKEN_MESSAGE, again)
        read_until("problem(s) in", broken)
        menus.write_text(menus.read_text(encoding="utf-8").replace('menu = "nowhere"', 'menu = "law"'),
                         encoding="utf-8")
        read_until(": OK: ", read_until("changed: checking again", broken))
    finally:
        guard.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
