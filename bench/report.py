"""docs/benchmarks.md from the results of bench/run.py (a dict, also saved as bench/results/latest.json)."""
from __future__ import annotations

import statistics

from hotline_setup import BEFORE_COMMIT

NAV_TARGET, LOOKUP_TARGET, P99_TARGET = 0.7, 0.5, 50.0
CALLS_TARGET, TTS_COLD_TARGET, TTS_WARM_TARGET = 200.0, 1.5, 0.5
RSS_TARGET, RSS_GROWTH_LIMIT = 100.0, 2.0
FLAT_BAND = (0.8, 1.25)


def yes(ok: bool | None) -> str:
    return "—" if ok is None else ("**yes**" if ok else "**no**")


def f0(x) -> str:
    return "—" if x is None else f"{x:,.0f}"


def f1(x) -> str:
    return "—" if x is None else f"{x:,.1f}"


def f2(x) -> str:
    return "—" if x is None else f"{x:.2f}"


def render(r: dict, args, million: dict | None) -> str:
    r = {**r, "_million": million}
    out: list[str] = []
    w = out.append
    m = r["machine"]
    flags = " ".join(r.get("argv") or []) or "(defaults)"
    w("# Benchmarks\n")
    w(f"Written by `bench/run.py` (`make bench`) on **{r['date']}**, flags: `{flags}`, in {r['seconds']:.0f} s. "
      "Do not edit by hand: run `make bench` again.\n")
    w("Every figure stands next to a baseline measured **in the same run, on the same machine, under the same "
      "server settings**: these machines are shared (other work may run beside a benchmark; the load averages below say how busy this run's machine was), so "
      "absolute figures drift by ±30% from minute to minute while ratios to a baseline measured seconds "
      "apart drift much less. Read the ratios. Benchmarks are not tests: nothing here is asserted by "
      "`make test`.\n")
    if r.get("errors"):
        w("**Sections that failed in this run:** " + "; ".join(f"{k}: `{v}`" for k, v in r["errors"].items()) + "\n")
    w("## Machine\n")
    w("| | |\n|---|---|")
    w(f"| CPU | {m['cpu']}, {m['cores']} cores, {m['memory_mb']:,} MB RAM, Linux {m['kernel']} |")
    w(f"| software | Python {m['python']}, SQLite {m['sqlite']}, Flask {m['flask']}, Werkzeug {m['werkzeug']}, "
      f"SQLAlchemy {m['sqlalchemy']}, gunicorn {m['gunicorn']}, twilio {m['twilio']}, {m['wrk']} |")
    la, lb = m.get("load_before"), m.get("load_after")
    w(f"| load average (1, 5, 15 min) | before {_loadavg(la)}; after {_loadavg(lb)} |\n")

    _summary(r, w)
    _rerun(w)
    _http(r, w)
    _ladder(r, w)
    _inproc(r, w)
    _tts(r, w)
    _memory(r, w)
    _growth(r, w, million)
    _load(r, w)
    _login_timing(w)
    _changes(r, w)
    _left(r, w)
    return "\n".join(out) + "\n"


def _loadavg(v) -> str:
    return ", ".join(f"{x:.2f}" for x in v) if v else "?"


# -- summary ------------------------------------------------------------------------------------

