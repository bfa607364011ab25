"""Webhook throughput and latency over HTTP: the hotline next to the ceiling and the stateless app.

All are served by ``ivr.web.server`` as ``ivr serve`` serves (gunicorn, 2 sync workers) on loopback
and loaded by wrk (1 thread, N connections, Twilio-shaped form POSTs from bench/lua/post.lua). For
each round and each concurrency, in this order: the ceiling (bench/ceiling.py: one constant
document), the stateless app (bench/stateless.py: the same menus and keys as navigation, no
state), menu navigation, balance lookup; ratios are taken against the ceiling and the stateless
app of the same round, and the table shows medians over rounds.

- navigation: calls created first (POST /voice, then key 2 for English), then POST /voice/input
  with valid keys (main menu -> submenu -> back); every webhook loads the call's state from the
  database, runs the menu engine, commits the new state and renders TwiML.
- lookup: logged-in calls in the account menu pressing 1 (medical balance) and 2 (pension): the
  same, plus a balance query of that call's account. A real login over HTTP makes one logged-in
  call; its stored state is copied to many calls, each bound to a random account (see
  docs/benchmarks.md for why: a login costs one scrypt check, ~130 ms, once per call).

With ``before``, the code as it was before this benchmark's changes (bench/hotline_setup.py:
BEFORE_COMMIT) is served too, on the same database, and loaded the same way in the
same rounds: navigation and lookup before and after, side by side.

``run_ladder`` serves the hotline cut down step by step (bench/ladder.py) to show where the gap to
the ceiling comes from.

Run alone: .venv/bin/python bench/http_bench.py [--seconds 5 --rounds 2 --concurrency 1,10,50] [--before]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (body, ceiling_cmd, free_port, remove_scratch_at_exit, scratch_dir, server,  # noqa: E402
                    stateless_cmd, write_requests, wrk)
from hotline_setup import (BEFORE_COMMIT, LOOKUP_KEYS, NAV_KEYS, BenchHotline, before_cmd, before_tree,  # noqa: E402
                           calls_needed, check_answer, request_lines)
from ladder import STEPS  # noqa: E402

APPS = ("ceiling", "stateless", "navigation", "lookup", "navigation (before)", "lookup (before)")
# Issue 17: navigation >= 1.0x the stateless app, lookups >= 0.8x; p99 at c=50 <= the ceiling's + 25 ms.
NAV_STATELESS_TARGET, LOOKUP_STATELESS_TARGET, P99_MARGIN_MS = 1.0, 0.8, 25.0
# What the stateless app must answer to key 2 in the main menu (English): the apply menu.
STATELESS_CHECK = "Applying for a social security card."


def stateless_lines(sids: list[str], keys: tuple[str, ...], lang: str = "en-US") -> list[tuple[str, str]]:
    """The navigation load for bench/stateless.py: the same keys, forms and order as
    ``request_lines``, each posted to the action URL the stateless app gave for that step (the
    menu rides in the query: ``/voice/input?menu=apply&lang=en-US``)."""
    from stateless import MENUS, PARENT, TOP

    paths, menu = [], TOP
    for key in keys:
        paths.append(f"/voice/input?menu={menu}&lang={lang}")
        kind, *rest = MENUS[menu]["keys"][key]
        menu = rest[0] if kind == "menu" else PARENT.get(menu, TOP) if kind == "back" else menu
    return [(paths[r], body(sid, Digits=keys[r])) for r in range(len(keys)) for sid in sids]


def check_stateless(url: str) -> str:
    import requests

    r = requests.post(url + "/voice/input?menu=main&lang=en-US", data={"Digits": "2"}, timeout=30)
    if r.status_code != 200 or STATELESS_CHECK not in r.text:
        raise RuntimeError(f"the stateless app did not answer with the apply menu: {r.status_code} {r.text[:300]}")
    return r.text


def count_failures(log: Path) -> int:
    try:
        return sum("webhook failed" in line for line in log.read_text(errors="replace").splitlines())
    except OSError:
        return 0


def run(concurrencies=(1, 10, 50), seconds: float = 5.0, rounds: int = 2, accounts: int = 10_000,
        workdir: Path | None = None, hotline: BenchHotline | None = None, before: bool = False,
        progress=print) -> dict:
    workdir = workdir or scratch_dir("ivr-bench-http-")
    hotline = hotline or BenchHotline(workdir, accounts=accounts).prepare()
    rng = random.Random(8)
    log = workdir / "hotline.log"
    before_env = before_tree(workdir / "before") if before else None
    if before and before_env is None:
        progress("  http: the code before the changes is not available (git): no before/after in this run")
    runs: list[dict] = []
    logins: list[dict] = []
    env = {"XDG_RUNTIME_DIR": str(workdir)}
    ports = {name: free_port() for name in ("ceiling", "stateless", "hotline", "before")}
    with ExitStack() as stack:
        ceiling = stack.enter_context(server("ceiling", ceiling_cmd(ports["ceiling"]), ports["ceiling"], env))
        stateless = stack.enter_context(server("stateless", stateless_cmd(ports["stateless"]), ports["stateless"], env))
        check_stateless(stateless.url)
        live = stack.enter_context(hotline.serve(ports["hotline"], log=log))
        targets = {"": live}
        if before_env:
            targets[" (before)"] = stack.enter_context(hotline.serve(
                ports["before"], cmd=before_cmd(ports["before"]), env=before_env, log=workdir / "before.log"))
        # Warm everything up (imports, first connections, statement caches).
        warm = write_requests(workdir / "warm.txt", request_lines(hotline.new_calls(live.url, 20, "warm"), NAV_KEYS))
        warm_stateless = write_requests(workdir / "warm-stateless.txt",
                                        stateless_lines([f"CAwarm{n:04d}" for n in range(20)], NAV_KEYS))
        for target in (ceiling, *targets.values()):
            wrk(target.url, warm, 10, 1)
        wrk(stateless.url, warm_stateless, 10, 1)
        for n in range(3):
            logins.append(hotline.login(live.url, f"CAlogin{n:03d}{rng.getrandbits(32):08x}"))
        template = f"CAtemplate{rng.getrandbits(48):012x}"
        hotline.login(live.url, template)
        failed_before = count_failures(log)
        for rnd in range(rounds):
            for c in concurrencies:
                tag = f"r{rnd}c{c}"
                base = wrk(ceiling.url, warm, c, seconds)
                runs.append({"app": "ceiling", "round": rnd, **base})
                expected = base["rps"] * seconds * 1.2
                line = [f"ceiling {base['rps']:.0f} req/s p99 {base['p99_ms']:.1f} ms"]
                reqs = write_requests(workdir / f"stateless-{tag}.txt",
                                      stateless_lines([f"CAs{tag}{n:05d}" for n in range(calls_needed(expected))],
                                                      NAV_KEYS))
                plain = wrk(stateless.url, reqs, c, seconds)
                runs.append({"app": "stateless", "round": rnd, **plain})
                line.append(f"stateless {plain['rps']:.0f} ({plain['rps'] / base['rps']:.2f}x) "
                            f"p99 {plain['p99_ms']:.1f} ms")
                for suffix, target in targets.items():
                    for app, keys, make in (("navigation", NAV_KEYS, lambda n, t: hotline.new_calls(live.url, n, t)),
                                            ("lookup", LOOKUP_KEYS,
                                             lambda n, t: hotline.clone_logged_in(template, n, t, rng))):
                        sids = make(calls_needed(expected), f"{app[0]}{suffix[2:3]}{tag}")
                        before_steps = hotline.check_calls(sids)
                        reqs = write_requests(workdir / f"{app}{suffix[2:3]}-{tag}.txt", request_lines(sids, keys))
                        result = wrk(target.url, reqs, c, seconds)
                        after = hotline.check_calls(sids)
                        result.update(calls=len(sids), steps_saved=after["steps"] - before_steps["steps"],
                                      bad_calls=after["bad_calls"])
                        runs.append({"app": app + suffix, "round": rnd, **result})
                        if app == "lookup":
                            check_answer(target.url, sids[0], "1", "Your medical insurance personal account balance is")
                        line.append(f"{app}{suffix} {result['rps']:.0f} ({result['rps'] / plain['rps']:.2f}x "
                                    f"stateless) p99 {result['p99_ms']:.1f} ms")
                progress(f"  http {tag}: " + "; ".join(line))
        failures = count_failures(log) - failed_before
        check_stateless(stateless.url)
    apps = [a for a in APPS if any(r["app"] == a for r in runs)]
    return {"runs": runs, "logins": logins, "summary": summarize(runs, concurrencies, rounds, apps),
            "webhook_failures": failures, "seconds": seconds, "rounds": rounds, "accounts": hotline.accounts,
            "before": bool(before_env), "before_commit": BEFORE_COMMIT, "targets": {"navigation": NAV_STATELESS_TARGET,
                                                    "lookup": LOOKUP_STATELESS_TARGET, "p99_margin_ms": P99_MARGIN_MS},
            "command": runs[0]["command"].replace("warm.txt", "REQUESTS.txt") if runs else ""}


def run_ladder(hotline: BenchHotline, workdir: Path, connections: int = 10, seconds: float = 3.0,
               rounds: int = 2, progress=print) -> dict:
    """The ceiling, the hotline cut down step by step (bench/ladder.py), and the hotline itself, at
    one concurrency; each step right after a ceiling run, ratios are medians over rounds."""
    env = {"XDG_RUNTIME_DIR": str(workdir)}
    ratios: dict[str, list[float]] = {step: [] for step in (*STEPS, "full")}
    rps: dict[str, list[float]] = {step: [] for step in ratios}
    with ExitStack() as stack:
        port = free_port()
        ceiling = stack.enter_context(server("ceiling", ceiling_cmd(port), port, env))
        servers = {}
        for step in STEPS:
            port = free_port()
            servers[step] = stack.enter_context(hotline.serve(port, app=f"ladder:{step}"))
        port = free_port()
        servers["full"] = stack.enter_context(hotline.serve(port))
        full = servers["full"]
        warm = write_requests(workdir / "ladder-warm.txt", request_lines(hotline.new_calls(full.url, 20, "lw"), NAV_KEYS))
        for target in (ceiling, *servers.values()):
            wrk(target.url, warm, connections, 1)
        for rnd in range(rounds):
            for step, target in servers.items():
                sids = hotline.new_calls(full.url, calls_needed(4000 * seconds), f"L{step[:3]}{rnd}")
                reqs = write_requests(workdir / f"ladder-{step}.txt", request_lines(sids, NAV_KEYS))
                base = wrk(ceiling.url, warm, connections, seconds)
                this = wrk(target.url, reqs, connections, seconds)
                ratios[step].append(this["rps"] / base["rps"])
                rps[step].append(this["rps"])
            progress("  ladder round %d: " % rnd + ", ".join(f"{k} {v[-1]:.2f}x" for k, v in ratios.items()))
    return {"connections": connections, "seconds": seconds, "rounds": rounds,
            "steps": [{"step": k, "ratio": statistics.median(v), "ratios": v, "rps": statistics.median(rps[k])}
                      for k, v in ratios.items()]}


def summarize(runs: list[dict], concurrencies, rounds: int, apps=APPS) -> dict:
    out = {}
    for c in concurrencies:
        row = {}
        for app in apps:
            mine = [r for r in runs if r["app"] == app and r["connections"] == c]
            if not mine:
                continue
            row[app] = {"rps": statistics.median(r["rps"] for r in mine),
                        "p50_ms": statistics.median(r["p50_ms"] for r in mine),
                        "p99_ms": statistics.median(r["p99_ms"] for r in mine),
                        "p99_ms_max": max(r["p99_ms"] for r in mine),
                        "errors": sum(r["errors"] for r in mine),
                        "bad_calls": sum(r.get("bad_calls", 0) for r in mine),
                        "requests": sum(r["requests"] for r in mine),
                        "steps_saved": sum(r.get("steps_saved", r["requests"]) for r in mine)}
            for key, baseline in (("ratio", "ceiling"), ("ratio_stateless", "stateless")):
                if app in ("ceiling", baseline):
                    continue
                ratios, over = [], []
                for rnd in range(rounds):
                    base = [r for r in runs if r["app"] == baseline and r["connections"] == c and r["round"] == rnd]
                    this = [r for r in mine if r["round"] == rnd]
                    if base and this:
                        ratios.append(this[0]["rps"] / base[0]["rps"])
                        over.append(this[0]["p99_ms"] - base[0]["p99_ms"])
                if ratios:
                    row[app][key] = statistics.median(ratios)
                    row[app][key + "_rounds"] = ratios
                    if baseline == "ceiling":   # p99 above the ceiling's of the same round (issue 17: <= 25 ms)
                        row[app]["p99_over_ceiling_ms"] = statistics.median(over)
        out[str(c)] = row
    return out


if __name__ == "__main__":
    remove_scratch_at_exit()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--concurrency", default="1,10,50")
    p.add_argument("--accounts", type=int, default=10_000)
    p.add_argument("--before", action="store_true")
    a = p.parse_args()
    import json

    result = run(tuple(int(x) for x in a.concurrency.split(",")), a.seconds, a.rounds, a.accounts, before=a.before)
    print(json.dumps(result["summary"], indent=2))
    print("logins:", json.dumps(result["logins"]), "failures:", result["webhook_failures"])
