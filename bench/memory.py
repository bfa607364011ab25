"""Memory of a gunicorn worker over 10,000 complete calls (1 worker, so it serves every call).

Each call: answer, English, account services, ID number, password, medical balance, pension
balance, then Twilio's status callback (completed). Every call logs into a different made-up
account. The server is the hotline with the cheap bench password hash (bench/serve.py cheap-hash):
10,000 scrypt checks would take ~20 minutes of CPU; the first call logs into a demo account, whose
hash is scrypt, so the worker's peak includes one scrypt check (scrypt allocates ~32 MB).

The worker's VmRSS and VmHWM (peak) are read from /proc after every block of calls.

Run alone: .venv/bin/python bench/memory.py [--calls 10000] [--threads 8]
"""
from __future__ import annotations

import argparse
import http.client
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, remove_scratch_at_exit, rss_kb, scratch_dir, twilio_form  # noqa: E402
from hotline_setup import DEMO_ID, DEMO_PASSWORD, BenchHotline  # noqa: E402


MEDICAL = b"Your medical insurance personal account balance is"
PENSION = b"Your basic pension personal account holds"


def call_script(id_number: str, password: str) -> list[tuple[str, dict, bytes | None]]:
    """(route, form fields, text the answer must contain) for each webhook of one call."""
    keyed = id_number.replace("X", "*")
    return [("/voice", {}, None), ("/voice/input", {"Digits": "2"}, None), ("/voice/input", {"Digits": "1"}, None),
            ("/voice/input", {"Digits": keyed + "#"}, None), ("/voice/input", {"Digits": password + "#"}, None),
            ("/voice/input", {"Digits": "1"}, MEDICAL), ("/voice/input", {"Digits": "2"}, PENSION),
            ("/voice/status", {"CallStatus": "completed", "CallDuration": "95"}, None)]


class Driver:
    """Places calls over HTTP from ``threads`` threads, each call's webhooks in order."""

    def __init__(self, port: int, threads: int):
        self.port, self.threads = port, threads
        self.failures: list[str] = []
        self.requests = 0
        self.ok_calls = 0
        self._lock = threading.Lock()

    def post(self, path: str, form: dict) -> bytes:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", path, urlencode(form), {"Content-Type": "application/x-www-form-urlencoded"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{path}: HTTP {resp.status}")
            return data
        finally:
            conn.close()

    def run_calls(self, calls: list[tuple[str, list]]) -> None:
        queue = list(reversed(calls))

        def work():
            done = ok = 0
            while True:
                with self._lock:
                    if not queue:
                        break
                    sid, script = queue.pop()
                try:
                    for path, extra, expect in script:
                        answer = self.post(path, twilio_form(sid, **extra))
                        done += 1
                        if expect is not None and expect not in answer:
                            raise RuntimeError(f"{path} {extra}: expected {expect!r}, got {answer[:200]!r}")
                    ok += 1
                except Exception as exc:  # noqa: BLE001 - count and go on
                    with self._lock:
                        if len(self.failures) < 5:
                            self.failures.append(f"{sid}: {type(exc).__name__}: {exc}")
            with self._lock:
                self.requests += done
                self.ok_calls += ok

        threads = [threading.Thread(target=work) for _ in range(self.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


HEAVY = ("numpy", "soundfile", "soxr", "pyttsx3")


def heavy_imports(env: dict) -> list[str]:
    """Which large libraries the app imports just by starting (they count in every worker's RSS)."""
    import os
    import subprocess

    from common import PY

    code = ("import sys; from ivr import create_app; create_app(); "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([PY, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)
    return done.stdout.split()


def run(calls: int = 10_000, threads: int = 8, block: int = 1000, workdir: Path | None = None,
        progress=print) -> dict:
    workdir = workdir or scratch_dir("ivr-bench-mem-")
    hotline = BenchHotline(workdir, accounts=max(calls, 1000), render_audio=True).prepare()
    rng = random.Random(4)
    numbers = hotline.accounts_sample(calls, rng)
    from ivr.accounts.service import initial_password_for

    scripts = [call_script(DEMO_ID, DEMO_PASSWORD)] + [call_script(n, initial_password_for(n, "id_last6"))
                                                       for n in numbers]
    scripts = scripts[:calls]
    port = free_port()
    samples = []
    started = time.perf_counter()
    with hotline.serve(port, workers=1, app="cheap-hash", log=workdir / "worker.log") as live:
        pid = live.worker_pids()[0]
        driver = Driver(port, threads)
        samples.append({"calls": 0, **rss_kb(pid)})
        for start in range(0, len(scripts), block):
            batch = [(f"CAmem{start + n:06d}", script) for n, script in enumerate(scripts[start:start + block])]
            driver.run_calls(batch)
            samples.append({"calls": start + len(batch), **rss_kb(pid), "seconds": round(time.perf_counter() - started, 1)})
            progress(f"  memory: {start + len(batch):,} calls, worker RSS {samples[-1]['VmRSS'] / 1024:.1f} MB, "
                     f"peak {samples[-1]['VmHWM'] / 1024:.1f} MB")
        still_same = pid in live.worker_pids()
    at = {s["calls"]: s for s in samples}
    first = at.get(min(block, calls)) or samples[1]
    last = samples[-1]
    return {"calls": len(scripts), "threads": threads, "requests": driver.requests, "ok_calls": driver.ok_calls,
            "failures": driver.failures,
            "samples": samples, "rss_1k_mb": first["VmRSS"] / 1024, "rss_end_mb": last["VmRSS"] / 1024,
            "peak_mb": last["VmHWM"] / 1024, "growth_mb": (last["VmRSS"] - first["VmRSS"]) / 1024,
            "same_worker": still_same, "heavy_imports": heavy_imports(hotline.env), "seconds": round(time.perf_counter() - started, 1)}


if __name__ == "__main__":
    remove_scratch_at_exit()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=8)
    a = p.parse_args()
    import json

    print(json.dumps(run(a.calls, a.threads), indent=2))