def _summary(r: dict, w) -> None:
    w("## Targets at a glance\n")
    w("| # | measure | this run | baseline (same run) | ratio | target | met |")
    w("|---|---|---:|---:|---:|---|---|")
    http = r.get("http", {}).get("summary", {})
    for c, row in http.items():
        base = row.get("ceiling", {})
        for app, target in (("navigation", NAV_TARGET), ("lookup", LOOKUP_TARGET)):
            x = row.get(app)
            if x:
                w(f"| 1 | {app} webhooks, concurrency {c} | {f0(x['rps'])} req/s | ceiling {f0(base.get('rps'))} req/s "
                  f"| {f2(x['ratio'])}× | ≥ {target}× | {yes(x['ratio'] >= target)} |")
    if "50" in http:
        for app in ("navigation", "lookup"):
            x = http["50"].get(app)
            if x:
                w(f"| 1 | {app} p99 latency, concurrency 50 | {f1(x['p99_ms'])} ms | ceiling "
                  f"{f1(http['50']['ceiling']['p99_ms'])} ms | | < {P99_TARGET:.0f} ms | {yes(x['p99_ms'] < P99_TARGET)} |")
    ip = r.get("inproc")
    if ip:
        w(f"| 2 | complete balance call in-process, scrypt login (realistic) | {f1(ip['realistic']['calls_per_second'])} "
          f"calls/s | | | ≥ {CALLS_TARGET:.0f} calls/s | {yes(ip['realistic']['calls_per_second'] >= CALLS_TARGET)} |")
        w(f"| 2 | the same call, cheap password hash (all but the scrypt check) | {f1(ip['cheap']['calls_per_second'])} "
          f"calls/s | | | ≥ {CALLS_TARGET:.0f} calls/s | {yes(ip['cheap']['calls_per_second'] >= CALLS_TARGET)} |")
        w(f"| 2 | its webhooks alone, no phone (cheap hash) | {f1(ip['webhooks']['calls_per_second'])} calls/s | | | "
          f"≥ {CALLS_TARGET:.0f} calls/s | {yes(ip['webhooks']['calls_per_second'] >= CALLS_TARGET)} |")
    t = r.get("tts")
    if t and "cold_s" in t:
        w(f"| 3 | TTS cold render of all static prompts | {t['cold_s']:.2f} s | `espeak-ng -w` {t['floor_s']:.2f} s | "
          f"{t['cold_s'] / t['floor_s']:.2f}× | ≤ {TTS_COLD_TARGET}× | {yes(t['cold_s'] / t['floor_s'] <= TTS_COLD_TARGET)} |")
        w(f"| 3 | TTS warm (cached) render | {t['warm_s'] * 1000:.1f} ms | | | ≤ {TTS_WARM_TARGET} s | "
          f"{yes(t['warm_s'] <= TTS_WARM_TARGET)} |")
    mem = r.get("memory")
    if mem:
        w(f"| 4 | worker peak RSS after {mem['calls']:,} calls | {mem['peak_mb']:.1f} MB | | | ≤ {RSS_TARGET:.0f} MB | "
          f"{yes(mem['peak_mb'] <= RSS_TARGET)} |")
        w(f"| 4 | worker RSS growth, 1,000 → {mem['calls']:,} calls | {mem['growth_mb']:+.1f} MB | RSS at 1,000 calls "
          f"{mem['rss_1k_mb']:.1f} MB | | none (≤ {RSS_GROWTH_LIMIT:.0f} MB) | {yes(mem['growth_mb'] <= RSS_GROWTH_LIMIT)} |")
    g = r.get("growth")
    if g and len(g["steps"]) > 1:
        first, last = g["steps"][0], g["steps"][-1]
        rel = last["ratio"] / first["ratio"]
        w(f"| 5 | lookup throughput, {last['accounts']:,} vs {first['accounts']:,} accounts | {f2(last['ratio'])}× ceiling | "
          f"{f2(first['ratio'])}× ceiling | {rel:.2f} | flat ({FLAT_BAND[0]}–{FLAT_BAND[1]}) | "
          f"{yes(FLAT_BAND[0] <= rel <= FLAT_BAND[1])} |")
    million = r.get("_million")
    if million and not any(s["accounts"] >= 1_000_000 for s in (g or {}).get("steps", [])):
        steps = million["growth"]["steps"]
        big = next((s for s in steps if s["accounts"] >= 1_000_000), None)
        if big:
            rel = big["ratio"] / steps[0]["ratio"]
            w(f"| 5 | lookup throughput, {big['accounts']:,} vs {steps[0]['accounts']:,} accounts (run of "
              f"{million['date']}, `--million`) | {f2(big['ratio'])}× ceiling | {f2(steps[0]['ratio'])}× ceiling | "
              f"{rel:.2f} | flat ({FLAT_BAND[0]}–{FLAT_BAND[1]}) | {yes(FLAT_BAND[0] <= rel <= FLAT_BAND[1])} |")
    w("")


