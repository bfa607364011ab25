"""A hotline for benchmarking: its own database (demo + made-up accounts), rendered prompt audio,
and the calls the load needs, created before the load starts.

The server is ``ivr serve`` with IVR_* settings (what an operator runs); this module opens the same
database in the benchmark process to seed it, to copy a logged-in call and to check the results.
"""
from __future__ import annotations

import concurrent.futures as cf
import copy
import logging
import os
import random
import subprocess
import uuid
from pathlib import Path

import requests
from sqlalchemy import func, insert, select

from common import IVR, PY, ROOT, body, hotline_cmd, serve_cmd, server, twilio_form

DEMO_ID, DEMO_PASSWORD = "110101199003074573", "074573"
# Keys of the navigation load: main menu -> a submenu -> back, through three submenus. Every key
# is a valid choice where it is pressed, so each webhook is a real menu transition.
NAV_KEYS = ("2", "*", "3", "*", "4", "*")
# Keys of the lookup load, pressed in the account menu: medical balance, pension balance.
LOOKUP_KEYS = ("1", "2")
# Webhooks a call may take before the loop guard ends it (menus.toml max_steps = 120), with margin.
STEPS_PER_CALL = 100
# The bench-only password hash (what bulk-seeded accounts start with): ~0.03 ms instead of scrypt's
# ~130 ms, to show what a call costs besides the one password check.
CHEAP_HASH = "pbkdf2:sha256:1"
# The "before" code: the ivr package as the previous benchmark run measured it (the last commit
# before this round of work), served side by side in the same run (bench/run.py, unless --no-before).
# Earlier rounds: f8412d1374 (before the call-state and TwiML work), 328d76fcc3 (before the hot-path
# work, docs/hotpath.md); this one: main before the webhook lane and orjson (issue 17, round 4).
BEFORE_COMMIT = "f2b666fb8c05a9ae44cfdd7574f193241c2d1175"


def use_cheap_hash(app) -> None:
    """Swap the app's account service for one hashing with CHEAP_HASH (so no upgrade to scrypt)."""
    from ivr.accounts.service import AccountService

    hotline = app.extensions["ivr_hotline"]
    hotline.services.accounts = AccountService.from_config(app.config, app.extensions["ivr_db"].Session,
                                                           hash_method=CHEAP_HASH)


def cheap_hash_app():
    """``ivr.create_app()`` (IVR_* settings) with the cheap-hash account service: bench/serve.py."""
    from ivr import create_app

    app = create_app()
    use_cheap_hash(app)
    return app


