"""Growth: the balance lookup as the accounts table grows (10k, 100k, optionally 1M accounts).

One database grows step by step (``seed_bulk`` with the same seed skips what is there). At each
size the hotline is served afresh (``ivr serve``, 2 workers) and loaded by wrk (10 connections)
with logged-in calls bound to random accounts pressing 1, 2 and 3 (medical balance, pension
balance, the last 3 payments: a range scan of spending records). Each run follows a ceiling run,
so each figure also has its ratio (median of ``rounds`` pairs).

Run alone: .venv/bin/python bench/growth.py [--sizes 10000,100000,1000000] [--seconds 4]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (ceiling_cmd, free_port, remove_scratch_at_exit, scratch_dir, server,  # noqa: E402
                    write_requests, wrk)
from hotline_setup import CHEAP_HASH, BenchHotline, calls_needed, request_lines  # noqa: E402

KEYS = ("1", "2", "3")


def run(sizes=(10_000, 100_000), seconds: float = 4.0, connections: int = 10, workdir: Path | None = None,
        rounds: int = 2, progress=print) -> dict:
    workdir = workdir or scratch_dir("ivr-bench-growth-")
    hotline = BenchHotline(workdir, accounts=0).prepare()
    from ivr.accounts.seed import count_accounts, seed_bulk

    rng = random.Random(5)
    steps = []
    ceiling_port = free_port()
    with server("ceiling", ceiling_cmd(ceiling_port), ceiling_port, {"XDG_RUNTIME_DIR": str(workdir)}) as ceiling:
        warm = write_requests(workdir / "warm.txt", request_lines([f"CAwarm{n}" for n in range(50)], KEYS))
        for size in sorted(sizes):
            started = time.perf_counter()
            report = seed_bulk(hotline.db.Session, size, hotline.seed, hash_method=CHEAP_HASH)
            seed_seconds = time.perf_counter() - started
            total = count_accounts(hotline.db.Session)
            db_mb = hotline.db_path.stat().st_size / 2**20
            port = free_port()
            with hotline.serve(port) as live:
                template = f"CAgrowth{size}"
                hotline.login(live.url, template)
                base = wrk(ceiling.url, warm, connections, seconds)
                sids = hotline.clone_logged_in(template, calls_needed(base["rps"] * seconds), f"g{size}", rng)
                reqs = write_requests(workdir / f"lookup-{size}.txt", request_lines(sids, KEYS))
                wrk(live.url, reqs, connections, 1)   # warm-up (page cache, statement caches)
                before = hotline.check_calls(sids)
                runs = [(base, wrk(live.url, reqs, connections, seconds))]
                for _ in range(rounds - 1):   # a call takes at most ~100 webhooks: fresh calls each round
                    base = wrk(ceiling.url, warm, connections, seconds)
                    more = hotline.clone_logged_in(template, calls_needed(base["rps"] * seconds), f"g{size}", rng)
                    sids += more
                    before["steps"] += hotline.check_calls(more)["steps"]
                    reqs = write_requests(workdir / f"lookup-{size}.txt", request_lines(more, KEYS))
                    runs.append((base, wrk(live.url, reqs, connections, seconds)))
                after = hotline.check_calls(sids)
            ratios = [x["rps"] / b["rps"] for b, x in runs]
            look = dict(runs[-1][1])
            look.update(rps=statistics.median(x["rps"] for _, x in runs),
                        p50_ms=statistics.median(x["p50_ms"] for _, x in runs),
                        p99_ms=statistics.median(x["p99_ms"] for _, x in runs),
                        requests=sum(x["requests"] for _, x in runs), errors=sum(x["errors"] for _, x in runs))
            steps.append({"accounts": total, "seeded_now": report.inserted, "seed_seconds": round(seed_seconds, 1),
                          "db_mb": round(db_mb, 1), "ceiling_rps": statistics.median(b["rps"] for b, _ in runs),
                          **look, "ratio": statistics.median(ratios), "ratios": ratios,
                          "bad_calls": after["bad_calls"], "steps_saved": after["steps"] - before["steps"]})
            progress(f"  growth: {total:,} accounts (seeded in {seed_seconds:.0f} s, {db_mb:.0f} MB): lookup "
                     f"{look['rps']:.0f} req/s ({look['rps'] / base['rps']:.2f}x ceiling), p50 {look['p50_ms']:.1f} ms, "
                     f"p99 {look['p99_ms']:.1f} ms")
    return {"steps": steps, "seconds": seconds, "connections": connections, "keys": KEYS, "rounds": rounds}


if __name__ == "__main__":
    remove_scratch_at_exit()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--seconds", type=float, default=4)
    a = p.parse_args()
    import json

    print(json.dumps(run(tuple(int(x) for x in a.sizes.split(",")), a.seconds), indent=2, default=str))