def _rerun(w) -> None:
    w("## Re-running\n")
    w("```sh\nmake bench                                  # = .venv/bin/python bench/run.py (about 10 minutes)\n"
      ".venv/bin/python bench/run.py --million     # adds the 1,000,000-account growth step (kept in bench/results/growth-1m.json)\n"
      ".venv/bin/python bench/run.py --only http   # one section: http ladder cost inproc tts memory growth load\n"
      ".venv/bin/python bench/run.py --quick       # a short smoke run of the benchmark itself\n```\n")
    w("Each section also runs alone (`bench/http_bench.py`, `bench/inproc.py`, `bench/memory.py`, `bench/growth.py`, "
      "`bench/load_bench.py`, `bench/bench_tts.py`; `--help` for options). Raw results: `bench/results/latest.json`. "
      "Servers are started on free loopback ports and stopped by process group; scratch databases go to a "
      "temporary folder that is removed at the end (`--keep` keeps it).\n")


# -- 1. http -----------------------------------------------------------------------------------

def _http(r: dict, w) -> None:
    h = r.get("http")
    w("## 1. Webhook throughput and latency over HTTP\n")
    if not h:
        w("_Not run._\n")
        return
    w("Servers: the hotline by `ivr serve --workers 2` (gunicorn, 2 sync workers, SQLite in WAL mode, prompt "
      "audio rendered so menus answer with `<Play>`), and the ceiling, `bench/ceiling.py` (a bare Flask app "
      "returning one constant TwiML document of the hotline's size), served by the same "
      "`ivr.web.server.run_gunicorn` (`bench/serve.py ceiling`). Load: wrk, 1 thread, N connections, "
      f"{h['seconds']:g} s per run, POSTing Twilio-shaped forms (CallSid, AccountSid, From, To, CallStatus...) "
      f"from `bench/lua/post.lua`:\n\n    {h['command']}\n")
    w("- **navigation**: calls are created first (`POST /voice`, then key 2 for English), then each request is "
      "`POST /voice/input` with a valid key for where that call is: main menu → 2 → `*` → 3 → `*` → 4 → `*`. "
      "Each webhook loads the call's state from the database, runs the menu engine, commits the new state, "
      "renders TwiML and logs one line. Requests go to the calls in turn, so a call never has two webhooks "
      "in flight, and there are enough calls that none reaches the loop guard (120 webhooks).")
    w("- **lookup** (authenticated balance lookup): logged-in calls in the account menu pressing 1 (medical "
      "balance) and 2 (pension balance): the same as navigation plus the account's balance query and a "
      "dynamic read-out. *Decision:* a real caller's password is checked **once per call** (scrypt, "
      "~130 ms of CPU), not per webhook; a run needs hundreds of logged-in calls, which would cost a minute of "
      "scrypt. So one call logs in for real over HTTP, and its stored state (account id, masked ID) is "
      "copied to the load's calls, each bound to a random one of the 10,000 made-up accounts. The login "
      "webhooks are measured separately below.")
    w(f"- Rounds: {h['rounds']}; in each round and at each concurrency the ceiling runs first, then the others "
      "one after the other; ratios are taken within a round, the table shows medians over rounds.")
    if h.get("before"):
        w(f"- **(before)** rows: the `ivr` package as of commit `{BEFORE_COMMIT[:10]}` (what the previous run of "
          "this benchmark measured), served the same way on the same database in the same rounds.")
    w("")
    w("| concurrency | app | req/s | × ceiling | p50 ms | p99 ms | worst p99 ms | requests | errors |")
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for c, row in h["summary"].items():
        for app, x in row.items():
            ratio = "1" if app == "ceiling" else f2(x.get("ratio"))
            w(f"| {c} | {app} | {f0(x['rps'])} | {ratio} | {f1(x['p50_ms'])} | {f1(x['p99_ms'])} | {f1(x['p99_ms_max'])} "
              f"| {x['requests']:,} | {x['errors'] + x['bad_calls']} |")
    checks = []
    for c, row in h["summary"].items():
        for app, x in row.items():
            if app != "ceiling" and x["steps_saved"] < x["requests"]:
                checks.append(f"{app} at {c}: {x['steps_saved']:,} states saved for {x['requests']:,} requests")
    w("")
    w(f"Checks: every webhook of the load is a real state change: the calls' `steps` counters grew by at least the "
      f"number of requests wrk counted ({'all rows' if not checks else 'NOT for: ' + '; '.join(checks)}); no call "
      f"ended in an error or the loop guard (\"errors\" column: wrk errors + such calls); "
      f"{r['http']['webhook_failures']} `webhook failed` lines in the hotline's log; a lookup answer was checked to "
      "read out the balance.\n")
    if h.get("logins"):
        names = list(h["logins"][0])
        w("The login webhooks of a call (sequential requests, one call at a time, milliseconds; the password webhook "
          "includes one scrypt check):\n")
        w("| " + " | ".join(names) + " |")
        w("|" + "---:|" * len(names))
        w("| " + " | ".join(f1(statistics.median(x[n] for x in h["logins"])) for n in names) + " |\n")


