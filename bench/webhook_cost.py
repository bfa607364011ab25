"""In-process cost of one webhook (raw WSGI, one core), next to the ceiling app in the same process.

Prints one JSON object: microseconds per request (median of rounds) for the ceiling app, a menu
navigation webhook (/voice/input with a valid key, state loaded and committed) and a balance lookup
(a logged-in call pressing 1 and 2). Runs the ``ivr`` package Python finds first, so with
PYTHONPATH pointing at a copy of the old code (bench/hotline_setup.py: before_tree) it measures the
code before the changes. Used by bench/run.py; alone: .venv/bin/python bench/webhook_cost.py
"""
from __future__ import annotations

import io
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import twilio_form  # noqa: E402

ID, PASSWORD = "110101199003074573", "074573"


def environ(path: str, form: dict) -> dict:
    data = urlencode(form).encode()
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "http", "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data), "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False}


def post(app, path: str, form: dict) -> bytes:
    status = []
    result = app(environ(path, form), lambda s, h, e=None: status.append(s))
    data = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    if not status[0].startswith("200"):
        raise RuntimeError(f"{path}: {status[0]}")
    return data


def per_request(app, requests: list, n: int, clock=time.perf_counter) -> float:
    started = clock()
    for i in range(n):
        path, form = requests[i % len(requests)]
        post(app, path, form)
    return (clock() - started) / n * 1e6


def main() -> None:
    from ceiling import app as ceiling

    from ivr import create_app
    from ivr.accounts.seed import seed_demo

    tmp = Path(tempfile.mkdtemp(prefix="ivr-bench-cost-"))
    args = [a for a in sys.argv[1:] if a != "--cpu"]
    audio = args[0] if args else str(tmp / "audio")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp / 'cost.sqlite3'}", "AUDIO_DIR": audio,
                      "SECRET_KEY": "bench-secret"})
    logging.getLogger("ivr").setLevel(logging.WARNING)
    seed_demo(app.extensions["ivr_db"].Session)
    nav_sids = [f"CAcostnav{i:04d}" for i in range(200)]
    for sid in nav_sids:
        post(app, "/voice", twilio_form(sid))
        post(app, "/voice/input", twilio_form(sid, Digits="2"))
    nav = [("/voice/input", twilio_form(sid, Digits=k)) for k in ("2", "*", "3", "*", "4", "*") for sid in nav_sids]
    # Lookups: a few logged-in calls (each login is one scrypt check), up to 100 webhooks each.
    look_sids = [f"CAcostlook{i:02d}" for i in range(16)]
    for sid in look_sids:
        post(app, "/voice", twilio_form(sid))
        for digits in ("2", "1", ID, PASSWORD):
            answer = post(app, "/voice/input", twilio_form(sid, Digits=digits))
        if b"account_menu" not in answer and b"medical insurance balance" not in answer:
            raise RuntimeError(f"login failed: {answer[:300]!r}")
    look = [("/voice/input", twilio_form(sid, Digits=k)) for k in ("1", "2") for sid in look_sids]
    rounds = {"ceiling": [], "navigation": [], "lookup": []}
    budget = {"navigation": 900, "lookup": 300}   # per round; a call may take 120 webhooks in all
    # --cpu: CPU time of this process (time.process_time) over many short windows, the fastest
    # window kept: on a shared machine other processes stretch wall time, and even CPU time (shared
    # cores and caches), but only ever upwards (bench/hotpath.py).
    cpu = "--cpu" in sys.argv
    clock, windows, pick = (time.process_time, 8, min) if cpu else (time.perf_counter, 3, statistics.median)
    scale = 3 / windows
    for _ in range(windows):
        rounds["ceiling"].append(per_request(ceiling, nav, int(1500 * scale), clock))
        rounds["navigation"].append(per_request(app, nav, int(budget["navigation"] * scale), clock))
        rounds["ceiling"].append(per_request(ceiling, nav, int(1500 * scale), clock))
        rounds["lookup"].append(per_request(app, look, int(budget["lookup"] * scale), clock))
    out = {k: pick(v) for k, v in rounds.items()}
    out["ivr"] = str(Path(sys.modules["ivr"].__file__).parent)
    app.extensions["ivr_db"].dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
