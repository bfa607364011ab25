import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from ivr import create_app
from tests.twiml import Caller

ROOT = Path(__file__).resolve().parent.parent
# A Wednesday in Beijing: 10:00 is inside agent hours, 20:00 outside.
IN_HOURS = "2026-11-25T10:00:00+08:00"
OUT_OF_HOURS = "2026-11-25T20:00:00+08:00"


@pytest.fixture(autouse=True)
def _dispose_databases(monkeypatch):
    """Every ``Database`` a test opens (its apps', its own) is disposed when the test ends, so no
    test closes connections by hand and none leaks a pool into the next."""
    from ivr.hotline.db import Database

    opened: list[Database] = []
    init = Database.__init__

    def tracking_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Database, "__init__", tracking_init)
    yield
    for db in opened:
        db.dispose()


def make_app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": overrides.pop("DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.sqlite3'}"),
        "AUDIO_DIR": str(tmp_path / "audio"),
        "VOICE_MODE": "say",
        "NOW": IN_HOURS,
        "SECRET_KEY": "test-secret",
    }
    config.update(overrides)
    return create_app(config)


PG_URL = os.environ.get("IVR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_reason: list[str] = []


def postgres_skip_reason() -> str | None:
    """None when PostgreSQL answers at PG_URL, else why not (checked once per run)."""
    if not _pg_reason:
        try:
            import sqlalchemy as sa

            engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            engine.dispose()
            _pg_reason.append("")
        except Exception as exc:  # noqa: BLE001 - any failure means "not available"
            _pg_reason.append(f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
    return _pg_reason[0] or None


@contextmanager
def pg_schema():
    """(schema, URL whose tables live in it): a fresh PostgreSQL schema, dropped afterwards.
    Skips the test when PostgreSQL is not reachable."""
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    import uuid

    import sqlalchemy as sa

    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def pg_schema_url():
    """A database URL whose tables live in a fresh PostgreSQL schema, dropped afterwards."""
    with pg_schema() as (_, url):
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every test using this runs on SQLite, and again on PostgreSQL when one is reachable."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def app_builder():
    """How `app` builds its app: make_app here; a folder's conftest may swap in another builder
    with make_app's signature (tests/web seeds the demo accounts) and keep one `app` fixture."""
    return make_app


@pytest.fixture
def app(tmp_path, database_url, app_builder):
    app = app_builder(tmp_path, DATABASE_URL=database_url)
    yield app
    app.extensions["ivr_db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def caller(client):
    return Caller(client)


@pytest.fixture
def menus_copy(tmp_path):
    """A writable copy of the shipped menus.toml, for tests that change one thing."""
    path = tmp_path / "menus.toml"
    shutil.copy(ROOT / "menus.toml", path)
    return path