def _ladder(r: dict, w) -> None:
    lad = r.get("ladder")
    if not lad:
        return
    w("### Where the gap to the ceiling comes from\n")
    w(f"The navigation load against the hotline cut down step by step (`bench/ladder.py`, served the same way, "
      f"{lad['connections']} connections, {lad['seconds']:g} s runs right after a ceiling run, median of "
      f"{lad['rounds']} rounds):\n")
    labels = {"framework": "hotline app, constant answer (security hook, Flask session, routing)",
              "form": "+ reading the Twilio form (`request.values`)",
              "state": "+ durable call state: load + save + commit (shipped `CallStore`, one transaction)",
              "sqlite3": "form + the leanest durable state (one sqlite3 connection per process, no SQLAlchemy)",
              "full": "the hotline webhook (+ menu engine, TwiML, audio lookups, log line)"}
    w("| step | × ceiling | req/s |\n|---|---:|---:|")
    for s in lad["steps"]:
        w(f"| {labels.get(s['step'], s['step'])} | {f2(s['ratio'])} | {f0(s['rps'])} |")
    by = {s["step"]: s["ratio"] for s in lad["steps"]}
    verdict = ("So with one committed write per webhook this stack stays under 0.7× whatever the rest of the "
               "webhook does. " if (by.get("state") or 1) < NAV_TARGET else "")
    w(f"\nEach step's drop is that work's cost under load, two processes sharing one SQLite file included. "
      f"Before any webhook code runs, the hotline app with a constant answer gets {f2(by.get('framework'))}× and with "
      f"the form read {f2(by.get('form'))}×; a committed SQLite write per request on top gets "
      f"{f2(by.get('state'))}× through the shipped code and {f2(by.get('sqlite3'))}× done the leanest way. "
      f"{verdict}(The last row is the same webhook as section 1's navigation, measured minutes apart; the "
      f"difference between the two is how much this shared machine drifts.)\n")


# -- 2. in-process ------------------------------------------------------------------------------

def _inproc(r: dict, w) -> None:
    ip = r.get("inproc")
    w("## 2. Simulated calls per second in-process\n")
    if not ip:
        w("_Not run._\n")
        return
    w("One process, one thread (one core). The call: answer, 2 (English), 1 (account services), the demo ID number "
      "+ `#`, its password + `#`, 1 (medical balance: the call checks it hears \"1,234 yuan 56 fen\"), hang up; "
      "Twilio's status callback closes the record. 7 webhooks. `bench/inproc.py`.\n")
    w("| way | calls/s | ms per call | notes |\n|---|---:|---:|---|")
    w(f"| realistic: local phone (`ivr.phone`, WSGI) → hotline as shipped | {f1(ip['realistic']['calls_per_second'])} | "
      f"{f1(ip['realistic']['ms_per_call'])} | one scrypt password check per call: {ip['scrypt_ms']:.0f} ms "
      f"(`{ip['hash_method']}`) |")
    w(f"| cheap hash: the same, password hashed with one-round pbkdf2 | {f1(ip['cheap']['calls_per_second'])} | "
      f"{f1(ip['cheap']['ms_per_call'])} | what the call costs besides the password check |")
    w(f"| webhooks only: the same 7 requests as pre-built WSGI calls, no phone | {f1(ip['webhooks']['calls_per_second'])} | "
      f"{f1(ip['webhooks']['ms_per_call'])} | {ip['webhooks']['ms_per_webhook']:.2f} ms per webhook |\n")
    w(f"**The split, honestly:** with a real password check a call costs {ip['realistic']['ms_per_call']:.0f} ms, of "
      f"which {ip['scrypt_ms']:.0f} ms is scrypt: {CALLS_TARGET:.0f} calls/s would need a password check under 5 ms, "
      f"so **the target is impossible with scrypt per call on one core** (at most {1000 / ip['scrypt_ms']:.0f} "
      f"calls/s even if everything else were free). Everything else costs {ip['cheap']['ms_per_call']:.1f} ms per call "
      f"through the local phone, of which the phone itself (parsing TwiML, the simulated clock, building requests) "
      f"is the difference to the webhooks-only row.\n")
    prof = ip["profile"]
    w(f"Where the time goes in the cheap-hash call through the phone (cProfile over {prof['calls']} calls; own time "
      f"of each function grouped by layer, built-ins counted for their caller; profiling slows everything "
      f"about 2×, so read shares):\n")
    w("| layer | share | ms per call (profiled) |\n|---|---:|---:|")
    for row in prof["layers"]:
        w(f"| {row['layer']} | {row['share'] * 100:.1f}% | {row['ms_per_call']:.2f} |")
    w("\nThe most expensive functions:\n")
    w("| function | share | calls per call |\n|---|---:|---:|")
    for row in prof["top"]:
        w(f"| `{row['function']}` | {row['share'] * 100:.1f}% | {row['ncalls_per_call']:.0f} |")
    real = ip.get("profile_realistic")
    if real:
        top = real["layers"][0]
        w(f"\nWith the real scrypt hash, {top['layer']} takes {top['share'] * 100:.0f}% of the call.\n")
    w("SQLAlchemy here is mostly the pool and Core execution of the account service's queries (login and "
      "balance) and the webhook's connection and commit.\n")


