"""Shared helpers of the benchmarks: servers on loopback, wrk, Twilio-shaped forms, /proc readings.

Every server is started by the benchmark itself and stopped by its process id (its own process
group: the gunicorn master and its workers); nothing else on the machine is touched.
"""
from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
IVR = str(Path(PY).with_name("ivr"))
WRK_LUA = BENCH / "lua" / "post.lua"

ACCOUNT_SID = "AC" + "b" * 32
CALLER = "+8613800138000"
CALLED = "+8612333"


def twilio_form(sid: str, **extra: str) -> dict[str, str]:
    """The fields Twilio posts with every voice webhook (as the local phone sends them)."""
    form = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": CALLER, "To": CALLED, "Caller": CALLER,
            "Called": CALLED, "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01"}
    form.update(extra)
    return form


def body(sid: str, **extra: str) -> str:
    return urlencode(twilio_form(sid, **extra))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout:.0f} s")


class Server:
    """A gunicorn server (its own process group) on 127.0.0.1:port; ``stop()`` ends that group."""

    def __init__(self, name: str, cmd: list[str], port: int, env: dict | None = None, log: Path | None = None):
        self.name, self.cmd, self.port = name, cmd, port
        self.log_path = log
        self._log = open(log, "ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=self._log,
                                     stderr=self._log, start_new_session=True)
        try:
            wait_for_port(port, self.proc)
            self._wait_workers()
        except Exception:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def _wait_workers(self, timeout: float = 20.0) -> None:
        # A request to each worker warms it up (imports, first connection, compiled statements).
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._log is not subprocess.DEVNULL:
            self._log.close()


@contextmanager
def server(name: str, cmd: list[str], port: int, env: dict | None = None, log: Path | None = None):
    s = Server(name, cmd, port, env, log)
    try:
        yield s
    finally:
        s.stop()


def serve_cmd(app: str, port: int, workers: int = 2, server: str | None = None) -> list[str]:
    """bench/serve.py APP: a bench app (or the hotline) under ``server`` (default: ivr serve's)."""
    return [PY, str(BENCH / "serve.py"), "--port", str(port), "--workers", str(workers),
            *(["--server", server] if server else []), app]


def ceiling_cmd(port: int, workers: int = 2, server: str | None = None) -> list[str]:
    return serve_cmd("ceiling", port, workers, server)


def stateless_cmd(port: int, workers: int = 2, server: str | None = None) -> list[str]:
    return serve_cmd("stateless", port, workers, server)


def hotline_cmd(port: int, workers: int = 2) -> list[str]:
    return [IVR, "serve", "--port", str(port), "--workers", str(workers)]


def write_requests(path: Path, lines: list[tuple[str, str]]) -> Path:
    """The request file of bench/lua/post.lua: one ``path<TAB>body`` per line, sent in order."""
    with open(path, "w") as f:
        for route, form in lines:
            f.write(f"{route}\t{form}\n")
    return path


def wrk(url: str, requests_file: Path, connections: int, seconds: float, timeout: float = 5.0,
        close: bool = False) -> dict:
    """One wrk run (1 thread, ``connections`` connections); totals and latency percentiles in ms.
    ``close``: every request asks for ``Connection: close`` (a new connection per request)."""
    seconds = max(1, round(seconds))   # wrk takes whole seconds
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout:g}s", "-s", str(WRK_LUA),
           url, "--", str(requests_file), *(["close"] if close else [])]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    secs = data["duration_us"] / 1e6
    return {"requests": data["requests"], "seconds": round(secs, 3), "rps": round(data["requests"] / secs, 1),
            "p50_ms": data["p50_us"] / 1000, "p90_ms": data["p90_us"] / 1000, "p99_ms": data["p99_us"] / 1000,
            "max_ms": data["max_us"] / 1000, "errors": errors, "connections": connections,
            "command": " ".join(cmd[:cmd.index("--")] + ["--", Path(str(requests_file)).name]
                                + (["close"] if close else []))}


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for mod in ("flask", "werkzeug", "sqlalchemy", "gunicorn", "twilio", "granian", "bjoern", "psycopg"):
        try:
            from importlib.metadata import version

            versions[mod] = version(mod)
        except Exception:  # noqa: BLE001
            versions[mod] = "?"
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    import sqlite3

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mb": mem, "kernel": platform.release(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "wrk": wrk_version.strip(),
            "load_before": os.getloadavg(), **versions}


_SCRATCH: list[Path] = []


def scratch_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _SCRATCH.append(path)
    return path


def remove_scratch_at_exit() -> None:
    """For a benchmark run alone: remove the scratch folders it made when it ends."""
    import atexit
    import shutil

    atexit.register(lambda: [shutil.rmtree(p, ignore_errors=True) for p in _SCRATCH])
