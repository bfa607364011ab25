"""Simulated calls per second in one process (WSGI, one core) for a complete balance inquiry.

The call: answer, 2 (English), 1 (account services), the demo ID number + #, its password + #,
1 (medical balance), hang up; Twilio's status callback closes the call record. Three ways:

- realistic: the local phone (``ivr.phone``, in-process) against the hotline as shipped; the
  password check is scrypt (~130 ms of CPU), once per call, as a real hotline does.
- cheap hash: the same calls with the account service hashing with one-round pbkdf2 (the bench-only
  swap in bench/hotline_setup.py): what a call costs besides the password check.
- webhooks only: the same webhooks of the cheap-hash call as pre-built WSGI requests, no phone:
  the hotline's own share (the phone parses TwiML, keeps a clock, plays the call).

Each figure is the median of six consecutive windows of its calls (the windows are kept in the
results): this machine's speed moves by a fifth within minutes. A cProfile of cheap-hash calls
through the phone says where the time goes, grouped by layer.

Run alone: .venv/bin/python bench/inproc.py [--calls 300] [--realistic-calls 15]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import remove_scratch_at_exit, scratch_dir, twilio_form  # noqa: E402
from hotline_setup import CHEAP_HASH, DEMO_ID, DEMO_PASSWORD, use_cheap_hash  # noqa: E402

KEYS = ["2", "1", DEMO_ID + "#", DEMO_PASSWORD + "#", "1"]
HEARD = "Your medical insurance personal account balance is 1,234 yuan 56 fen."
WEBHOOKS = [("/voice", {}), ("/voice/input", {"Digits": "2"}), ("/voice/input", {"Digits": "1"}),
            ("/voice/input", {"Digits": DEMO_ID}), ("/voice/input", {"Digits": DEMO_PASSWORD}),
            ("/voice/input", {"Digits": "1"}), ("/voice/status", {"CallStatus": "completed", "CallDuration": "80"})]

# Profile groups, by the path of the function's file (first match wins).
LAYERS = [
    ("password hash (hashlib)", ("hashlib", "werkzeug/security.py", "_hashlib")),
    ("SQLite (C library, sqlite3 module)", ("sqlite3",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("account service (ivr.accounts, ivr.hotline.account_flow)", ("ivr/accounts/", "ivr/hotline/account_flow.py", "ivr/tts/readout.py")),
    ("call state load/save (ivr.hotline.calls)", ("ivr/hotline/calls.py",)),
    ("menu engine (ivr.engine)", ("ivr/engine/",)),
    ("TwiML rendering (ivr.web.twiml, twilio)", ("ivr/web/twiml.py", "twilio/")),
    ("prompt audio lookups (ivr.web.audio, ivr.tts)", ("ivr/web/audio.py", "ivr/tts/")),
    ("webhook wrapper + security (ivr.web.voice, .reply, .forms, .security)", ("ivr/web/voice.py", "ivr/web/reply.py", "ivr/web/forms.py", "ivr/web/security/")),
    ("logging (ivr.logs, logging)", ("ivr/logs.py", "logging/")),
    ("JSON", ("json/", "_json")),
    ("Flask + Werkzeug (request, form, routing, response)", ("flask/", "werkzeug/", "itsdangerous/", "urllib/")),
    ("local phone (ivr.phone: TwiML parsing, clock, transport)", ("ivr/phone/", "xml/etree", "requests/",
                                                                  "soundfile", "soxr", "numpy/")),
]


OTHER = "other (datetime, dataclasses, ...)"
PHONE = LAYERS[-1][0]
# Client side of a request in the local phone: encoding the form, werkzeug's test client.
_CLIENT = ("werkzeug/test.py", "werkzeug/sansio/multipart.py")
_CLIENT_FUNCS = ("urlencode", "quote", "quote_plus", "quote_from_bytes")


def layer_of(filename: str, funcname: str) -> str | None:
    """The layer of a function; None for built-ins, whose time goes to their callers' layers."""
    if filename == "~":
        if any(m in funcname for m in ("_hashlib", "sqlite3", "_json")):
            return next(name for name, marks in LAYERS if any(m in funcname for m in marks))
        return None
    if any(m in filename for m in _CLIENT) or ("urllib/parse.py" in filename and funcname in _CLIENT_FUNCS):
        return PHONE
    for name, marks in LAYERS:
        if any(m in filename for m in marks):
            return name
    return OTHER


