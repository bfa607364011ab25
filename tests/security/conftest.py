"""Helpers for the issue-7 tests: signed requests, real server processes, scripted demo calls."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import IN_HOURS
from tests.servers import VENV_BIN, ServeProcess, free_port  # noqa: F401 - tests import them here

TOKEN = "test-auth-token-0123456789abcdef"
FAST_HASH = "pbkdf2:sha256:1000"

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


def server_env(tmp_path: Path, database_url: str, **extra: str | None) -> dict[str, str | None]:
    """What these tests' servers run with: signed webhooks, the clock inside agent hours; ``extra``
    are raw environment variables (None removes one, e.g. TWILIO_AUTH_TOKEN)."""
    return {
        "IVR_DATABASE_URL": database_url,
        "IVR_VOICE_MODE": "say",
        "IVR_NOW": IN_HOURS,
        "IVR_SECRET_KEY": "test-secret",
        "IVR_AUDIO_DIR": str(tmp_path / "audio"),
        "TWILIO_AUTH_TOKEN": TOKEN,
        **extra,
    }


@contextmanager
def running_server(tmp_path: Path, database_url: str, *, workers: int = 2, name: str = "server",
                   port: int | None = None, **extra: str | None):
    """Start ``ivr serve --workers N``; yields a ServeProcess once it answers; always stops it."""
    server = ServeProcess(tmp_path, server_env(tmp_path, database_url, **extra), workers=workers,
                          port=port, name=name)
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- databases and demo data

def seed_demo_accounts(database_url: str) -> None:
    from ivr.accounts.seed import seed_demo
    from ivr.hotline.db import Database

    db = Database(database_url)
    db.create_all()
    seed_demo(db.Session, hash_method=FAST_HASH)
    db.dispose()


def _no_clock(value):
    """A timestamp can hold no secret, but its microseconds can spell a 6-digit password by chance
    (a PostgreSQL run once stored ``..., 246810, tzinfo=...``): left out of the haystack."""
    import datetime as dt
    import re

    if isinstance(value, (dt.datetime, dt.date, dt.time)) or (
            isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?", value)):
        return "<time>"   # SQLite gives its timestamps back as text
    return value


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
                out[name] = [repr(tuple(_no_clock(v) for v in r)) for r in rows]
        return out
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
