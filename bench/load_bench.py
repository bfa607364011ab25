"""Calls per second as concurrency grows: ``ivr load`` (the local phone over HTTP) against the
hotline under gunicorn (2 workers), for two scripted calls (bench/scenarios/):

- browse.toml: English, then three information menus (11 webhooks, no login);
- balance.toml: log in (one scrypt check, ~130 ms of a worker's CPU) and hear the medical balance.

``ivr load`` runs its calls from Python threads on the same two cores, so at high concurrency the
client is part of what is measured; the figures are calls the whole machine completes per second.

Run alone: .venv/bin/python bench/load_bench.py [--concurrency 1,10,50] [--seconds 5]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, IVR, free_port, remove_scratch_at_exit, scratch_dir  # noqa: E402
from hotline_setup import BenchHotline  # noqa: E402

SCENARIOS = {"browse": BENCH / "scenarios" / "browse.toml", "balance": BENCH / "scenarios" / "balance.toml"}
SUMMARY = re.compile(r"Calls: (\d+) \((\d+) ok, (\d+) failed\) in ([\d.]+) s: ([\d.]+) calls/s, (\d+) requests")
ROW = re.compile(r"^(POST|GET) (\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", re.M)


def ivr_load(url: str, scenario: Path, concurrency: int, seconds: float, calls: int = 100_000) -> dict:
    cmd = [IVR, "load", "--url", url, "--calls", str(calls), "--concurrency", str(concurrency),
           "--duration", f"{seconds:g}", "--scenario", str(scenario)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 300)
    m = SUMMARY.search(done.stdout)
    if not m:
        raise RuntimeError(f"ivr load printed no summary (exit {done.returncode}): {done.stdout[-500:]} "
                           f"{done.stderr[-500:]}")
    rows = {f"{r[0]} {r[1]}": {"count": int(r[2]), "p50_ms": float(r[3]), "p90_ms": float(r[4]),
                               "p99_ms": float(r[5])} for r in ROW.findall(done.stdout)}
    errors = done.stdout.split("Errors:", 1)[1].strip().splitlines()[0] if "Errors:" in done.stdout else "?"
    return {"calls": int(m[1]), "ok": int(m[2]), "failed": int(m[3]), "seconds": float(m[4]),
            "calls_per_second": float(m[5]), "requests": int(m[6]), "webhooks": rows, "errors": errors,
            "exit": done.returncode, "command": " ".join(["ivr", *cmd[1:3], "http://127.0.0.1:PORT/voice",
                                                          *cmd[4:-1], "bench/scenarios/" + scenario.name])}


def run(concurrencies=(1, 10, 50), seconds: float = 5.0, hotline: BenchHotline | None = None,
        workdir: Path | None = None, progress=print) -> dict:
    workdir = workdir or scratch_dir("ivr-bench-load-")
    hotline = hotline or BenchHotline(workdir, accounts=0).prepare()
    port = free_port()
    results = []
    with hotline.serve(port, log=workdir / "load.log") as live:
        for name, path in SCENARIOS.items():
            for c in concurrencies:
                r = ivr_load(live.url + "/voice", path, c, seconds)
                results.append({"scenario": name, "concurrency": c, **r})
                progress(f"  ivr load {name} c={c}: {r['calls_per_second']:.1f} calls/s "
                         f"({r['ok']} ok, {r['failed']} failed, errors: {r['errors']})")
    return {"runs": results, "seconds": seconds}


if __name__ == "__main__":
    remove_scratch_at_exit()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--concurrency", default="1,10,50")
    p.add_argument("--seconds", type=float, default=5)
    a = p.parse_args()
    import json

    print(json.dumps(run(tuple(int(x) for x in a.concurrency.split(",")), a.seconds), indent=2))