def profile_summary(prof: cProfile.Profile, calls: int, top: int = 12) -> dict:
    stats = pstats.Stats(prof)
    by_layer: dict[str, float] = defaultdict(float)
    rows = []
    total = 0.0
    for (filename, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        layer = layer_of(filename, func)
        if layer is None:   # a built-in: its time counts for the layers that called it
            for (cfile, _cline, cfunc), caller_stats in callers.items():
                by_layer[layer_of(cfile, cfunc) or OTHER] += caller_stats[2]
        else:
            by_layer[layer] += tt
        total += tt
        rows.append((tt, nc, f"{_short(filename)}:{line}({func})"))
    rows.sort(reverse=True)
    rest = total - sum(by_layer.values())
    if rest > 0:
        by_layer[OTHER] += rest
    return {"total_seconds": total, "calls": calls,
            "layers": sorted(({"layer": k, "share": v / total, "ms_per_call": 1000 * v / calls}
                              for k, v in by_layer.items()), key=lambda r: -r["share"]),
            "top": [{"function": f, "share": tt / total, "ncalls_per_call": nc / calls} for tt, nc, f in rows[:top]]}


def _short(filename: str) -> str:
    for mark in ("site-packages/", "/work/main/", "python3.11/"):
        if mark in filename:
            return filename.split(mark, 1)[1]
    return filename


def make_app(workdir: Path, name: str, audio_dir: Path | None, cheap: bool):
    from ivr import create_app
    from ivr.accounts.seed import seed_demo

    app = create_app({"DATABASE_URL": f"sqlite:///{workdir / (name + '.sqlite3')}", "SECRET_KEY": "bench-secret",
                      "AUDIO_DIR": str(audio_dir or workdir / "audio")})
    logging.getLogger("ivr").setLevel(logging.WARNING)   # the in-process log lines would go to this terminal
    seed_demo(app.extensions["ivr_db"].Session, hash_method=CHEAP_HASH if cheap else "scrypt")
    if cheap:
        use_cheap_hash(app)
    return app


def phone_calls(app, count: int) -> dict:
    from ivr.phone.targets import app_phone

    phone = app_phone(app, status_callback="http://localhost/voice/status")
    call = phone.run(KEYS)   # warm-up, and a check that the call is the one measured
    said = [e.get("text") for e in call.events if e.get("verb") == "Say"]
    if HEARD not in said:
        raise RuntimeError(f"the scripted call did not hear the balance: {said[-3:]}")
    webhooks = sum(1 for r in call.requests if r.get("purpose") != "audio")
    cpu = time.process_time()
    rates = _windows(count, lambda: phone.run(KEYS))
    rate = statistics.median(rates)
    return {"calls": count, "seconds": round(count / rate, 3), "calls_per_second": rate,
            "windows": [round(r, 1) for r in rates], "cpu_seconds": round(time.process_time() - cpu, 3),
            "webhooks_per_call": webhooks, "requests_per_call": len(call.requests), "ms_per_call": 1000 / rate}


WINDOWS = 6


def _windows(count: int, one_call) -> list[float]:
    """Calls per second in ``WINDOWS`` consecutive windows of the ``count`` calls. The median is
    the figure: on this shared machine the speed moves by a fifth within minutes (docs/hotpath.md,
    round 6), and one slow second would otherwise decide the run."""
    size = max(1, count // WINDOWS)
    rates = []
    for _ in range(WINDOWS):
        started = time.perf_counter()
        for _ in range(size):
            one_call()
        rates.append(size / (time.perf_counter() - started))
    return rates


def webhook_calls(app, count: int) -> dict:
    """The call's webhooks as raw WSGI requests (what a WSGI server hands the app)."""
    def environ(path: str, form: dict) -> dict:
        data = urlencode(form).encode()
        return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "CONTENT_LENGTH": str(len(data)),
                "CONTENT_TYPE": "application/x-www-form-urlencoded", "wsgi.input": io.BytesIO(data),
                "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
                "wsgi.run_once": False}

    def one(sid: str) -> bytes:
        last = b""
        for path, extra in WEBHOOKS:
            status = []
            result = app(environ(path, twilio_form(sid, **extra)), lambda s, h, e=None: status.append(s))
            body = b"".join(result)
            if hasattr(result, "close"):
                result.close()
            if not status[0].startswith("200"):
                raise RuntimeError(f"{path}: {status[0]}")
            if path == "/voice/input" and extra.get("Digits") == "1" and b"balance is" in body:
                last = body
        if HEARD.encode() not in last:
            raise RuntimeError("webhooks-only call did not hear the balance")
        return last

    one("CAwarmwebhooks")
    numbers = iter(range(count + WINDOWS))
    rates = _windows(count, lambda: one(f"CAwh{next(numbers):06d}"))
    rate = statistics.median(rates)
    return {"calls": count, "seconds": round(count / rate, 3), "calls_per_second": rate,
            "windows": [round(r, 1) for r in rates], "webhooks_per_call": len(WEBHOOKS),
            "ms_per_call": 1000 / rate, "ms_per_webhook": 1000 / rate / len(WEBHOOKS)}


def scrypt_check_ms(app, repeat: int = 5) -> float:
    from sqlalchemy import select
    from werkzeug.security import check_password_hash

    from ivr.accounts.models import Account

    with app.extensions["ivr_db"].Session() as s:
        pwhash = s.scalar(select(Account.password_hash).where(Account.id_number == DEMO_ID))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        assert check_password_hash(pwhash, DEMO_PASSWORD)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times), pwhash.split("$", 1)[0]


