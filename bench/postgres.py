"""The hotline on PostgreSQL: next to the same code on SQLite, behind pgbouncer, and on two servers.

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust authentication, as the tests use) and,
for the pgbouncer rows, Debian's pgbouncer (``apt-get install pgbouncer``). Everything is made for
the run and removed after it: a fresh database ``ivr_bench_<random>`` (dropped at the end), a
pgbouncer on a free loopback port from a temporary configuration (transaction pooling, stopped by
its process id).

1. Navigation (and lookups) over HTTP, interleaved in each round and at each concurrency: the
   ceiling, the hotline on SQLite, the same code on PostgreSQL (also under ``--server
   gunicorn-gthread``, and with asynchronous commit), and on PostgreSQL through pgbouncer in
   transaction mode; every ``ivr serve`` with 2 workers (gunicorn sync unless said); ratios to SQLite
   of the same round (issue 17: PostgreSQL >= 0.5x SQLite). Connection use: the connections each worker
   holds after the load (the pool keeps what it needed at once), from ``ss``.
2. Two servers, one PostgreSQL: two ``ivr serve`` processes on different ports, every call's
   webhooks alternating between them (the first to server A, the next to B, ...), from a Python
   load (threads, each owning its calls, so a call never has two webhooks in flight); every answer
   is checked to be the menu its key leads to, and each call's stored step counter must equal the
   webhooks sent to it. Baseline in the same run: the same load against one server with the same
   number of workers in total.

Run alone: .venv/bin/python bench/postgres.py [--seconds 4 --rounds 2 --concurrency 1,10,50]
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (body, ceiling_cmd, free_port, hotline_cmd, remove_scratch_at_exit, scratch_dir,  # noqa: E402
                    server, wait_for_port, write_requests, wrk)
from hotline_setup import (LOOKUP_KEYS, NAV_KEYS, BenchHotline, calls_needed, check_answer,  # noqa: E402
                           request_lines)
from http_bench import count_failures  # noqa: E402

PG_ADMIN_URL = os.environ.get("IVR_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# The answer each navigation key leads to (a prompt id in the <Play> URL, or its text in <Say>).
EXPECT = {"2": "apply_menu", "3": "check_menu", "4": "law_menu", "*": "main_menu"}
# Settings of the hotline behind pgbouncer in transaction mode: psycopg must not prepare statements
# (a prepared statement lives on one server connection; the next transaction may get another).
PGBOUNCER_ENV = {"IVR_DATABASE_PREPARED_STATEMENTS": "false"}
# PostgreSQL commits without waiting for the WAL flush (libpq options in the URL; the same as
# ALTER DATABASE ... SET synchronous_commit = off): the durability SQLite has in WAL mode with
# synchronous=NORMAL, the hotline's SQLite settings (see docs/deploy.md).
ASYNC_COMMIT = "options=-csynchronous_commit%3Doff"
BOUNCER_POOL = 10   # pgbouncer's server connections to PostgreSQL (default_pool_size)
DBS = ("sqlite", "postgresql", "postgresql gthread", "postgresql async commit", "pgbouncer")


def pg_reason() -> str | None:
    """None when PostgreSQL answers, else why not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + name).geturl()


