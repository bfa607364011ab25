"""Database access: one SQLAlchemy engine per app; SQLite (WAL) by default, any URL otherwise."""
from __future__ import annotations

import orjson
from sqlalchemy import create_engine, event, inspect, make_url
from sqlalchemy.schema import CreateColumn
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ivr.hotline.tables import METADATA


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    # WAL lets several server processes read while one writes; busy_timeout waits instead of failing.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
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
        return engine
    connect_args = {}
    if not prepared_statements and make_url(url).get_driver_name() == "psycopg":
        connect_args["prepare_threshold"] = None
    # hide_parameters: errors (and so logs) never carry statement parameters: ID numbers, hashes.
    # pre-ping (one round trip per checkout) finds a connection the server dropped before a webhook does.
    pool.setdefault("pool_pre_ping", True)
    return create_engine(url, hide_parameters=True, connect_args=connect_args, **JSON_CODEC, **pool)


class Database:
    def __init__(self, url: str, pool: dict | None = None, prepared_statements: bool = True):
        self.url = url
        self.engine = make_engine(url, pool, prepared_statements)
        self.Session: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

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
        self.engine.dispose()
