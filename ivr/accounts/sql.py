"""Core statements compiled once per dialect and run straight on the DB-API cursor.

On the hot path (a webhook's call-state load and save, a login's counters, a balance) SQLAlchemy's
execution around a one-row indexed statement cost more than the statement: compiled-cache lookup,
execution context, parameter construction, result metadata (issue 17). :class:`Prepared` keeps what
that work produces for a statement built once at import time: its SQL, its parameters' order and
bind processors, its columns' result processors. Values go through the column types' own bind and
result processors, so what is stored and read is exactly what SQLAlchemy would store and read.

The statement runs on the caller's connection (``conn.connection``, inside its transaction): the
caller commits. Statements whose parameters SQLAlchemy expands at execution time (``IN`` lists,
literal-execute parameters) and databases other than SQLite and PostgreSQL are left to SQLAlchemy:
:func:`execute` falls back to ``conn.execute``, whose result answers the same methods.
"""
from __future__ import annotations

from collections import namedtuple

from ivr.accounts.sqlite_lock import QUICK_LOCK, begin_sqlite_write

_DIALECTS = ("sqlite", "postgresql")


class Prepared:
    """One statement compiled for one dialect (``column_keys``: the columns an INSERT binds)."""

    def __init__(self, stmt, dialect, column_keys=None, compiled=None):
        compiled = compiled or stmt.compile(dialect=dialect, column_keys=column_keys)
        self.stmt = stmt   # kept alive: :meth:`get` caches by its id
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        self.names = tuple(compiled.positiontup if self.positional else compiled.binds)
        # Parameters the statement fills itself (a literal, a LIMIT's OFFSET 0): their own values.
        self.defaults = {name: b.effective_value for name, b in compiled.binds.items() if not b.required}
        active = []
        for i, name in enumerate(self.names):
            impl = compiled.binds[name].type.dialect_impl(dialect)
            process = impl.bind_processor(dialect)
            if process is not None:
                active.append((i, repr(impl), process))
        self.active = tuple(active)
        columns = list(stmt.exported_columns) if getattr(stmt, "exported_columns", None) is not None else []
        self.processors = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        self.plain = not any(self.processors)
        # A write on SQLite: on a webhook's connection it takes the lock itself (sqlite_lock).
        self.writes = dialect.name == "sqlite" and bool(compiled.isinsert or compiled.isupdate or compiled.isdelete)
        self.row = namedtuple("Row", [c.key for c in columns], rename=True) if columns else None

    # -- building ---------------------------------------------------------------------------------

    _made: dict = {}

    @classmethod
    def get(cls, stmt, dialect) -> "Prepared | None":
        """The statement prepared for ``dialect`` (made once), or None when SQLAlchemy must run it."""
        key = (id(stmt), dialect)
        made = cls._made.get(key, False)
        if made is False:
            made = cls._made[key] = cls._make(stmt, dialect)
        return made

    @classmethod
    def _make(cls, stmt, dialect) -> "Prepared | None":
        if dialect.name not in _DIALECTS:
            return None
        compiled = stmt.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params or any(
                b.expanding for b in compiled.binds.values()):
            return None
        return cls(stmt, dialect, compiled=compiled)

    # -- running ----------------------------------------------------------------------------------

    def params(self, values: dict):
        """DB-API parameters from ``values`` (by bind name; the statement's own values fill the
        rest), through the bind processors; a value given for several columns of one type (a
        timestamp) is processed once."""
        defaults = self.defaults
        out = [values[name] if name in values else defaults[name] for name in self.names]
        done: dict = {}
        for i, kind, process in self.active:
            value = out[i]
            if value is not None:
                key = (kind, id(value))
                if key not in done:
                    done[key] = process(value)
                out[i] = done[key]
        return tuple(out) if self.positional else dict(zip(self.names, out))

    def run(self, conn, values: dict, params=None) -> "Rows":
        """Execute on ``conn`` (a Core Connection) in its transaction; the rows are fetched.
        ``params``: what :meth:`params` made of the values beforehand (the call-state save builds
        them before it takes SQLite's write lock)."""
        dbapi = conn.connection.dbapi_connection
        if self.writes and not dbapi.in_transaction and conn.info.get(QUICK_LOCK):
            begin_sqlite_write(dbapi, quick=True)
        cursor = dbapi.cursor()
        try:
            cursor.execute(self.sql, self.params(values) if params is None else params)
            rows = cursor.fetchall() if cursor.description is not None else []
            count = cursor.rowcount
        finally:
            cursor.close()
        if self.row is None:
            return Rows([], count)
        make = self.row._make
        if self.plain:
            return Rows([make(r) for r in rows], count)
        procs = self.processors
        return Rows([make(v if p is None or v is None else p(v) for p, v in zip(procs, r)) for r in rows], count)

    def value(self, conn, values: dict):
        """The first column of the first row (through its result processor), or None: what
        ``run(..).first()[0]`` gives, without building rows (the call-state load on every webhook)."""
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, self.params(values))
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None or row[0] is None:
            return None
        process = self.processors[0]
        return row[0] if process is None else process(row[0])


class Rows:
    """The fetched rows (named tuples) and row count of a :class:`Prepared` run: the few methods of
    SQLAlchemy's ``Result`` the callers use, with its meanings."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list, rowcount: int):
        self.rows, self.rowcount = rows, rowcount

    def all(self) -> list:
        return self.rows

    def first(self):
        return self.rows[0] if self.rows else None

    def one(self):
        if len(self.rows) != 1:
            from sqlalchemy.exc import MultipleResultsFound, NoResultFound

            raise (NoResultFound if not self.rows else MultipleResultsFound)(
                f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def scalar_one(self):
        return self.one()[0]

    def scalar_one_or_none(self):
        if not self.rows:
            return None
        return self.one()[0]


def execute(conn, stmt, params: dict | None = None):
    """``conn.execute(stmt, params)`` for a statement built once (module level): prepared on the
    cursor where it can be, else through SQLAlchemy. Either answer has ``first``, ``one``,
    ``scalar_one``, ``scalar_one_or_none``, ``all`` and ``rowcount``."""
    prepared = Prepared.get(stmt, conn.dialect)
    if prepared is None:
        return conn.execute(stmt, params or {})
    return prepared.run(conn, params or {})


def driver_in_transaction(conn) -> bool:
    """Whether ``conn`` (a Core Connection) has a transaction open that SQLAlchemy did not begin:
    statements run on the DB-API cursor (``ivr.accounts.sql``) open the driver's own."""
    if conn.in_transaction() or conn.closed or conn.invalidated:
        return False
    dbapi = conn.connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", False))


def commit_open(conn) -> None:
    """Commit what is open on ``conn``: SQLAlchemy's transaction, or else the driver's own."""
    if conn.in_transaction():
        conn.commit()
    elif driver_in_transaction(conn):
        conn.connection.dbapi_connection.commit()


def rollback_open(conn) -> None:
    """Roll back what is open on ``conn`` (see :func:`commit_open`)."""
    if conn.in_transaction():
        conn.rollback()
    elif driver_in_transaction(conn):
        conn.connection.dbapi_connection.rollback()