@contextmanager
def scratch_database(prefix: str = "ivr_bench_"):
    """A new, empty database on the benchmark's PostgreSQL; dropped (connections and all) after."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(PG_ADMIN_URL, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Bouncer:
    def __init__(self, url: str, pid: int):
        self.url, self.pid = url, pid


@contextmanager
def pgbouncer(workdir: Path, database_url: str, pool_size: int = 10, mode: str = "transaction"):
    """pgbouncer on a free loopback port in front of ``database_url``'s server, from a temporary
    configuration; yields a Bouncer: the URL of the same database through it, and its process id. pgbouncer refuses to run as root,
    so as root it is started with ``-u postgres`` (its own folder, outside the scratch folder that
    only root may enter, is handed to that user and removed after)."""
    import tempfile

    parts = urlsplit(database_url)
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="ivr-pgbouncer-"))
    user = parts.username or "postgres"
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={parts.hostname} port={parts.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'userlist.txt'}\n"
        f"pool_mode = {mode}\ndefault_pool_size = {pool_size}\nmax_client_conn = 500\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
        "admin_users = " + user + "\n")
    cmd = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        for f in folder.iterdir():
            shutil.chown(f, "postgres")
        cmd[1:1] = ["-u", "postgres"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        try:
            wait_for_port(port, proc, timeout=15)
        except RuntimeError:
            log = folder / "pgbouncer.log"
            raise RuntimeError("pgbouncer did not start: " + (log.read_text()[-1000:] if log.exists() else "no log"))
        yield Bouncer(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{port}").geturl(), proc.pid)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)     # pgbouncer: SIGINT is a safe shutdown
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log = folder / "pgbouncer.log"
        if log.exists():
            shutil.copy(log, workdir / "pgbouncer.log")
        shutil.rmtree(folder, ignore_errors=True)


def pgbouncer_version() -> str:
    try:
        out = subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def connections_by_process(port: int, pids: list[int]) -> dict[int, int]:
    """Established TCP connections from each of ``pids`` to 127.0.0.1:``port`` (``ss -tnp``)."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( dport = :{port} )"], capture_output=True,
                         text=True).stdout
    counts = {pid: 0 for pid in pids}
    for pid in re.findall(r"pid=(\d+)", out):
        if int(pid) in counts:
            counts[int(pid)] += 1
    return counts


def pg_version() -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL)
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    return f"PostgreSQL {version.split()[0]}"