# -- 3. tts -------------------------------------------------------------------------------------

def _tts(r: dict, w) -> None:
    t = r.get("tts")
    w("## 3. TTS\n")
    if not t:
        w("_Not run._\n")
        return
    w(f"`bench/bench_tts.py` (written with the TTS work; run as is, exit {t['exit']}, {t['seconds']:.0f} s):\n")
    body = t["stdout"].strip()
    w(body + "\n" if body else f"_No output._ stderr: `{t['stderr'][-500:]}`\n")
    if "cold_s" in t:
        w(f"Targets: cold {t['cold_s'] / t['floor_s']:.2f}× the `espeak-ng -w` floor (≤ {TTS_COLD_TARGET}×: "
          f"{yes(t['cold_s'] / t['floor_s'] <= TTS_COLD_TARGET)}); warm {t['warm_s'] * 1000:.1f} ms (≤ {TTS_WARM_TARGET} s: "
          f"{yes(t['warm_s'] <= TTS_WARM_TARGET)}).\n")


# -- 4. memory ----------------------------------------------------------------------------------

def _memory(r: dict, w) -> None:
    mem = r.get("memory")
    w("## 4. Memory of a worker\n")
    if not mem:
        w("_Not run._\n")
        return
    w(f"`ivr`'s app under `ivr.web.server.run_gunicorn` with **one** worker, so that worker serves all {mem['calls']:,} "
      f"calls, {mem['threads']} at a time (`bench/memory.py`). Each call: answer, English, account services, ID "
      "number, password, medical balance, pension balance (both checked in the answer), status callback; every call "
      "logs into a different made-up account. The server is `bench/serve.py cheap-hash` (the hotline with the "
      "cheap bench password hash: 10,000 scrypt checks would take ~20 minutes); the first call logs into a demo "
      "account, whose hash is scrypt, so the peak includes one scrypt check (scrypt allocates 32 MB). "
      "RSS and peak (VmHWM) from `/proc/<worker>/status` after every 1,000 calls.\n")
    w(f"{mem['ok_calls']:,} of {mem['calls']:,} calls heard both balances; {mem['requests']:,} webhooks in "
      f"{mem['seconds']:.0f} s; the worker was {'the same process throughout' if mem['same_worker'] else 'RESTARTED'}."
      + (f" Failures: {mem['failures']}" if mem["failures"] else "") + "\n")
    w("| calls | RSS MB | peak RSS MB |\n|---:|---:|---:|")
    for s in mem["samples"]:
        w(f"| {s['calls']:,} | {s['VmRSS'] / 1024:.1f} | {s['VmHWM'] / 1024:.1f} |")
    w(f"\nGrowth from 1,000 to {mem['calls']:,} calls: {mem['growth_mb']:+.1f} MB. Peak: {mem['peak_mb']:.1f} MB: the "
      f"resident size plus one scrypt check's 32 MB (the peak is reached by the first login and never again).")
    if mem.get("heavy_imports"):
        w(f"Starting the app imports {', '.join(mem['heavy_imports'])} (through `ivr.web.phone_page` → `ivr.phone`): "
          f"about 18 MB of every worker's resident size that no webhook uses.")
    w("")


