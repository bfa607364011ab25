"""``ivr serve`` in a subprocess on a free loopback port, on a seeded database, for HTTP tests."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ivr.phone.ourapp import seeded_hotline_app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HotlineServer:
    def __init__(self, config: dict, directory: Path):
        self.config = config
        database = f"sqlite:///{directory / 'hotline.sqlite3'}"
        seeded = seeded_hotline_app({**config, "DATABASE_URL": database})  # schema + accounts
        seeded.extensions["ivr_db"].dispose()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/voice"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
        env.update({f"IVR_{key}": value if isinstance(value, str) else json.dumps(value)
                    for key, value in config.items()})
        env["IVR_DATABASE_URL"] = database
        self.log = open(directory / "server.log", "wb")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "ivr"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_until_listening()

    def _wait_until_listening(self, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ivr serve exited with {self.process.returncode}; see {self.log.name}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"ivr serve did not listen on port {self.port} within {seconds:g} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
