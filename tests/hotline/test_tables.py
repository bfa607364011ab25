"""Every table is registered in one place (ivr/hotline/tables.py), and a fresh database gets them
all from Database.create_all, whatever modules were imported before."""
import importlib
import pkgutil
import subprocess
import sys

import sqlalchemy as sa

import ivr
from ivr.hotline.db import Database
from ivr.hotline.tables import METADATA


def _every_table_declared() -> set[str]:
    """Import every ivr module (the softphone's too) and collect the tables their bases hold."""
    for info in pkgutil.walk_packages(ivr.__path__, "ivr."):
        if info.name.endswith("_worker"):
            continue   # the TTS worker process's entry point
        importlib.import_module(info.name)
    from sqlalchemy.orm import DeclarativeBase

    tables: set[str] = set()
    pending = list(DeclarativeBase.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("ivr.") and "metadata" in cls.__dict__:
            tables |= set(cls.metadata.tables)
    return tables


def test_the_registry_holds_every_declared_table():
    registered = {name for metadata in METADATA for name in metadata.tables}
    assert _every_table_declared() == registered
    assert {"calls", "voicemails", "flow_versions", "flow_current", "request_limits", "phone_calls",
            "accounts", "spending_records"} <= registered


def test_create_all_makes_every_table_on_a_fresh_database(tmp_path):
    # A new interpreter that imports only the database module: nothing else registers tables.
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    code = ("import sys; from ivr.hotline.db import Database; d = Database(sys.argv[1]); "
            "d.create_all(); d.dispose()")
    subprocess.run([sys.executable, "-c", code, url], check=True, timeout=60)
    engine = sa.create_engine(url)
    try:
        names = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert names == {name for metadata in METADATA for name in metadata.tables}


def test_an_old_database_gets_the_new_nullable_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:   # the calls table as an early version made it
        conn.exec_driver_sql("CREATE TABLE calls (call_sid VARCHAR(64) PRIMARY KEY, state JSON)")
    engine.dispose()
    db = Database(url)
    try:
        db.create_all()
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("calls")}
    finally:
        db.dispose()
    assert {"menu_version", "ended_at", "error_code"} <= columns
