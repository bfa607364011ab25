"""SQLite's write lock, taken without SQLite's busy handler (issue 17, rounds 5, 8 and 10).

A server process's call-state saves take the lock with ``BEGIN IMMEDIATE`` and ``busy_timeout`` 0,
retried at once a few times (yielding the core), then in short pauses: SQLite's own busy handler
sleeps a whole millisecond at its first retry while a save holds the lock for some tens of
microseconds. A webhook's connection, kept open between webhooks (``ivr.hotline.db.Database``),
runs with ``busy_timeout`` 0 for good (``QUICK_LOCK`` in its info), so a save costs no PRAGMA pair
around its ``BEGIN IMMEDIATE``; every write on such a connection takes the lock here first
(``ivr.accounts.sql.Prepared`` for statements on the cursor, ``hold_writes_for`` for SQLAlchemy's),
and the connection gets the 5 s ``busy_timeout`` back when it returns to the pool. Reads on such a
connection do not wait either: in WAL mode SQLite refuses a read only while another connection
recovers the database after a crash, which ``ivr serve``'s master does before its workers start.
"""
from __future__ import annotations

import os
import sqlite3
import time

BUSY_TIMEOUT_MS = 5000
# In a webhook connection's ``info``: it runs with busy_timeout 0 (see above).
QUICK_LOCK = "ivr_quick_lock"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


# Attempts made at once (yielding the core in between) before the first pause: a call-state save
# holds the lock ~40-70 us, and a pause is never that short on a busy or virtual machine (a 20 us
# sleep took ~100 us here, a wake-up whose own CPU cost more than the retries; docs/hotpath.md,
# round 8). A failed attempt costs a few microseconds.
SPINS = 25


def begin_sqlite_write(dbapi_conn, timeout: float = BUSY_TIMEOUT_MS / 1000, *, clock=time.monotonic,
                       sleep=time.sleep, yield_=getattr(os, "sched_yield", lambda: None), quick: bool = False) -> None:
    """BEGIN IMMEDIATE on a SQLite connection with no transaction open: the write lock, waited for
    in short pauses while another process holds it, given up after ``timeout`` seconds ("database
    is locked", as ``busy_timeout`` gives up).

    Why not ``busy_timeout``: SQLite's busy handler sleeps a whole millisecond at its first retry
    (then 2, 5, 10 ...), while a call-state save holds the lock for some tens of microseconds; with
    two server processes about one webhook in ten slept that millisecond (docs/hotpath.md, round 5).
    Here the first ``SPINS`` retries come at once, each after ``yield_()`` (the other writer may be
    waiting for this core), then pauses start at 20 us and double up to 1 ms. ``quick``: the
    connection runs with busy_timeout 0 already (``QUICK_LOCK``), so it is not set and restored."""
    cur = dbapi_conn.cursor()
    try:
        if not quick:
            cur.execute("PRAGMA busy_timeout=0")
        try:
            pause, deadline, spins = 20e-6, None, SPINS
            while True:
                try:
                    cur.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if getattr(exc, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF != sqlite3.SQLITE_BUSY:
                        raise
                    now = clock()
                    if deadline is None:
                        deadline = now + timeout
                    elif now >= deadline:
                        raise
                    if spins:
                        spins -= 1
                        yield_()
                        continue
                    sleep(pause)
                    pause = min(pause * 2, 1e-3)
        finally:
            if not quick:
                cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cur.close()


def make_quick(dbapi_conn, info: dict) -> None:
    """Run this connection with busy_timeout 0 from now on (a kept webhook connection)."""
    dbapi_conn.execute("PRAGMA busy_timeout=0")
    info[QUICK_LOCK] = True


def restore_on_checkin(dbapi_conn, record) -> None:
    """Pool ``checkin`` event: a quick connection gets the 5 s busy_timeout back as it returns to
    the pool, where code that does not take the lock itself (the dashboard, the CLI) finds it."""
    if record is not None and record.info.pop(QUICK_LOCK, False):
        try:
            dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error:   # a broken connection: the pool discards it
            pass


def hold_writes_for(conn, cursor, statement, parameters, context, executemany) -> None:
    """``before_cursor_execute`` on SQLite engines: a write SQLAlchemy runs on a quick connection
    (the ORM's flush of a voicemail, a statement SQLAlchemy must expand) takes the lock here first,
    as a deferred transaction's write would otherwise fail at once on a taken lock."""
    if statement.lstrip()[:7].upper().startswith(_WRITES) and conn.info.get(QUICK_LOCK):
        dbapi = conn.connection.dbapi_connection
        if not dbapi.in_transaction:
            begin_sqlite_write(dbapi, quick=True)
