"""Which server: the ceiling, the stateless app and the hotline's navigation under each candidate.

Every candidate serves the three apps with 2 worker processes (bench/serve.py --server NAME), all
on loopback at once; wrk loads one at a time. For each round, each concurrency and each connection
mode, every (server, app) pair runs once, the servers in a rotated order per round; each figure is
divided by the same app under gunicorn's sync workers (what ``ivr serve`` ran before issue 17) in
the same round, and the tables show medians over rounds.

- Order: at each concurrency and mode, the ceiling under every server in turn, then the stateless app
  under every server, then the hotline under every server: a ratio to gunicorn compares runs seconds
  apart (these machines are shared and their load changes by the minute).
- Candidates: gunicorn sync (2 workers, today's), gunicorn gthread (ivr.web.server's
  TimedThreadWorker: 2 workers x 4 threads), granian (Rust HTTP, WSGI interface, 2 workers, its
  default thread pool; and with 1 blocking thread per worker), bjoern (libev, 2 forked processes).
- Connection modes: ``keep-alive`` (wrk's default: servers that keep connections open do; gunicorn's
  sync workers close after every response) and ``close`` (every request asks for Connection: close,
  so every server pays a new TCP connection per request, as behind a proxy without upstream
  keep-alive). Which one Twilio's webhook traffic resembles is not documented; both are shown.
- The hotline: navigation (the same keys as bench/http_bench.py; fresh calls for every run), each
  server on the same SQLite database; checks that every webhook was a real state change (the calls'
  step counters grew by the requests wrk counted), no call ended in an error, and the server's log
  has no ``webhook failed`` line.

Run alone: .venv/bin/python bench/servers.py [--seconds 3 --rounds 2 --concurrency 1,10,50
           --servers gunicorn,gunicorn-gthread,granian,granian-1thread,bjoern --modes keep-alive,close]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, remove_scratch_at_exit, scratch_dir, serve_cmd, server, write_requests, wrk  # noqa: E402
from hotline_setup import NAV_KEYS, BenchHotline, calls_needed, request_lines  # noqa: E402
from http_bench import check_stateless, count_failures, stateless_lines  # noqa: E402

CANDIDATES = ("gunicorn", "gunicorn-gthread", "granian", "granian-1thread", "bjoern")
BASELINE = "gunicorn"
APPS = ("ceiling", "stateless", "navigation")
MODES = ("keep-alive", "close")
# What each server keeps of what the hotline needs in production (docs/benchmarks.md):
# request timeout, graceful restart (SIGHUP: reload the menus, replace the workers), worker recycling.
FEATURES = {
    "gunicorn": ("yes: a worker silent for 30 s (one request) is killed and replaced", "yes (on_reload hook)",
                 "yes: max_requests, dead workers replaced"),
    "gunicorn-gthread": ("yes with ivr's TimedThreadWorker (gunicorn's own gthread worker keeps beating while a "
                         "request hangs)", "yes (on_reload hook)", "yes: max_requests, dead workers replaced"),
    "granian": ("no: a WSGI request runs in a thread nothing can stop; only header-read timeouts",
                "yes: SIGHUP respawns the workers (on_reload hook in the master)",
                "partly: by age (workers_lifetime, >= 60 s) or memory (workers_max_rss), not by requests"),
    "granian-1thread": ("no (as granian)", "yes (as granian)", "partly (as granian)"),
    "bjoern": ("no", "no: no master process (a hand-made one here)", "no"),
}


def available(name: str) -> bool:
    module = {"granian": "granian", "granian-1thread": "granian", "bjoern": "bjoern"}.get(name)
    return module is None or importlib.util.find_spec(module) is not None


def run(concurrencies=(1, 10, 50), seconds: float = 3.0, rounds: int = 2, candidates=CANDIDATES, modes=MODES,
        hotline: BenchHotline | None = None, workdir: Path | None = None, accounts: int = 1_000,
        progress=print) -> dict:
    workdir = workdir or scratch_dir("ivr-bench-servers-")
    hotline = hotline or BenchHotline(workdir, accounts=accounts).prepare()
    missing = [c for c in candidates if not available(c)]
    candidates = [c for c in candidates if c not in missing]
    if missing:
        progress(f"  servers: not installed, left out: {', '.join(missing)}")
    env = {"XDG_RUNTIME_DIR": str(workdir)}
    runs: list[dict] = []
    logs = {name: workdir / f"servers-hotline-{name}.log" for name in candidates}
    with ExitStack() as stack:
        targets: dict[tuple[str, str], object] = {}
        for name in candidates:
            for app in ("ceiling", "stateless"):
                port = free_port()
                targets[name, app] = stack.enter_context(server(f"{app}/{name}", serve_cmd(app, port, server=name),
                                                                port, env, log=workdir / f"servers-{app}-{name}.log"))
            port = free_port()
            targets[name, "navigation"] = stack.enter_context(hotline.serve(
                port, log=logs[name], cmd=serve_cmd("hotline", port, server=name)))
        check_stateless(targets[candidates[0], "stateless"].url)
        feeder = targets[candidates[0], "navigation"].url
        warm = write_requests(workdir / "servers-warm.txt", request_lines(hotline.new_calls(feeder, 20, "sw"), NAV_KEYS))
        warm_stateless = write_requests(workdir / "servers-warm-stateless.txt",
                                        stateless_lines([f"CAsw{n:04d}" for n in range(20)], NAV_KEYS))
        for (name, app), target in targets.items():
            wrk(target.url, warm_stateless if app == "stateless" else warm, 10, 1)
        failed_before = {name: count_failures(log) for name, log in logs.items()}
        for rnd in range(rounds):
            order = candidates[rnd % len(candidates):] + candidates[:rnd % len(candidates)]
            for c in concurrencies:
                for mode in modes:
                    close = mode == "close"
                    line = {name: [] for name in order}
                    for app in APPS:    # one app under every server in turn: those ratios are seconds apart
                        for name in order:
                            tag = f"r{rnd}c{c}{mode[0]}{name}"
                            target = targets[name, app]
                            sids = None
                            if app == "ceiling":
                                reqs = warm
                            elif app == "stateless":
                                reqs = write_requests(workdir / "servers-stateless.txt", stateless_lines(
                                    [f"CA{tag}{n:05d}" for n in range(calls_needed(6000 * seconds))], NAV_KEYS))
                            else:
                                sids = hotline.new_calls(feeder, calls_needed(4000 * seconds), tag)
                                before = hotline.check_calls(sids)
                                reqs = write_requests(workdir / "servers-nav.txt", request_lines(sids, NAV_KEYS))
                            result = wrk(target.url, reqs, c, seconds, close=close)
                            if sids is not None:
                                after = hotline.check_calls(sids)
                                result.update(steps_saved=after["steps"] - before["steps"], bad_calls=after["bad_calls"])
                            runs.append({"server": name, "app": app, "mode": mode, "round": rnd, **result})
                            line[name].append(f"{result['rps']:.0f}")
                    progress(f"  servers r{rnd} c={c} {mode} (ceiling/stateless/navigation req/s): "
                             + "; ".join(f"{name} {'/'.join(v)}" for name, v in line.items()))
        failures = {name: count_failures(log) - failed_before[name] for name, log in logs.items()}
    return {"runs": runs, "summary": summarize(runs, candidates, concurrencies, modes, rounds),
            "candidates": candidates, "missing": missing, "modes": list(modes), "seconds": seconds, "rounds": rounds,
            "webhook_failures": failures, "features": {k: FEATURES[k] for k in candidates},
            "command": runs[0]["command"] if runs else ""}


def summarize(runs: list[dict], candidates, concurrencies, modes, rounds: int) -> dict:
    """summary[mode][c][server][app]: median req/s and p99, the median ratio to the same app under
    gunicorn sync in the same round, and (navigation) the median ratio to the same server's
    stateless app in the same round."""
    def one(server, app, mode, c, rnd):
        found = [r for r in runs if (r["server"], r["app"], r["mode"], r["connections"], r["round"]) ==
                 (server, app, mode, c, rnd)]
        return found[0] if found else None

    out: dict = {}
    for mode in modes:
        for c in concurrencies:
            row: dict = {}
            for name in candidates:
                row[name] = {}
                for app in APPS:
                    mine = [one(name, app, mode, c, rnd) for rnd in range(rounds)]
                    mine = [r for r in mine if r]
                    if not mine:
                        continue
                    x = {"rps": statistics.median(r["rps"] for r in mine),
                         "p50_ms": statistics.median(r["p50_ms"] for r in mine),
                         "p99_ms": statistics.median(r["p99_ms"] for r in mine),
                         "errors": sum(r["errors"] + r.get("bad_calls", 0) for r in mine),
                         "requests": sum(r["requests"] for r in mine),
                         "steps_saved": sum(r.get("steps_saved", r["requests"]) for r in mine)}
                    vs_base, vs_stateless = [], []
                    for rnd in range(rounds):
                        this, base = one(name, app, mode, c, rnd), one(BASELINE, app, mode, c, rnd)
                        if this and base:
                            vs_base.append(this["rps"] / base["rps"])
                        plain = one(name, "stateless", mode, c, rnd)
                        if this and plain and app == "navigation":
                            vs_stateless.append(this["rps"] / plain["rps"])
                    if vs_base:
                        x["vs_gunicorn"] = statistics.median(vs_base)
                        x["vs_gunicorn_range"] = [min(vs_base), max(vs_base)]
                    if vs_stateless:
                        x["vs_stateless"] = statistics.median(vs_stateless)
                    row[name][app] = x
            out.setdefault(mode, {})[str(c)] = row
    return out


if __name__ == "__main__":
    remove_scratch_at_exit()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--concurrency", default="1,10,50")
    p.add_argument("--servers", default=",".join(CANDIDATES))
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--accounts", type=int, default=1_000)
    a = p.parse_args()
    import json

    result = run(tuple(int(x) for x in a.concurrency.split(",")), a.seconds, a.rounds, a.servers.split(","),
                 a.modes.split(","), accounts=a.accounts)
    print(json.dumps(result["summary"], indent=2))
    print("failures:", result["webhook_failures"])
