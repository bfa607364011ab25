"""Database access: one SQLAlchemy engine per app; SQLite (WAL) by default, any URL otherwise."""
from __future__ import annotations

import logging
import os
import sqlite3
import time
import weakref
from contextlib import contextmanager

import orjson
from sqlalchemy import create_engine, event, inspect, make_url
from sqlalchemy.schema import CreateColumn
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ivr.accounts.sql import rollback_open
from ivr.accounts.sqlite_lock import BUSY_TIMEOUT_MS, hold_writes_for, make_quick, restore_on_checkin
from ivr.hotline.tables import METADATA


# SQLite's own checkpoint (after a commit that leaves the WAL at least this many pages long) is a
# backstop here: the call-state saves checkpoint first (CHECKPOINT_EVERY, checkpoint_sqlite).
AUTOCHECKPOINT_PAGES = 10_000
# Call-state saves (committed) of one process between two checkpoints of its own: each writes ~3
# WAL pages, so a few server processes keep the WAL well under AUTOCHECKPOINT_PAGES.
CHECKPOINT_EVERY = 300


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    # WAL lets several server processes read while one writes; busy_timeout waits instead of failing.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cur.close()


def checkpoint_sqlite(dbapi_conn, quick: bool = False) -> tuple[int, int, int]:
    """Copy the WAL into the database file and start the WAL over, if that can be done without
    waiting: ``wal_checkpoint(RESTART)`` with no busy timeout. Returns SQLite's (busy, WAL pages,
    pages copied); busy 1: a reader or writer was in the way, try again at the next one.

    Why not SQLite's automatic checkpoint: it is a PASSIVE one after any commit that finds the WAL
    over its limit, and a passive checkpoint never starts the WAL over. With two server processes
    writing, one of them is nearly always reading or writing when the other checkpoints, so the
    WAL stayed over the limit and every commit checkpointed again: two fsyncs for a few pages, a
    commit 6x dearer, two processes 2x the CPU per webhook of one (docs/hotpath.md, round 9).
    A RESTART that would wait holds the write lock meanwhile (every save stalls behind a slow
    reader); one that does not wait fails now and then, and the next one succeeds.

    Never raises (the save before it is committed; the next checkpoint tries again): an error is
    logged and returned as busy. ``quick``: the connection runs with busy_timeout 0 already."""
    cur = dbapi_conn.cursor()
    try:
        if not quick:
            cur.execute("PRAGMA busy_timeout=0")
        try:
            return tuple(cur.execute("PRAGMA wal_checkpoint(RESTART)").fetchone())
        finally:
            if not quick:
                cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        logging.getLogger("ivr").warning("WAL checkpoint failed (%s); the next one tries again", type(exc).__name__)
        return (1, -1, -1)
    finally:
        cur.close()


# Pool settings (IVR_DB_POOL_SIZE, IVR_DB_MAX_OVERFLOW, IVR_DB_POOL_TIMEOUT, IVR_DB_POOL_RECYCLE,
# IVR_DB_PRE_PING) -> create_engine arguments. A webhook in flight holds one pooled connection (its
# own, which the account service shares), so a sync worker needs 1; threads or the softphone more.
POOL_SETTINGS = {"DB_POOL_SIZE": "pool_size", "DB_MAX_OVERFLOW": "max_overflow",
                 "DB_POOL_TIMEOUT": "pool_timeout", "DB_POOL_RECYCLE": "pool_recycle"}


def pool_options(config) -> dict:
    """create_engine's pool arguments from the IVR_DB_* settings that are set."""
    options = {arg: config[name] for name, arg in POOL_SETTINGS.items() if config.get(name) is not None}
    if config.get("DB_PRE_PING") is not None:
        options["pool_pre_ping"] = bool(config["DB_PRE_PING"])
    return options


