"""IVR_DATABASE_PREPARED_STATEMENTS: the hotline behind pgbouncer in transaction mode (issue 17).

psycopg prepares a statement on the server after 5 runs of it. Behind pgbouncer in transaction
mode the next transaction may run on another server connection, where that statement does not
exist (or, worse, another one of the same name does): "prepared statement "_pg3_0" already exists".
With IVR_DATABASE_PREPARED_STATEMENTS=false psycopg prepares nothing and every webhook works.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from ivr.config import ConfigError, read_config
from ivr.hotline.db import Database
from tests.conftest import PG_URL, make_app, postgres_skip_reason
from tests.servers import free_port
from tests.twiml import Caller

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def test_the_setting_is_read_as_on_or_off(monkeypatch, tmp_path):
    assert read_config(instance_path=str(tmp_path))["DATABASE_PREPARED_STATEMENTS"] is True
    monkeypatch.setenv("IVR_DATABASE_PREPARED_STATEMENTS", "false")
    assert read_config(instance_path=str(tmp_path))["DATABASE_PREPARED_STATEMENTS"] is False
    monkeypatch.setenv("IVR_DATABASE_PREPARED_STATEMENTS", "sometimes")
    with pytest.raises(ConfigError, match="IVR_DATABASE_PREPARED_STATEMENTS must be true or false"):
        read_config(instance_path=str(tmp_path))


def test_sqlite_ignores_it(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}", prepared_statements=False)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("select 1").scalar() == 1
    db.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("prepared, threshold", [(True, 5), (False, None)])
def test_psycopg_gets_it(pg_schema_url, prepared, threshold):
    db = Database(pg_schema_url, prepared_statements=prepared)
    with db.engine.connect() as conn:
        assert conn.connection.dbapi_connection.prepare_threshold == threshold
    db.dispose()


@pytest.fixture
def bounced_url():
    """A fresh database on the test PostgreSQL, reached through pgbouncer in transaction mode on a
    free loopback port; both removed afterwards."""
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    if not Path(PGBOUNCER).exists():
        pytest.skip("pgbouncer is not installed")
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    pg = make_url(PG_URL)
    port = free_port()
    # pgbouncer will not run as root: then it runs as postgres, in a folder that user may enter
    folder = Path(tempfile.mkdtemp(prefix="ivr-test-pgbouncer-"))
    user = pg.username or "postgres"
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n* = host={pg.host or '127.0.0.1'} port={pg.port or 5432}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\npool_mode = transaction\n"
        f"default_pool_size = 4\nlogfile = {folder / 'pgbouncer.log'}\n")
    cmd = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        for path in (folder, *folder.iterdir()):
            shutil.chown(path, "postgres")
        cmd[1:1] = ["-u", "postgres"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        import socket

        while True:
            assert proc.poll() is None, (folder / "pgbouncer.log").read_text() if (folder / "pgbouncer.log").exists() else ""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "pgbouncer did not listen"
                time.sleep(0.1)
        yield pg.set(host="127.0.0.1", port=port, database=name).render_as_string(hide_password=False)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_calls_work_behind_pgbouncer_in_transaction_mode(tmp_path, bounced_url):
    app = make_app(tmp_path, DATABASE_URL=bounced_url, DATABASE_PREPARED_STATEMENTS=False)
    client = app.test_client()
    # what each key's menu says, in its long (first visit) and short (again) prompt alike
    menus = {"2": "bureau, press 1", "3": "wechat, press 1", "4": "article 4", "*": "account, press 1"}
    for _ in range(3):   # far more than 5 runs of each statement, over 4 server connections
        caller = Caller(client)
        caller.dial()
        assert "For your personal account" in caller.press("2").heard
        for key in ("2", "*", "3", "*", "4", "*") * 2:
            heard = caller.press(key).heard
            assert menus[key] in heard.lower(), heard
    app.extensions["ivr_db"].dispose()
