"""What two processes sharing one SQLite file cost a navigation webhook (issue 17, round 7).

The served comparison (docs/benchmarks.md section 1) puts the hotline's navigation under the
stateless app's req/s, while in one process a navigation webhook costs about what a stateless
request costs. This measures the difference: CPU time per request of

- the hotline's navigation webhooks (``/voice/input``: the call's state loaded, the menu engine,
  the state saved and committed, TwiML, no log line), straight into the WSGI app, in one process,
  and in two processes at once on one SQLite file (as ``ivr serve --workers 2``);
- the stateless app (``bench/stateless.py``) the same way, alone and two at once.

Each process reports its own CPU seconds (``time.process_time``) for its requests; rounds
alternate the four cases; the table shows medians. Two stateless processes cost what one does (the
two cores are separate), so whatever the hotline's pair costs more is the shared database file:
SQLite drops a connection's page cache whenever another process committed, then reads the pages
again; and the lock and WAL-index traffic between the two.

    .venv/bin/python bench/sharing.py [--requests 4000] [--rounds 3] [--json FILE]
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import PY, remove_scratch_at_exit, scratch_dir, twilio_form  # noqa: E402
from hotline_setup import NAV_KEYS  # noqa: E402


def _environ(path: str, query: str, body: bytes) -> dict:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.version": (1, 0), "wsgi.input_terminated": True, "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1"}


def _post(app, url: str, form: dict) -> bytes:
    path, _, query = url.partition("?")
    status = []
    body = b"".join(app(_environ(path, query, urlencode(form).encode()), lambda s, h, e=None: status.append(s)))
    if not status or not status[0].startswith("200"):
        raise RuntimeError(f"{url}: {status} {body[:200]!r}")
    return body


def worker(kind: str, database: str, requests: int, tag: str) -> dict:
    """One process's requests; prints its CPU seconds per request as JSON."""
    if kind == "hotline":
        from ivr import create_app

        app = create_app({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench",
                          "AUDIO_DIR": str(Path(database).parent / "audio")})
        logging.getLogger("ivr").setLevel(logging.WARNING)   # no log line: the database is the question
        sids = [f"CA{tag}{n:05d}" for n in range(requests // 60 + 2)]
        for sid in sids:   # answered and in the main menu, as section 1's navigation calls
            _post(app, "/voice", twilio_form(sid))
            _post(app, "/voice/input", twilio_form(sid, Digits="2"))
        lines = [("/voice/input", twilio_form(sid, Digits=key)) for key in NAV_KEYS for sid in sids]
    else:
        from http_bench import stateless_lines
        from stateless import app

        lines = [(url, dict(parse_qsl(body)))
                 for url, body in stateless_lines([f"CA{tag}{n:05d}" for n in range(50)], NAV_KEYS)]
    for url, form in lines[:100]:   # warm
        _post(app, url, form)
    started, done = time.process_time(), 0
    while done < requests:
        for url, form in lines:
            _post(app, url, form)
            done += 1
    cpu_us = (time.process_time() - started) / done * 1e6
    if kind == "hotline":   # every request was a real menu transition, saved: the steps grew
        from sqlalchemy import func, select

        from ivr.hotline.models import Call

        with app.extensions["ivr_db"].Session() as s:
            steps = s.scalar(select(func.sum(Call.steps)).where(Call.call_sid.in_(sids)))
        if steps < done:
            raise RuntimeError(f"only {steps} steps saved for {done} requests")
    return {"cpu_us": cpu_us, "requests": done}


def _case(kind: str, processes: int, database: Path, requests: int, rnd: int) -> list[float]:
    procs = [subprocess.Popen([PY, __file__, "--worker", kind, "--database", str(database), "--requests",
                               str(requests), "--tag", f"r{rnd}p{n}{kind[0]}"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for n in range(processes)]
    out = []
    for proc in procs:
        stdout, _ = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"{kind} worker failed (exit {proc.returncode})")
        out.append(json.loads(stdout.strip().splitlines()[-1])["cpu_us"])
    return out


def run(requests: int = 4000, rounds: int = 3, progress=print) -> dict:
    workdir = scratch_dir("ivr-bench-sharing-")
    database = workdir / "hotline.sqlite3"
    # The schema and the menu versions made once, before processes race to make them.
    subprocess.run([PY, __file__, "--worker", "hotline", "--database", str(database), "--requests", "60",
                    "--tag", "init"], check=True, capture_output=True)
    cases = [("hotline", 1), ("hotline", 2), ("stateless", 1), ("stateless", 2)]
    results: dict[str, list[float]] = {f"{k} x{n}": [] for k, n in cases}
    for rnd in range(rounds):
        for kind, n in cases:
            per = _case(kind, n, database, requests, rnd)
            results[f"{kind} x{n}"].append(statistics.mean(per))
        progress("  sharing round %d: " % rnd + "; ".join(f"{k} {v[-1]:.0f} us" for k, v in results.items()))
    medians = {k: statistics.median(v) for k, v in results.items()}
    return {"requests": requests, "rounds": rounds, "cpu_us": results, "median_cpu_us": medians,
            "hotline_pair_over_alone": medians["hotline x2"] / medians["hotline x1"],
            "stateless_pair_over_alone": medians["stateless x2"] / medians["stateless x1"],
            "hotline_over_stateless_alone": medians["hotline x1"] / medians["stateless x1"],
            "hotline_over_stateless_pair": medians["hotline x2"] / medians["stateless x2"]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=4000, help="requests per process per case")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--worker", choices=("hotline", "stateless"), help=argparse.SUPPRESS)
    p.add_argument("--database", help=argparse.SUPPRESS)
    p.add_argument("--tag", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.database, args.requests, args.tag)))
        return 0
    remove_scratch_at_exit()
    result = run(args.requests, args.rounds)
    print("\nCPU per request, medians of %d rounds (us):" % args.rounds)
    for name, value in result["median_cpu_us"].items():
        print(f"  {name:<13} {value:7.0f}")
    print(f"  hotline: two processes / one: {result['hotline_pair_over_alone']:.2f}; "
          f"stateless: {result['stateless_pair_over_alone']:.2f}")
    print(f"  hotline / stateless: alone {result['hotline_over_stateless_alone']:.2f}, "
          f"two processes {result['hotline_over_stateless_pair']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
