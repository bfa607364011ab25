"""Fixtures: a fresh database per test, on SQLite always and on PostgreSQL when reachable.

PostgreSQL tests run in a schema of their own (``acct_<random>``, dropped afterwards), so runs in
parallel, and other suites using the same database, never see each other's tables.
The server is tests/conftest.py's PG_URL (IVR_TEST_POSTGRES_URL; default CI's: trust auth, database ``test``).
"""
from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from ivr.accounts.models import Base as AccountsBase
from ivr.accounts.service import AccountService
from ivr.hotline.db import Database
from tests.conftest import PG_URL, postgres_skip_reason

FAST_HASH = "pbkdf2:sha256:1000"   # tests that do not look at hashing use a cheap one
pg_unavailable = postgres_skip_reason   # None if PostgreSQL answers, else why not


class PgSchema:
    """A throw-away schema; ``url`` points a Database at it through search_path."""

    def __init__(self):
        self.name = f"acct_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
        sep = "&" if "?" in PG_URL else "?"
        self.url = f"{PG_URL}{sep}options=-csearch_path%3D{self.name}"

    def drop(self):
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    """A Database with the account tables, empty."""
    schema = None
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'accounts.sqlite3'}")
    else:
        reason = pg_unavailable()
        if reason:
            pytest.skip(reason)
        schema = PgSchema()
        db = Database(schema.url)
    AccountsBase.metadata.create_all(db.engine)
    try:
        yield db
    finally:
        db.dispose()
        if schema:
            schema.drop()


class Clock:
    """A settable clock for the service (aware UTC)."""

    def __init__(self, start: dt.datetime):
        self.t = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self.t

    def advance(self, **kw) -> None:
        with self._lock:
            self.t += dt.timedelta(**kw)


@pytest.fixture
def clock():
    # 2026-11-25 10:00 in Beijing.
    return Clock(dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.timezone.utc))


@pytest.fixture
def make_service(database, clock):
    def make(**kw) -> AccountService:
        kw.setdefault("now", clock)
        kw.setdefault("hash_method", FAST_HASH)
        kw.setdefault("secret", "test-secret")
        return AccountService(database.Session, **kw)
    return make


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.fixture
def demo(database, service):
    """The demo accounts, seeded; returns {id_number: account_id}."""
    from ivr.accounts.seed import DEMO_ID_NUMBERS, seed_demo

    seed_demo(database.Session, hash_method=FAST_HASH)
    return service.account_ids(sorted(DEMO_ID_NUMBERS))
