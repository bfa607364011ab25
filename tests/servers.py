"""``ivr serve`` (gunicorn) in a child process on a free loopback port: the one starter shared by the
phone, web and security tests, so that all of them start, wait for and stop a real server alike."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
IVR = VENV_BIN / "ivr"   # the venv's console script, as a user runs it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ivr_env(settings: dict) -> dict[str, str]:
    """App settings as the IVR_* variables ``ivr serve`` reads its config from (non-strings as JSON)."""
    return {f"IVR_{key}": value if isinstance(value, str) else json.dumps(value) for key, value in settings.items()}


class ServeProcess:
    """``ivr serve --workers N``, started by the constructor and returned once it listens and all its
    workers have forked. ``env`` is added to this process's environment less its own IVR_ and
    TWILIO_ variables (a developer's settings must not leak in); a value of None removes a variable.
    Output goes to ``<name>-<port>.out`` and ``.err`` in ``directory``, which is also its working
    directory. Call stop() when done (or use kill9() to test a crash)."""

    def __init__(self, directory: Path, env: dict[str, str | None], *, workers: int = 1,
                 port: int | None = None, name: str = "server", timeout: float = 90, args: tuple = ()):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout_path = directory / f"{name}-{self.port}.out"
        self.stderr_path = directory / f"{name}-{self.port}.err"
        full = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
        # gunicorn's control socket, if any, goes here and not in the user's ~/.gunicorn
        full.update({"XDG_RUNTIME_DIR": str(directory), "PYTHONUNBUFFERED": "1", **env})
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [str(IVR), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers), *args],
                env={k: v for k, v in full.items() if v is not None}, cwd=directory, stdout=out, stderr=err,
                start_new_session=True)
        try:
            self._wait_until_listening(timeout)
            self.wait_workers(workers)
        except BaseException:
            self.stop()
            raise

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"ivr serve exited with {self.proc.returncode}:\n{self.stderr()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"ivr serve never listened on {self.port}:\n{self.stderr()}")
                time.sleep(0.1)

    def workers(self) -> list[int]:
        """The worker processes' ids (the master's children), [] once the master has gone."""
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(p) for p in text.split()]

    def wait_workers(self, count: int, exclude: set[int] = frozenset(), timeout: float = 60) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [p for p in self.workers() if p not in exclude]
            if len(pids) >= count:
                return pids
            time.sleep(0.05)
        raise AssertionError(f"gunicorn did not have {count} new workers; stderr:\n{self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text("utf-8", errors="replace")

    def kill9(self) -> None:
        """SIGKILL the whole server: master and workers, no clean-up of any kind."""
        pids = self.workers()
        self.proc.send_signal(signal.SIGKILL)
        self._kill(pids)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """A graceful SIGTERM; whatever has not ended in 20 s is killed, workers included."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._kill(self.workers())

    @staticmethod
    def _kill(pids: list[int]) -> None:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