def run(calls: int = 300, realistic_calls: int = 15, profile_calls: int = 150, workdir: Path | None = None,
        audio_dir: Path | None = None, progress=print) -> dict:
    workdir = workdir or scratch_dir("ivr-bench-inproc-")
    real = make_app(workdir, "realistic", audio_dir, cheap=False)
    cheap = make_app(workdir, "cheap", audio_dir, cheap=True)
    scrypt_ms, method = scrypt_check_ms(real)
    out = {"scrypt_ms": scrypt_ms, "hash_method": method}
    out["realistic"] = phone_calls(real, realistic_calls)
    progress(f"  in-process: realistic (scrypt) {out['realistic']['calls_per_second']:.1f} calls/s")
    out["cheap"] = phone_calls(cheap, calls)
    progress(f"  in-process: cheap hash {out['cheap']['calls_per_second']:.0f} calls/s")
    out["webhooks"] = webhook_calls(cheap, calls)
    progress(f"  in-process: webhooks only {out['webhooks']['calls_per_second']:.0f} calls/s")
    from ivr.phone.targets import app_phone

    phone = app_phone(cheap, status_callback="http://localhost/voice/status")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(profile_calls):
        phone.run(KEYS)
    prof.disable()
    out["profile"] = profile_summary(prof, profile_calls)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        phone_calls_once(real)
    prof.disable()
    out["profile_realistic"] = profile_summary(prof, 3, top=5)
    return out


def phone_calls_once(app) -> None:
    from ivr.phone.targets import app_phone

    app_phone(app, status_callback="http://localhost/voice/status").run(KEYS)


def cheap_only(calls: int, audio_dir: Path | None) -> dict:
    """The cheap-hash call through the phone alone, in this process: what bench/run.py runs for the
    code before and after, alternately, each in a fresh process (``--cheap-only``)."""
    workdir = scratch_dir("ivr-bench-inproc-ab-")
    return phone_calls(make_app(workdir, "cheap", audio_dir, cheap=True), calls)


if __name__ == "__main__":
    remove_scratch_at_exit()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--realistic-calls", type=int, default=15)
    p.add_argument("--cheap-only", action="store_true", help="only the cheap-hash call; one JSON line")
    p.add_argument("--audio-dir", type=Path, default=None)
    a = p.parse_args()
    import json

    if a.cheap_only:
        print(json.dumps(cheap_only(a.calls, a.audio_dir)))
    else:
        print(json.dumps(run(a.calls, a.realistic_calls, audio_dir=a.audio_dir), indent=2))