def pg_backends(database: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"), {"d": database}).scalar()
    engine.dispose()
    return int(n)


# -- 1. SQLite, PostgreSQL, PostgreSQL through pgbouncer ------------------------------------------

def run_compare(concurrencies, seconds: float, rounds: int, workdir: Path, accounts: int, pg_url: str,
                bouncer: Bouncer | None, progress=print) -> dict:
    import random

    rng = random.Random(17)
    env = {"XDG_RUNTIME_DIR": str(workdir)}
    hotlines = {"sqlite": BenchHotline(workdir / "sqlite", accounts=accounts),
                "postgresql": BenchHotline(workdir / "pg", accounts=accounts, database_url=pg_url)}
    for h in hotlines.values():
        h.workdir.mkdir(exist_ok=True)
        h.prepare()
    targets, logs, serving = {}, {}, {}
    runs: list[dict] = []
    connections: dict[str, dict] = {}
    with ExitStack() as stack:
        port = free_port()
        ceiling = stack.enter_context(server("ceiling", ceiling_cmd(port), port, env))
        for name, h in hotlines.items():
            port = free_port()
            logs[name] = workdir / f"pg-{name}.log"
            targets[name] = stack.enter_context(h.serve(port, log=logs[name]))
            serving[name] = h
        # name: (settings, ivr serve options) of the same PostgreSQL database
        variants = {"postgresql gthread": ({}, ["--server", "gunicorn-gthread"]),
                    "postgresql async commit": ({"IVR_DATABASE_URL": f"{pg_url}?{ASYNC_COMMIT}"}, [])}
        if bouncer:
            variants["pgbouncer"] = ({"IVR_DATABASE_URL": bouncer.url, **PGBOUNCER_ENV}, [])
        for name, (extra, options) in variants.items():
            port = free_port()
            logs[name] = workdir / f"pg-{name.replace(' ', '-')}.log"
            targets[name] = stack.enter_context(hotlines["postgresql"].serve(
                port, log=logs[name], env=extra, cmd=hotline_cmd(port) + options))
            serving[name] = hotlines["postgresql"]
        templates = {}
        for name, target in targets.items():
            h = serving[name]
            warm = write_requests(workdir / f"pg-warm-{name[:4]}.txt", request_lines(h.new_calls(target.url, 20, "w"), NAV_KEYS))
            wrk(target.url, warm, 10, 1)
            if name in hotlines:
                templates[name] = f"CAtemplate{rng.getrandbits(48):012x}"
                h.login(target.url, templates[name])
        warm = workdir / "pg-warm-sqli.txt"
        wrk(ceiling.url, warm, 10, 1)
        failed_before = {name: count_failures(log) for name, log in logs.items()}
        for rnd in range(rounds):
            for c in concurrencies:
                base = wrk(ceiling.url, warm, c, seconds)
                runs.append({"app": "ceiling", "db": "-", "round": rnd, **base})
                line = [f"ceiling {base['rps']:.0f}"]
                for app, keys in (("navigation", NAV_KEYS), ("lookup", LOOKUP_KEYS)):
                    for name, target in targets.items():
                        h = serving[name]
                        tag = f"{app[0]}{DBS.index(name)}r{rnd}c{c}"
                        count = calls_needed(2500 * seconds)
                        sids = (h.new_calls(target.url, count, tag) if app == "navigation" else
                                h.clone_logged_in(templates["sqlite" if name == "sqlite" else "postgresql"], count,
                                                  tag, rng))
                        before = h.check_calls(sids)
                        reqs = write_requests(workdir / f"pg-{DBS.index(name)}.txt", request_lines(sids, keys))
                        result = wrk(target.url, reqs, c, seconds)
                        after = h.check_calls(sids)
                        result.update(steps_saved=after["steps"] - before["steps"], bad_calls=after["bad_calls"])
                        if app == "lookup":
                            check_answer(target.url, sids[0], "1", "Your medical insurance personal account balance is")
                        runs.append({"app": app, "db": name, "round": rnd, **result})
                        line.append(f"{app[:3]}/{name} {result['rps']:.0f}")
                progress(f"  postgres r{rnd} c={c}: " + "; ".join(line))
        pg_port = urlsplit(pg_url).port or 5432
        for name, target in targets.items():
            pids = target.worker_pids()
            port = pg_port if name != "pgbouncer" else urlsplit(bouncer.url).port
            if name != "sqlite":
                connections[name] = {"per_worker": list(connections_by_process(port, pids).values()), "port": port}
        if bouncer:
            connections["pgbouncer"]["server_side"] = connections_by_process(pg_port, [bouncer.pid])[bouncer.pid]
        failures = {name: count_failures(log) - failed_before[name] for name, log in logs.items()}
    return {"runs": runs, "summary": summarize(runs, concurrencies, rounds), "connections": connections,
            "webhook_failures": failures}


def summarize(runs: list[dict], concurrencies, rounds: int) -> dict:
    out = {}
    for c in concurrencies:
        row = {}
        for app in ("navigation", "lookup"):
            for db in DBS:
                mine = [r for r in runs if r["app"] == app and r["db"] == db and r["connections"] == c]
                if not mine:
                    continue
                x = {"rps": statistics.median(r["rps"] for r in mine),
                     "p50_ms": statistics.median(r["p50_ms"] for r in mine),
                     "p99_ms": statistics.median(r["p99_ms"] for r in mine),
                     "errors": sum(r["errors"] + r.get("bad_calls", 0) for r in mine),
                     "requests": sum(r["requests"] for r in mine),
                     "steps_saved": sum(r.get("steps_saved", 0) for r in mine)}
                for key, base_app, base_db in (("vs_sqlite", app, "sqlite"), ("vs_ceiling", "ceiling", "-")):
                    ratios = []
                    for rnd in range(rounds):
                        this = [r for r in mine if r["round"] == rnd]
                        base = [r for r in runs if (r["app"], r["db"], r["connections"], r["round"]) ==
                                (base_app, base_db, c, rnd)]
                        if this and base:
                            ratios.append(this[0]["rps"] / base[0]["rps"])
                    if ratios:
                        x[key] = statistics.median(ratios)
                row[f"{app} {db}"] = x
        out[str(c)] = row
    return out


# -- 2. two servers, one PostgreSQL -------------------------------------------------------------

class _Client:
    """One load thread: its own calls, one keep-alive HTTP connection per server (reopened when
    gunicorn closes it), every webhook of a call to the next server in turn."""

    def __init__(self, urls: list[str], sids: list[str], first: int = 0):
        self.conns = [http.client.HTTPConnection(urlsplit(u).hostname, urlsplit(u).port, timeout=30) for u in urls]
        self.sids = sids
        self.sent = {sid: 0 for sid in sids}
        # the server each call starts on: the calls' first webhooks spread over the servers too
        self.start = {sid: (first + i) % len(urls) for i, sid in enumerate(sids)}
        self.per_server = [0] * len(urls)
        self.latencies: list[float] = []
        self.wrong: list[str] = []

    def run(self, stop: threading.Event) -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"}
        step = 0
        while not stop.is_set():
            key = NAV_KEYS[step % len(NAV_KEYS)]
            for sid in self.sids:
                if stop.is_set():
                    return
                n = self.sent[sid]
                which = (self.start[sid] + n) % len(self.conns)
                conn = self.conns[which]
                t0 = time.perf_counter()
                try:
                    conn.request("POST", "/voice/input", body(sid, Digits=key), headers)
                    response = conn.getresponse()
                    text = response.read().decode("utf-8", "replace")
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    self.wrong.append(f"{sid} step {n}: {type(exc).__name__}")
                    return
                self.latencies.append(time.perf_counter() - t0)
                self.sent[sid] = n + 1
                self.per_server[which] += 1
                if response.status != 200 or EXPECT[key] not in text:
                    self.wrong.append(f"{sid} step {n} key {key} on server {which}: {response.status} {text[:200]}")
                    return
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            step += 1


def alternating_load(urls: list[str], sids: list[str], threads: int, seconds: float) -> dict:
    """Every call's webhooks alternate over ``urls``; returns throughput, latencies, checks."""
    share = [sids[i::threads] for i in range(threads)]
    clients = [_Client(urls, part, first=i) for i, part in enumerate(share)]
    stop = threading.Event()
    workers = [threading.Thread(target=c.run, args=(stop,)) for c in clients]
    t0 = time.perf_counter()
    for t in workers:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in workers:
        t.join(60)
    elapsed = time.perf_counter() - t0
    lat = sorted(x for c in clients for x in c.latencies)
    sent = {sid: n for c in clients for sid, n in c.sent.items()}
    total = sum(sent.values())
    return {"requests": total, "rps": round(total / elapsed, 1), "seconds": round(elapsed, 2),
            "p50_ms": lat[len(lat) // 2] * 1000 if lat else None,
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else None,
            "per_server": [sum(c.per_server[i] for c in clients) for i in range(len(urls))],
            "wrong": [w for c in clients for w in c.wrong][:10], "sent": sent, "threads": threads}


def run_two_servers(workdir: Path, pg_url: str, hotline: BenchHotline, seconds: float, rounds: int,
                    threads: int = 8, progress=print) -> dict:
    """One server with 2 workers against two servers with 1 worker each (the same workers in total,
    each call's webhooks alternating between the two), and two servers with 2 workers each."""
    env = {"IVR_DATABASE_URL": pg_url}
    layouts = {"one server, 2 workers": [2], "two servers, 1 worker each": [1, 1],
               "two servers, 2 workers each": [2, 2]}
    runs: list[dict] = []
    logs: list[Path] = []
    with ExitStack() as stack:
        started = {}
        for name, workers in layouts.items():
            group = []
            for n, w in enumerate(workers):
                port = free_port()
                log = workdir / f"two-{len(started)}-{n}.log"
                logs.append(log)
                group.append(stack.enter_context(hotline.serve(port, workers=w, log=log, cmd=hotline_cmd(port, w),
                                                               env=env)))
            started[name] = group
        failed_before = sum(count_failures(log) for log in logs)
        for group in started.values():   # warm every worker
            sids = hotline.new_calls(group[0].url, 40, "tw")
            alternating_load([s.url for s in group], sids, threads, 1)
        for rnd in range(rounds):
            line = []
            for name, group in started.items():
                sids = hotline.new_calls(group[0].url, max(threads * 4, calls_needed(2500 * seconds)),
                                         f"T{rnd}{len(line)}")
                before = hotline.check_calls(sids)
                result = alternating_load([s.url for s in group], sids, threads, seconds)
                after = hotline.check_calls(sids)
                exact = _steps_match(hotline, result["sent"], before_total=before["steps"])
                result.update(steps_saved=after["steps"] - before["steps"], bad_calls=after["bad_calls"],
                              steps_exact=exact)
                result.pop("sent")
                runs.append({"layout": name, "round": rnd, **result})
                line.append(f"{name} {result['rps']:.0f} req/s")
            progress(f"  two servers r{rnd}: " + "; ".join(line))
        failures = sum(count_failures(log) for log in logs) - failed_before
        pg_port = urlsplit(pg_url).port or 5432
        connections = {name: [list(connections_by_process(pg_port, s.worker_pids()).values()) for s in group]
                       for name, group in started.items()}
        backends = pg_backends(urlsplit(pg_url).path.lstrip("/"))
    summary = {}
    for name in layouts:
        mine = [r for r in runs if r["layout"] == name]
        ratios = [r["rps"] / b["rps"] for r in mine for b in runs
                  if b["layout"] == "one server, 2 workers" and b["round"] == r["round"]]
        summary[name] = {"rps": statistics.median(r["rps"] for r in mine),
                         "p50_ms": statistics.median(r["p50_ms"] for r in mine),
                         "p99_ms": statistics.median(r["p99_ms"] for r in mine),
                         "vs_one_server": statistics.median(ratios) if ratios else None,
                         "requests": sum(r["requests"] for r in mine),
                         "steps_saved": sum(r["steps_saved"] for r in mine),
                         "per_server": [sum(r["per_server"][i] for r in mine) for i in range(len(layouts[name]))],
                         "wrong": sum(len(r["wrong"]) for r in mine), "bad_calls": sum(r["bad_calls"] for r in mine),
                         "steps_exact": all(r["steps_exact"] for r in mine)}
    return {"runs": runs, "summary": summary, "threads": threads, "seconds": seconds, "rounds": rounds,
            "webhook_failures": failures, "connections": connections, "backends": backends}


def _steps_match(hotline: BenchHotline, sent: dict[str, int], before_total: int) -> bool:
    """Each call's stored step counter grew by exactly the webhooks the load sent it."""
    from sqlalchemy import select

    from ivr.hotline.models import Call

    sids = list(sent)
    with hotline.db.Session() as s:
        steps = dict(s.execute(select(Call.call_sid, Call.steps).where(Call.call_sid.in_(sids))).all())
    # every call was created with 2 webhooks (answer, language) before the load
    return all(steps.get(sid) == 2 + n for sid, n in sent.items())


def run(concurrencies=(1, 10, 50), seconds: float = 4.0, rounds: int = 2, accounts: int = 10_000,
        workdir: Path | None = None, two_servers: bool = True, progress=print) -> dict:
    reason = pg_reason()
    if reason:
        raise RuntimeError(reason)
    workdir = workdir or scratch_dir("ivr-bench-pg-")
    have_bouncer = Path(PGBOUNCER).exists()
    if not have_bouncer:
        progress("  postgres: pgbouncer is not installed (apt-get install pgbouncer): no pgbouncer rows")
    out: dict = {"server_version": pg_version(), "accounts": accounts, "seconds": seconds, "rounds": rounds, "pgbouncer": pgbouncer_version()
                 if have_bouncer else None, "pgbouncer_env": PGBOUNCER_ENV, "pgbouncer_pool_size": BOUNCER_POOL}
    with scratch_database() as pg_url, ExitStack() as stack:
        bouncer = stack.enter_context(pgbouncer(workdir, pg_url, pool_size=BOUNCER_POOL)) if have_bouncer else None
        out["compare"] = run_compare(concurrencies, seconds, rounds, workdir, accounts, pg_url, bouncer, progress)
        if two_servers:
            hotline = BenchHotline(workdir / "pg", accounts=0, database_url=pg_url, render_audio=False)
            from ivr import create_app

            hotline.app = create_app(hotline.config)
            out["two_servers"] = run_two_servers(workdir, pg_url, hotline, seconds, rounds, progress=progress)
    return out


if __name__ == "__main__":
    remove_scratch_at_exit()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--concurrency", default="1,10,50")
    p.add_argument("--accounts", type=int, default=10_000)
    p.add_argument("--no-two-servers", action="store_true")
    a = p.parse_args()
    import json

    result = run(tuple(int(x) for x in a.concurrency.split(",")), a.seconds, a.rounds, a.accounts,
                 two_servers=not a.no_two_servers)
    print(json.dumps(result["compare"]["summary"], indent=2))
    print(json.dumps({k: v for k, v in result["compare"].items() if k not in ("runs", "summary")}, indent=2))
    if "two_servers" in result:
        print(json.dumps(result["two_servers"]["summary"], indent=2))