def before_tree(dest: Path) -> dict | None:
    """The ivr package as of BEFORE_COMMIT in ``dest``; returns the environment that serves it
    (PYTHONPATH first), or None when git cannot give it (no history, e.g. a source tarball)."""
    import io
    import tarfile

    try:
        tar = subprocess.run(["git", "archive", "--format=tar", BEFORE_COMMIT, "ivr"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(dest, filter="data")
    env = {"PYTHONPATH": str(dest), "IVR_MENUS_FILE": str(ROOT / "menus.toml"),
           "IVR_PROMPTS_DIR": str(ROOT / "prompts")}
    # Make sure that is the code a server started this way runs (not the project's own ivr).
    found = subprocess.run([PY, "-P", "-c", "import ivr.hotline.calls; print(ivr.hotline.calls.__file__)"], cwd=ROOT,
                           env={**os.environ, **env}, capture_output=True, text=True).stdout.strip()
    if not found.startswith(str(dest)):
        raise RuntimeError(f"the before code would not be used (ivr.hotline.calls from {found!r})")
    return env


def before_cmd(port: int, workers: int = 2) -> list[str]:
    # -P: the working folder (the project) must not come before PYTHONPATH (the old code).
    return [PY, "-P", "-c", "import sys; from ivr.cli import main; sys.exit(main())", "serve", "--port", str(port),
            "--workers", str(workers)]


class BenchHotline:
    def __init__(self, workdir: Path, accounts: int = 10_000, seed: int = 8, render_audio: bool = True,
                 extra_env: dict | None = None, database_url: str | None = None):
        """A hotline on SQLite in ``workdir`` (or on ``database_url``: bench/postgres.py)."""
        self.workdir = workdir
        self.db_path = workdir / "hotline.sqlite3"
        self.env = {
            "IVR_DATABASE_URL": database_url or f"sqlite:///{self.db_path}",
            "IVR_AUDIO_DIR": str(workdir / "audio"),
            "IVR_SECRET_KEY": "bench-secret",
            # gunicorn's control socket goes here, not to the shared $HOME/.gunicorn/gunicorn.ctl
            "XDG_RUNTIME_DIR": str(workdir),
            **(extra_env or {}),
        }
        self.config = {"DATABASE_URL": self.env["IVR_DATABASE_URL"], "AUDIO_DIR": self.env["IVR_AUDIO_DIR"],
                       "SECRET_KEY": "bench-secret"}
        self.app = None
        self.accounts = accounts
        self.seed = seed
        self.render_audio = render_audio
        self.seed_seconds = 0.0

    # -- preparing -------------------------------------------------------------------------------
    def prepare(self) -> "BenchHotline":
        from ivr import create_app
        from ivr.accounts.seed import seed_bulk, seed_demo

        self.app = create_app(self.config)
        quiet = logging.getLogger("ivr")
        quiet.setLevel(logging.WARNING)
        session = self.app.extensions["ivr_db"].Session
        seed_demo(session)
        if self.accounts:
            self.seed_seconds = seed_bulk(session, self.accounts, self.seed, hash_method=CHEAP_HASH).seconds
        if self.render_audio:
            subprocess.run([IVR, "prompts", "render"], env={**os.environ, **self.env}, check=True,
                           capture_output=True)
        return self

    def serve(self, port: int, workers: int = 2, log: Path | None = None, app: str | None = None,
              cmd: list[str] | None = None, env: dict | None = None):
        """``ivr serve`` on this database; ``app`` names a bench/serve.py app instead."""
        cmd = cmd or (serve_cmd(app, port, workers) if app else hotline_cmd(port, workers))
        return server(app or "hotline", cmd, port, {**self.env, **(env or {})}, log)

    @property
    def db(self):
        return self.app.extensions["ivr_db"]

    # -- calls -----------------------------------------------------------------------------------
    def new_calls(self, url: str, count: int, prefix: str, threads: int = 8) -> list[str]:
        """``count`` calls over HTTP, each answered and taken to the main menu in English."""
        sids = [f"CA{prefix}{n:06d}{uuid.uuid4().hex[:8]}" for n in range(count)]

        def place(sid: str) -> None:
            with requests.Session() as http:
                for route, extra in (("/voice", {}), ("/voice/input", {"Digits": "2"})):
                    r = http.post(url + route, data=twilio_form(sid, **extra), timeout=30)
                    r.raise_for_status()
                if "main_menu" not in r.text and "For your personal account, press 1." not in r.text:
                    raise RuntimeError(f"call {sid} did not reach the main menu: {r.text[:300]}")

        with cf.ThreadPoolExecutor(threads) as pool:
            list(pool.map(place, sids))
        return sids

    def login(self, url: str, sid: str, id_number: str = DEMO_ID, password: str = DEMO_PASSWORD) -> dict:
        """A real login over HTTP; returns the milliseconds of each webhook."""
        import time

        timings = {}
        with requests.Session() as http:
            for name, route, extra in (("answer", "/voice", {}), ("language", "/voice/input", {"Digits": "2"}),
                                       ("main menu", "/voice/input", {"Digits": "1"}),
                                       ("ID number", "/voice/input", {"Digits": id_number}),
                                       ("password (scrypt check)", "/voice/input", {"Digits": password})):
                started = time.perf_counter()
                r = http.post(url + route, data=twilio_form(sid, **extra), timeout=30)
                timings[name] = (time.perf_counter() - started) * 1000
                r.raise_for_status()
        if "account_menu" not in r.text and "For your medical insurance balance, press 1." not in r.text:
            raise RuntimeError(f"login of {sid} failed: {r.text[:300]}")
        return timings

    def clone_logged_in(self, template_sid: str, count: int, prefix: str, rng: random.Random) -> list[str]:
        """Copies of a logged-in call (its state as the login left it), each bound to a random
        account, so the lookup load reads many accounts without paying one scrypt check per call."""
        from ivr.accounts.idnumber import mask_id
        from ivr.accounts.models import Account
        from ivr.hotline.models import Call

        with self.db.Session() as s, s.begin():
            row = s.execute(select(Call).where(Call.call_sid == template_sid)).scalar_one()
            template = {c.name: getattr(row, c.name) for c in Call.__table__.columns}
            max_id = s.scalar(select(func.max(Account.id)))
            ids = [rng.randint(1, max_id) for _ in range(count)]
            numbers = dict(s.execute(select(Account.id, Account.id_number).where(Account.id.in_(set(ids)))).all())
            rows, sids = [], []
            for n, account_id in enumerate(ids):
                if account_id not in numbers:
                    continue
                sid = f"CA{prefix}{n:06d}{uuid.uuid4().hex[:8]}"
                state = copy.deepcopy(template["state"])
                state["call_sid"] = sid
                state["data"]["account_id"] = account_id
                state["data"]["masked_id"] = mask_id(numbers[account_id])
                rows.append({**template, "call_sid": sid, "state": state})
                sids.append(sid)
            for chunk in range(0, len(rows), 2000):
                s.execute(insert(Call), rows[chunk:chunk + 2000])
        return sids

    def accounts_sample(self, count: int, rng: random.Random) -> list[str]:
        """ID numbers of ``count`` made-up accounts (initial password: the last 6 characters)."""
        from ivr.accounts.models import Account
        from ivr.accounts.seed import DEMO_ID_NUMBERS

        with self.db.Session() as s:
            numbers = [n for n in s.scalars(select(Account.id_number).where(Account.password_is_initial))
                       if n not in DEMO_ID_NUMBERS]
        rng.shuffle(numbers)
        return numbers[:count]

    def check_calls(self, sids: list[str]) -> dict:
        """Steps taken and problems (errors, loop guard) among these calls."""
        from ivr.hotline.models import Call

        with self.db.Session() as s:
            steps = errors = 0
            for chunk in range(0, len(sids), 500):
                part = sids[chunk:chunk + 500]
                steps += s.scalar(select(func.sum(Call.steps)).where(Call.call_sid.in_(part))) or 0
                errors += s.scalar(select(func.count()).select_from(Call).where(
                    Call.call_sid.in_(part),
                    (Call.error_code.is_not(None)) | (Call.outcome.in_(("error", "loop_guard"))))) or 0
        return {"steps": int(steps), "bad_calls": int(errors)}


def request_lines(sids: list[str], keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """Round r sends keys[r % len(keys)] to every call in turn: a call's next webhook comes only
    after every other call's, so with far more calls than connections it is never in flight twice."""
    return [("/voice/input", body(sid, Digits=keys[r])) for r in range(len(keys)) for sid in sids]


def calls_needed(expected_requests: float) -> int:
    return max(200, int(expected_requests * 1.3 / STEPS_PER_CALL) + 1)


def check_answer(url: str, sid: str, digits: str, expect: str) -> str:
    r = requests.post(url + "/voice/input", data=twilio_form(sid, Digits=digits), timeout=30)
    if expect not in r.text:
        raise RuntimeError(f"unexpected answer for {sid} {digits}: {r.text[:400]}")
    return r.text