def json_dumps(value) -> str:
    """JSON columns (the call state on every webhook) through orjson: several times json's speed;
    non-string keys become strings, as json.dumps makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


JSON_CODEC = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}


def make_engine(url: str, pool: dict | None = None, prepared_statements: bool = True) -> Engine:
    """``pool``: create_engine's pool arguments (``pool_options``). ``prepared_statements=False``:
    psycopg never prepares a statement on the server (it does after 5 runs of one by default).
    Needed behind pgbouncer in transaction mode before pgbouncer 1.21 (or without its
    max_prepared_statements): a prepared statement lives on one server connection, and the next
    transaction may run on another (``IVR_DATABASE_PREPARED_STATEMENTS=false``)."""
    pool = dict(pool or {})
    if url.startswith("sqlite"):
        pool.pop("pool_pre_ping", None)   # a file: nothing to ping
        if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
            pool = {}                      # one in-memory database per connection: no pool to size
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True,
                               **JSON_CODEC, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Webhook connections run with busy_timeout 0 and take the write lock themselves
        # (ivr.accounts.sqlite_lock); back in the pool, a connection waits as usual again.
        event.listen(engine, "checkin", restore_on_checkin)
        event.listen(engine, "before_cursor_execute", hold_writes_for)
        return engine
    connect_args = {}
    if not prepared_statements and make_url(url).get_driver_name() == "psycopg":
        connect_args["prepare_threshold"] = None
    # hide_parameters: errors (and so logs) never carry statement parameters: ID numbers, hashes.
    # pre-ping (one round trip per checkout) finds a connection the server dropped before a webhook does.
    pool.setdefault("pool_pre_ping", True)
    return create_engine(url, hide_parameters=True, connect_args=connect_args, **JSON_CODEC, **pool)


# Connections kept open between webhooks, at most this many per process (a sync worker uses one; a
# threaded server one per busy thread, the rest come from the pool as before).
KEEP_CONNECTIONS = 4
_KEEPING: "weakref.WeakSet[Database]" = weakref.WeakSet()


_PARENTS: list = []


def _forget_kept_after_fork() -> None:
    # A forked child never uses, returns to a pool or closes its parent's connections: a SQLite
    # connection's locks belong to the process that opened it (SQLite's "how to corrupt" page,
    # section 2.6), a server connection's socket would be shared by two processes.
    for db in list(_KEEPING):
        db.forget_connections()


os.register_at_fork(after_in_child=_forget_kept_after_fork)


class Database:
    def __init__(self, url: str, pool: dict | None = None, prepared_statements: bool = True):
        self.url = url
        self.engine = make_engine(url, pool, prepared_statements)
        self.Session: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        # Webhook connections stay open between webhooks (connection()), except an in-memory
        # SQLite database's: one per thread (SingletonThreadPool), so it takes from its pool.
        sqlite = self.engine.dialect.name == "sqlite"
        self._keep = not sqlite or self.engine.url.database not in (None, "", ":memory:")
        self._server = not sqlite
        self._quick = sqlite and self._keep   # kept SQLite connections: ivr.accounts.sqlite_lock
        recycle = (pool or {}).get("pool_recycle")
        self._recycle = -1.0 if recycle is None else float(recycle)
        self._kept: list = []
        if self._keep:
            _KEEPING.add(self)

    @contextmanager
    def connection(self, first=None):
        """A connection for one webhook's work and what ``first(conn)`` returned: the webhook's
        first statements (its own setup included; the caller commits). Whatever it leaves
        uncommitted is rolled back on the way out.

        The process keeps the connection open for the next webhook instead of returning it to the
        pool: a pool checkout and check-in (events, reset-on-return, the Connection wrapper, and on
        a database server the pre-ping's round trip) cost about a tenth of a navigation webhook
        (docs/hotpath.md, round 5). Nothing is held between webhooks: no transaction stays open,
        so no lock either. On a database server ``first`` stands in for the pre-ping: when a kept
        connection turns out dropped (a restart, a proxy, an idle timeout), it is discarded and
        ``first`` runs again on a fresh, pinged one, so no caller hears the apology for it.
        ``IVR_DB_POOL_RECYCLE`` bounds a kept connection's age too."""
        kept = self._kept
        try:
            conn = kept.pop()
        except IndexError:
            conn = self._fresh()
            was_kept = False
        else:
            was_kept = True
        try:
            result = first(conn) if first is not None else None
        except Exception as exc:
            if not (was_kept and self._server and self._dropped(conn, exc)):
                self._give_back(conn)
                raise
            conn.invalidate()
            conn.close()
            conn = self._fresh()
            try:
                result = first(conn)
            except Exception:
                self._give_back(conn)
                raise
        try:
            yield conn, result
        finally:
            self._give_back(conn)

    def _fresh(self):
        conn = self.engine.connect()
        conn.info.setdefault("ivr_opened", time.monotonic())   # the DB-API connection's age
        if self._quick:   # no PRAGMA pair around each save's BEGIN IMMEDIATE (round 10)
            make_quick(conn.connection.dbapi_connection, conn.info)
        return conn

    def _dropped(self, conn, exc: Exception) -> bool:
        """Whether ``exc`` says the server connection is gone (SQLAlchemy's own test, the one
        behind its pre-ping and invalidation)."""
        from sqlalchemy.exc import DBAPIError

        if isinstance(exc, DBAPIError):
            return bool(exc.connection_invalidated) or self._dropped(conn, exc.orig)
        dialect = self.engine.dialect
        try:
            return isinstance(exc, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
                exc, conn.connection.dbapi_connection, None)
        except Exception:   # a connection too broken to ask: dropped
            return True

    def _give_back(self, conn) -> None:
        try:
            rollback_open(conn)
        except Exception:   # a connection that cannot roll back is not kept
            conn.invalidate()
        keep = self._keep and not conn.closed and not conn.invalidated and len(self._kept) < KEEP_CONNECTIONS
        if keep and self._recycle >= 0:
            keep = time.monotonic() - conn.info.get("ivr_opened", 0) <= self._recycle
        if keep:
            self._kept.append(conn)
        else:
            conn.close()

    @property
    def kept_connections(self) -> int:
        """Connections open between webhooks (``connection()``)."""
        return len(self._kept)

    def forget_connections(self) -> None:
        """In a forked worker: drop the connections the parent opened, without closing them (they
        are the parent's). Held for good (a collected one would go back to the pool, for the child
        to take), and the engine gets a new pool, as SQLAlchemy's pooling docs advise after a fork."""
        _PARENTS.extend(self._kept)
        self._kept = []
        self.engine.dispose(close=False)

    @classmethod
    def from_config(cls, config) -> "Database":
        """The database the settings name (IVR_DATABASE_URL, IVR_DB_* pool settings,
        IVR_DATABASE_PREPARED_STATEMENTS)."""
        return cls(config["DATABASE_URL"], pool_options(config),
                   prepared_statements=config.get("DATABASE_PREPARED_STATEMENTS", True))

    def create_all(self) -> None:
        """Create the tables that are missing: every table ``ivr.hotline.tables`` registers."""
        for metadata in METADATA:
            metadata.create_all(self.engine)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A database made by an older version lacks columns added since (create_all makes only
        missing tables): add those that may be empty (nullable, or with a server default)."""
        existing = inspect(self.engine)
        for table in (t for metadata in METADATA for t in metadata.sorted_tables):
            if not existing.has_table(table.name):
                continue
            have = {c["name"] for c in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name in have or not (column.nullable or column.server_default is not None):
                    continue
                spec = CreateColumn(column).compile(dialect=self.engine.dialect)
                with self.engine.begin() as conn:
                    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {spec}")

    def dispose(self) -> None:
        kept, self._kept = self._kept, []
        for conn in kept:
            conn.close()
        self.engine.dispose()