# -- 5. growth ----------------------------------------------------------------------------------

def _growth(r: dict, w, million: dict | None) -> None:
    g = r.get("growth")
    w("## 5. Growth\n")
    if not g:
        w("_Not run._\n")
        return
    w(f"Lookup webhooks (keys 1, 2, 3: medical balance, pension balance, last 3 payments) of logged-in calls bound to "
      f"random accounts, as the accounts table grows (one database seeded step by step with `seed_bulk`, 0–3 "
      f"payments per account); `ivr serve` (2 workers) restarted at each size; wrk {g['connections']} connections, "
      f"{g['seconds']:g} s, each right after a ceiling run, median of {g.get('rounds', 1)} such pairs "
      f"(`bench/growth.py`).\n")
    w("| accounts | database MB | seeding s | req/s | × ceiling | p50 ms | p99 ms | requests | errors |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    steps = list(g["steps"])
    for s in steps:
        w(f"| {s['accounts']:,} | {s['db_mb']:.0f} | {s['seed_seconds']:.0f} | {f0(s['rps'])} | {f2(s['ratio'])} | "
          f"{f1(s['p50_ms'])} | {f1(s['p99_ms'])} | {s['requests']:,} | {s['errors'] + s['bad_calls']} |")
    have_million = any(s["accounts"] >= 1_000_000 for s in steps)
    if not have_million and million:
        s = next((x for x in million["growth"]["steps"] if x["accounts"] >= 1_000_000), None)
        if s:
            base = million["growth"]["steps"][0]
            w(f"| {s['accounts']:,} *(run {million['date']}, `--million`; its 10k step: {f2(base['ratio'])}×)* | "
              f"{s['db_mb']:.0f} | {s['seed_seconds']:.0f} | {f0(s['rps'])} | {f2(s['ratio'])} | {f1(s['p50_ms'])} | "
              f"{f1(s['p99_ms'])} | {s['requests']:,} | {s['errors'] + s['bad_calls']} |")
    w("\nEvery lookup is an indexed read: the account by primary key, its payments by "
      "`ix_spending_account_date` (account_id, spent_on, id), so the cost should not depend on the table size; "
      "the ratio to the ceiling is the figure to compare between sizes.\n")


def _load(r: dict, w) -> None:
    ld = r.get("load")
    if not ld:
        return
    w("### Calls per second as concurrency grows (`ivr load`)\n")
    w(f"The local phone over HTTP (`ivr load`, {ld['seconds']:g} s per run) against `ivr serve --workers 2`; its "
      "calls run from Python threads on the same 2 cores, so the client is part of what is measured.\n")
    w("| scenario | concurrency | calls/s | calls ok / failed | webhook p50 ms | webhook p99 ms | errors |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for x in ld["runs"]:
        hook = x["webhooks"].get("POST /voice/input", {})
        w(f"| `bench/scenarios/{x['scenario']}.toml` | {x['concurrency']} | {x['calls_per_second']:.1f} | "
          f"{x['ok']} / {x['failed']} | {f1(hook.get('p50_ms'))} | {f1(hook.get('p99_ms'))} | {x['errors']} |")
    if ld["runs"]:
        w(f"\n    {ld['runs'][0]['command']}\n")


# -- changes ------------------------------------------------------------------------------------

def _changes(r: dict, w) -> None:
    w("## What was changed, and the figures before and after\n")
    w("### Round 2 (this run's **before** = commit `" + BEFORE_COMMIT[:10] + "`)\n")
    w("The previous run (2026-11-26) missed the throughput targets, the lookup p99 and peak RSS (102 MB). Profiles "
      "of the lookup webhook put 44% of its time in `AccountService.balances()`: a new ORM Session and a freshly "
      "built `select` for one indexed read. Changes (behaviour unchanged; the suite passes on SQLite and "
      "PostgreSQL):\n")
    w("- `ivr/accounts/service.py`: the queries a call makes (balances, recent spending, and the login's "
      "caller-limit read, ID-number reference, password check, success and failure counters) run on pooled Core "
      "connections with statements built once, instead of a new Session each: `balances()` went from 339 µs to "
      "72 µs in-process (same process, same database, `timeit`); the login's statements are built once too "
      "(SQLAlchemy coercion and cache keys were 1 ms of a call's profile). Rare paths (password change, loss "
      "report, the CLI) keep the Session.")
    w("- `ivr/phone/transport.py` (the local phone, in-process): the WSGI environ is built directly and run "
      "through werkzeug's `Client.run_wsgi_app` for its cookie jar, instead of `Client.open` (EnvironBuilder "
      "and TestResponse: ~80 µs of a ~100 µs round trip against a trivial app). Section 2's through-the-phone "
      "rows.")
    w("- `ivr/web/sessions.py`: Flask's cookie session is opened only when the request carries the cookie; "
      "before, every webhook built an itsdangerous signer (key derivation included) to find no cookie.")
    w("- `ivr/web/server.py`: `gc.freeze()` before gunicorn forks: the app, menus and modules (~90,000 objects) leave "
      "the cyclic collector's full passes and stay shared between the workers.")
    w("- `ivr/web/phone_page.py`: the softphone builds its local phone (numpy, soundfile, soxr: ~20 MB) on the "
      "first browser call instead of at start, so a worker that only answers Twilio never loads it "
      "(`tests/test_config.py` checks that a webhook leaves numpy unimported). That is most of the peak RSS drop "
      "in section 4; `IVR_SOFTPHONE=false` leaves the module out altogether.")
    w("- Tried, measured and not kept: an flock queue for SQLite writers (no measurable change at concurrency 50, "
      "A/B over two rounds); a leaner url-encoded form parser (12 µs of the ~60 µs a form costs, not worth "
      "leaving werkzeug's limits); SQLite `mmap_size`, a larger `wal_autocheckpoint` and `synchronous=OFF` in the "
      "first round.\n")
    w("### Round 1 (commit `f8412d1374` → `159d35bd15`, figures of the run of 2026-11-26)\n")
    w("`CallStore.load`/`save` precompiled per dialect on the webhook's DB-API cursor (43% + 20% of a navigation "
      "webhook before), one Core connection per webhook with a lazily made Session, memoized TwiML documents, a "
      "cheaper log line. Over HTTP at concurrency 10: navigation 0.14× → 0.26× the ceiling, lookup 0.11× → "
      "0.18×; p99 at concurrency 50: navigation 86 → 44 ms, lookup 96 → 75 ms. That run's machine was busier "
      "(load average 1–2 before it started): this run measures the same commit at the ratios in its **before** "
      "rows, so compare ratios within one run only.\n")
    cost = r.get("cost")
    if cost and "before" in cost:
        b, a = cost["before"], cost["after"]
        w(f"In-process cost of one webhook (`bench/webhook_cost.py`, raw WSGI, one core, fresh processes "
          f"alternating before/after, median of {cost['rounds']} rounds; the bare Flask ceiling in the same process "
          f"for scale):\n")
        w("| webhook | before µs | after µs | before ÷ after | ceiling µs (before run / after run) |")
        w("|---|---:|---:|---:|---:|")
        for k in ("navigation", "lookup"):
            w(f"| {k} | {f0(b[k])} | {f0(a[k])} | {b[k] / a[k]:.1f}× | {f0(b['ceiling'])} / {f0(a['ceiling'])} |")
        w("")
    elif cost:
        a = cost["after"]
        w(f"In-process cost of one webhook now: navigation {f0(a['navigation'])} µs, lookup {f0(a['lookup'])} µs, "
          f"bare Flask {f0(a['ceiling'])} µs (the code before the changes was not available for this run).\n")
    h = r.get("http")
    if h and h.get("before"):
        w("Over HTTP, the same run (section 1), ratio to the ceiling before → after:\n")
        w("| concurrency | navigation before | navigation after | lookup before | lookup after | "
          "p99 navigation before → after ms |")
        w("|---:|---:|---:|---:|---:|---|")
        for c, row in h["summary"].items():
            nb, na = row.get("navigation (before)"), row.get("navigation")
            lb, la = row.get("lookup (before)"), row.get("lookup")
            if nb and na and lb and la:
                w(f"| {c} | {f2(nb['ratio'])}× | {f2(na['ratio'])}× | {f2(lb['ratio'])}× | {f2(la['ratio'])}× | "
                  f"{f1(nb['p99_ms'])} → {f1(na['p99_ms'])} |")
        w("")


def _login_timing(w) -> None:
    """bench/login_timing.py's latest run (its own command; kept in bench/results/login-timing.json)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent / "results" / "login-timing.json"
    if not path.exists():
        return
    t = json.loads(path.read_text())
    m = t["median_ms"]
    w("## 6. Login timing: does a wrong password tell which ID numbers exist?\n")
    w(f"Median time of the password webhook answering a wrong password, over HTTP against `ivr serve` (2 workers, "
      f"SQLite, `{t['hash_method']}`), {t['samples']} samples per kind, interleaved; run of {t['when']}, "
      f"`{t['command']}`. The baseline is an account with the one-iteration hash bulk seeding stored before issue 16, "
      "in the same run.\n")
    w("| wrong password for | median | ratio to an unknown ID |\n|---|---:|---:|")
    w(f"| an account seeded now (`{t['hash_method']}`, one hash per distinct password) | {m['known']:.1f} ms | "
      f"{t['ratio_known_to_unknown']:.2f} |")
    w(f"| an ID number without an account (dummy check) | {m['unknown']:.1f} ms | 1.00 |")
    w(f"| baseline: an account with the old bulk hash (`pbkdf2:sha256:1`) | {m['old_cheap']:.1f} ms | "
      f"{t['ratio_old_cheap_to_unknown']:.2f} |\n")
    w(f"Seeding those {t['samples']} accounts at the full cost took {t['seed_seconds']:.1f} s. The attack suite "
      "asserts the known/unknown ratio within 0.5–2 (tests/security/test_attacks.py); the figure is here.\n")


def _left(r: dict, w) -> None:
    h = (r.get("http") or {}).get("summary") or {}
    nav = [x["navigation"]["ratio"] for x in h.values() if "navigation" in x]
    look = [x["lookup"]["ratio"] for x in h.values() if "lookup" in x]
    w("## What is left\n")
    if nav and min(nav) < NAV_TARGET:
        w(f"- **Navigation ≥ {NAV_TARGET}× the ceiling is not met** ({f2(min(nav))}–{f2(max(nav))}×). The ladder in "
          "section 1 shows why: the hotline app answering a constant document after reading the form, with no "
          "webhook code at all, is already not far above 0.7×, and one committed SQLite write per request takes a "
          "large share on top. Under load a gunicorn sync worker spends over half of its time in gunicorn's own "
          "request parsing, socket writes and graceful close (py-spy on both workers during a navigation run, "
          "2026-11-30: `py-spy record -p WORKER -r 500 -f raw`; Flask and the webhook were 42% of the samples), "
          "which the ceiling pays too; what is left per webhook is the form (~60 µs in-process), the state's load, "
          "save and commit (~130 µs), TwiML with audio lookups (~40 µs), the engine (~25 µs) and the log line. "
          "Even the leanest committed write (raw sqlite3, no SQLAlchemy: the ladder's fourth row) leaves no room "
          "for the rest of a webhook under 0.7×; getting there would take a different server model than gunicorn's "
          "sync workers, or not committing the call's state on every webhook, which the project rules out.")
    if look and min(look) < LOOKUP_TARGET:
        w(f"- **Lookup ≥ {LOOKUP_TARGET}× is not met** ({f2(min(look))}–{f2(max(look))}×): navigation's costs plus "
          "the balance query on its own pooled connection and a dynamic read-out.")
    w("- **200 calls/s in-process** is impossible with one scrypt check per call (section 2), and scrypt stays: "
      "it is what makes a stolen database of 6-digit passwords expensive to brute-force. Without it, see the "
      "cheap-hash row.")
    w("- The benchmark runs the hotline in development mode (no `TWILIO_AUTH_TOKEN`): with a token, every "
      "webhook also checks an HMAC-SHA1 signature and parses the form for it.")
