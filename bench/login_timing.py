#!/usr/bin/env python3
"""Login timing (issue 16): does the answer to a wrong password tell whether the ID number exists?

``ivr serve`` (2 workers, SQLite, the default scrypt cost) with the demo accounts, made-up accounts
seeded the way ``ivr db seed --accounts`` does now (the configured cost, one hash per distinct
password) and, as the baseline in the same run, made-up accounts with the one-iteration hash bulk
seeding stored before. For each kind, the password webhook of a call that keys a wrong password is
timed over HTTP; samples are interleaved so load changes hit all kinds alike. Medians and their
ratios go to ``bench/results/login-timing.json`` (rendered into docs/benchmarks.md by report.py).

    .venv/bin/python bench/login_timing.py [--samples 20]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, hotline_cmd, remove_scratch_at_exit, scratch_dir, server  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "login-timing.json"
OLD_BULK_HASH = "pbkdf2:sha256:1"   # what bulk seeding stored before issue 16


def _unknown(n: int) -> list[str]:
    from ivr.accounts.idnumber import check_digit

    return [(b := f"33010619870512{i:03d}") + check_digit(b) for i in range(n)]


def _action(xml: str) -> str:
    gather = ET.fromstring(xml).find(".//Gather")
    assert gather is not None, xml
    return gather.get("action")


def _timed_wrong_password(url: str, number: str, id_number: str) -> float:
    sid = "CA" + uuid.uuid4().hex
    http = requests.Session()
    form = {"CallSid": sid, "From": number, "To": "+8612333"}
    xml = http.post(url + "/voice", data=form, timeout=60).text
    for keys in ("2", "1", id_number):
        xml = http.post(url + _action(xml), data={**form, "Digits": keys}, timeout=60).text
    started = time.perf_counter()
    answer = http.post(url + _action(xml), data={**form, "Digits": "918273"}, timeout=60).text
    elapsed = time.perf_counter() - started
    assert "not correct" in answer, answer
    return elapsed


def run(samples: int = 20, progress=print) -> dict:
    from sqlalchemy import select

    from ivr.accounts.models import Account
    from ivr.accounts.seed import DEMO_ID_NUMBERS, seed_bulk, seed_demo
    from ivr.accounts.service import DEFAULT_HASH_METHOD
    from ivr.hotline.db import Database

    work = scratch_dir("ivr-bench-login-")
    db_url = f"sqlite:///{work / 'ivr.sqlite3'}"
    db = Database(db_url)
    db.create_all()
    seed_demo(db.Session)
    started = time.perf_counter()
    seed_bulk(db.Session, samples, 21, hash_method=DEFAULT_HASH_METHOD, spending=False)
    seed_seconds = time.perf_counter() - started
    with db.Session() as s:
        now_style = [n for n in s.scalars(select(Account.id_number).order_by(Account.id)) if n not in DEMO_ID_NUMBERS]
    seed_bulk(db.Session, samples, 22, hash_method=OLD_BULK_HASH, spending=False)
    with db.Session() as s:
        old_style = [n for n in s.scalars(select(Account.id_number).order_by(Account.id))
                     if n not in DEMO_ID_NUMBERS and n not in now_style]
    db.dispose()
    port = free_port()
    env = {"IVR_DATABASE_URL": db_url, "IVR_VOICE_MODE": "say", "IVR_NOW": "2026-11-25T10:00:00+08:00",
           "IVR_SECRET_KEY": "bench-secret", "IVR_AUDIO_DIR": str(work / "audio"), "IVR_LOGIN_BUDGET": "100000",
           "IVR_CALLER_MAX_FAILURES": "100000", "XDG_RUNTIME_DIR": str(work), "TWILIO_AUTH_TOKEN": ""}
    times: dict[str, list[float]] = {"known": [], "unknown": [], "old_cheap": []}
    with server("hotline", hotline_cmd(port, 2), port, env) as live:
        url = live.url
        _timed_wrong_password(url, "+8613000000000", _unknown(1)[0])   # warm-up: both workers' imports
        for i, (known, unknown, old) in enumerate(zip(now_style, _unknown(samples + 1)[1:], old_style)):
            times["known"].append(_timed_wrong_password(url, f"+86131{i:08d}", known))
            times["unknown"].append(_timed_wrong_password(url, f"+86132{i:08d}", unknown))
            times["old_cheap"].append(_timed_wrong_password(url, f"+86133{i:08d}", old))
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "samples": samples,
        "hash_method": DEFAULT_HASH_METHOD, "seed_seconds": round(seed_seconds, 2),
        "median_ms": {k: round(v, 1) for k, v in med.items()},
        "ratio_known_to_unknown": round(med["known"] / med["unknown"], 3),
        "ratio_old_cheap_to_unknown": round(med["old_cheap"] / med["unknown"], 3),
        "command": ".venv/bin/python bench/login_timing.py" + (f" --samples {samples}" if samples != 20 else ""),
    }
    progress(json.dumps(result, indent=1))
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=20)
    args = p.parse_args()
    remove_scratch_at_exit()
    result = run(args.samples)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
