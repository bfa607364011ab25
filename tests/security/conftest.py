"""Helpers for the issue-7 tests: signed requests, real server processes, scripted demo calls."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import IN_HOURS

TOKEN = "test-auth-token-0123456789abcdef"
FAST_HASH = "pbkdf2:sha256:1000"
VENV_BIN = Path(sys.executable).parent

# The demo accounts of issue 3 and how a caller keys them (an X is keyed as *).
DEMO = [
    # id number, keyed, password, medical balance words (en), state
    ("110101199003074573", "110101199003074573", "074573", "1,234 yuan 56 fen", "active"),
    ("310104198511122035", "310104198511122035", "246810", "0 yuan", "active"),
    ("44010619881203118X", "44010619881203118*", "135790", "88 yuan 8 fen", "active"),
    ("440305197206150015", "440305197206150015", "150015", "560 yuan", "lost"),
]


def sign(url: str, form: dict | None, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form or {})


class SignedClient:
    """Flask test client that signs every request for ``base`` + path, like Twilio would."""

    def __init__(self, client, base: str = "http://localhost", token: str = TOKEN, headers: dict | None = None):
        self.client = client
        self.base = base.rstrip("/")
        self.token = token
        self.headers = headers or {}

    def post(self, path: str, data: dict | None = None, **kw):
        url = path if path.startswith("http") else self.base + path
        headers = {**self.headers, "X-Twilio-Signature": sign(url, data, self.token)}
        local = "/" + url.split("://", 1)[1].split("/", 1)[1] if url.startswith("http") else path
        return self.client.post(local, data=data, headers=headers, **kw)


# ---------------------------------------------------------------- real server processes

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpResponse:
    """A requests response dressed as a Flask test response (for tests.twiml.Caller)."""

    def __init__(self, r):
        self.status_code = r.status_code
        self.mimetype = r.headers.get("Content-Type", "").split(";")[0].strip()
        self._text = r.text
        self.headers = r.headers

    def get_data(self, as_text: bool = False):
        return self._text if as_text else self._text.encode()


class HttpClient:
    """Posts webhooks over real HTTP; each request goes to the next base URL in turn (what a load
    balancer in front of several servers does), signed for the URL it is sent to."""

    def __init__(self, bases: list[str], token: str | None = TOKEN, public: str | None = None,
                 headers: dict | None = None):
        import requests

        self.bases = [b.rstrip("/") for b in bases]
        self.token = token
        self.public = public          # the URL Twilio uses (a tunnel's); signed for, but not sent to
        self.headers = headers or {}  # what a tunnel or proxy adds
        self.session = requests.Session()
        self.turn = 0
        self.sent: list[str] = []

    def post(self, path: str, data: dict | None = None):
        base = self.bases[self.turn % len(self.bases)]
        self.turn += 1
        if self.public and path.startswith(self.public):
            path = path[len(self.public):]           # an absolute action URL: through the tunnel
        url = base + path
        signed_for = (self.public + path) if self.public else url
        headers = dict(self.headers)
        if self.token:
            headers["X-Twilio-Signature"] = sign(signed_for, data, self.token)
        self.sent.append(url)
        return HttpResponse(self.session.post(url, data=data, headers=headers, timeout=60))


@dataclass
class Server:
    """``ivr serve`` (gunicorn) in a child process on a free loopback port."""
    proc: subprocess.Popen
    port: int
    stderr_path: Path
    stdout_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
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
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()
        for pid in self.workers():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def server_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
    env.update({
        "IVR_DATABASE_URL": database_url,
        "IVR_VOICE_MODE": "say",
        "IVR_NOW": IN_HOURS,
        "IVR_SECRET_KEY": "test-secret",
        "IVR_AUDIO_DIR": str(tmp_path / "audio"),
        "TWILIO_AUTH_TOKEN": TOKEN,
        # gunicorn's control socket lives here instead of the user's ~/.gunicorn
        "XDG_RUNTIME_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


@contextmanager
def running_server(tmp_path: Path, database_url: str, *, workers: int = 2, name: str = "server",
                   port: int | None = None, **extra: str):
    """Start ``ivr serve --workers N``; yields a Server once it answers; always stops it."""
    port = port or free_port()
    out = tmp_path / f"{name}-{port}.out"
    err = tmp_path / f"{name}-{port}.err"
    with open(out, "ab") as fo, open(err, "ab") as fe:
        proc = subprocess.Popen(
            [str(VENV_BIN / "ivr"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env=server_env(tmp_path, database_url, **extra), cwd=str(tmp_path), stdout=fo, stderr=fe,
            start_new_session=True)
    server = Server(proc, port, err, out)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"ivr serve exited with {proc.returncode}:\n{server.stderr()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"ivr serve never listened on {port}:\n{server.stderr()}")
                time.sleep(0.1)
        server.wait_workers(workers)
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- databases and demo data

def seed_demo_accounts(database_url: str) -> None:
    from ivr.accounts.seed import seed_demo
    from ivr.db import Database

    db = Database(database_url)
    db.create_all()
    seed_demo(db.Session, hash_method=FAST_HASH)
    db.dispose()


def table_dump(database_url: str, exclude: tuple[str, ...] = ("accounts",)) -> dict[str, list[str]]:
    """Every row of every table (but ``exclude``) as text: what is stored besides the accounts."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        names = sa.inspect(engine).get_table_names()
        out = {}
        with engine.connect() as conn:
            for name in names:
                if name in exclude:
                    continue
                rows = conn.execute(sa.text(f'SELECT * FROM "{name}"')).all()
                out[name] = [repr(tuple(r)) for r in rows]
        return out
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
