"""docs/benchmarks.md from the results of bench/run.py (a dict, also saved as bench/results/latest.json)."""
from __future__ import annotations

import statistics

from hotline_setup import BEFORE_COMMIT

NAV_TARGET, LOOKUP_TARGET, P99_TARGET = 0.7, 0.5, 50.0            # issue 8 (x ceiling), replaced by issue 17's
NAV_STATELESS, LOOKUP_STATELESS, P99_MARGIN = 1.0, 0.8, 25.0     # issue 17: x the stateless app; p99 <= ceiling + 25 ms
PG_TARGET = 0.5                                                  # issue 17: PostgreSQL navigation >= 0.5x SQLite
PHONE_CALLS_TARGET = 250                                         # issue 17: a cheap-hash call through the phone
ROUND2_BEFORE = "159d35bd15"                                     # the before of round 2 (issue 8's second round)
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
    runs = r.get("section_runs") or {}
    if runs:
        latest = max(x["date"] for x in runs.values())
        w(f"Written by `bench/run.py` on **{latest}** from sections measured in separate runs (the table below); the "
          f"last full run (`make bench`) was on {r['date']}. Do not edit by hand: run `make bench` (or "
          "`bench/run.py --only SECTIONS --merge`) again.\n")
    else:
        w(f"Written by `bench/run.py` (`make bench`) on **{r['date']}**, flags: `{flags}`, in {r['seconds']:.0f} s. "
          "Do not edit by hand: run `make bench` again.\n")
    w("Every figure stands next to a baseline measured **in the same run, on the same machine, under the same "
      "server settings**: these machines are shared (other work may run beside a benchmark; the load averages below say how busy this run's machine was), so "
      "absolute figures drift by ±30% from minute to minute while ratios to a baseline measured seconds "
      "apart drift much less. Read the ratios. Benchmarks are not tests: nothing here is asserted by "
      "`make test`.\n")
    if runs:
        w("Sections measured in separate runs (`bench/run.py --only SECTIONS --merge`), each with its own date and "
          "machine load; every ratio inside a section still comes from one run:\n")
        w("| section | run of | flags | load average before → after (1 min) |\n|---|---|---|---|")
        for name in r.get("sections", []):
            x = runs.get(name)
            if x:
                lb, la = x.get("load_before"), x.get("load_after")
                w(f"| {name} | {x['date']} | `{' '.join(x.get('argv') or []) or '(defaults)'}` | "
                  f"{f'{lb[0]:.2f}' if lb else '?'} → {f'{la[0]:.2f}' if la else '?'} |")
        w("")
    if r.get("errors"):
        w("**Sections that failed in this run:** " + "; ".join(f"{k}: `{v}`" for k, v in r["errors"].items()) + "\n")
    w("## Machine\n")
    w("| | |\n|---|---|")
    w(f"| CPU | {m['cpu']}, {m['cores']} cores, {m['memory_mb']:,} MB RAM, Linux {m['kernel']} |")
    w(f"| software | Python {m['python']}, SQLite {m['sqlite']}, Flask {m['flask']}, Werkzeug {m['werkzeug']}, "
      f"SQLAlchemy {m['sqlalchemy']}, gunicorn {m['gunicorn']}, twilio {m['twilio']}, {m['wrk']}"
      + "".join(f", {name} {m[key]}" for key, name in (("granian", "granian"), ("bjoern", "bjoern"), ("psycopg", "psycopg"))
                if m.get(key) not in (None, "?"))
      + (f", {r['postgres']['server_version']}" if (r.get("postgres") or {}).get("server_version") else "")
      + (f", {r['postgres']['pgbouncer']}" if (r.get("postgres") or {}).get("pgbouncer") else "") + " |")
    la, lb = m.get("load_before"), m.get("load_after")
    if runs:
        w("| load average | per section, in the table above |\n")
    else:
        w(f"| load average (1, 5, 15 min) | before {_loadavg(la)}; after {_loadavg(lb)} |\n")

    _summary(r, w)
    _rerun(w)
    _http(r, w)
    _ladder(r, w)
    _sharing(r, w)
    _servers(r, w)
    _postgres(r, w)
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
    w("Issue 17's targets first (its item 1 replaces issue 8's \"× the ceiling\" targets, whose figures stay in "
      "section 1), then issue 8's that still apply. # is issue.item. Req/s are medians over rounds; a ratio is the "
      "median of the per-round ratios, each taken between runs seconds apart, so it is not always the quotient "
      "of the two medians beside it.\n")
    w("| # | measure | this run | baseline (same run) | ratio | target | met |")
    w("|---|---|---:|---:|---:|---|---|")
    http = r.get("http", {}).get("summary", {})
    for c, row in http.items():
        base = row.get("stateless")
        if not base:
            continue
        for app, target in (("navigation", NAV_STATELESS), ("lookup", LOOKUP_STATELESS)):
            x = row.get(app)
            if x and x.get("ratio_stateless") is not None:
                w(f"| 17.1 | {app} webhooks, concurrency {c} | {f0(x['rps'])} req/s | stateless app {f0(base['rps'])} "
                  f"req/s | {f2(x['ratio_stateless'])}× | ≥ {target}× | {yes(x['ratio_stateless'] >= target)} |")
    if "50" in http and "ceiling" in http["50"]:
        ceiling = http["50"]["ceiling"]
        for app in ("navigation", "lookup"):
            x = http["50"].get(app)
            if x:
                limit = ceiling["p99_ms"] + P99_MARGIN
                w(f"| 17.2 | {app} p99 latency, concurrency 50 | {f1(x['p99_ms'])} ms | ceiling {f1(ceiling['p99_ms'])} ms "
                  f"| {x['p99_ms'] - ceiling['p99_ms']:+.1f} ms | ≤ ceiling + {P99_MARGIN:.0f} ms | {yes(x['p99_ms'] <= limit)} |")
    sv = r.get("servers")
    if sv:
        from ivr.web.server import DEFAULT_SERVER

        for name in sv["candidates"]:
            if name == "gunicorn":
                continue
            ratios = [row[name]["navigation"]["vs_gunicorn"] for mode in sv["summary"].values() for row in mode.values()
                      if "navigation" in row.get(name, {})]
            if ratios:
                w(f"| 17.3 | hotline navigation under {name}, all concurrencies and connection modes | "
                  f"{f2(min(ratios))}–{f2(max(ratios))}× | gunicorn sync | median {f2(statistics.median(ratios))}× | "
                  f"choice by evidence | — |")
        w(f"| 17.3 | `ivr serve`'s default server | `{DEFAULT_SERVER}` | | | the one the figures favour among those "
          "keeping timeouts, graceful restart, recycling | see section 7 |")
    pg = (r.get("postgres") or {}).get("compare", {}).get("summary", {})
    for c, row in pg.items():
        for db in ("postgresql", "postgresql gthread", "postgresql async commit", "pgbouncer"):
            x, base = row.get(f"navigation {db}"), row.get("navigation sqlite")
            if x and base and x.get("vs_sqlite") is not None:
                # The target is PostgreSQL as shipped; the other rows are variants measured beside it
                # (another server, a whole-database setting, a pooler on the same two cores).
                judged = db == "postgresql"
                w(f"| 17.5 | navigation on {db}, concurrency {c} | {f0(x['rps'])} req/s | SQLite {f0(base['rps'])} req/s | "
                  f"{f2(x['vs_sqlite'])}× | {f'≥ {PG_TARGET}×' if judged else 'a variant, for information'} | "
                  f"{yes(x['vs_sqlite'] >= PG_TARGET) if judged else '—'} |")
    two = (r.get("postgres") or {}).get("two_servers", {}).get("summary", {})
    pair = two.get("two servers, 1 worker each")
    if pair:
        ok = pair["steps_exact"] and not pair["wrong"] and not pair["bad_calls"]
        w(f"| 17.5 | two servers on one PostgreSQL, every call alternating between them | {f0(pair['rps'])} req/s, "
          f"{pair['requests']:,} webhooks | one server, same workers | {f2(pair['vs_one_server'])}× | every answer "
          f"right, every state moved | {yes(ok)} |")
    ip = r.get("inproc")
    if ip:
        rate = ip["cheap"]["calls_per_second"]
        w(f"| 17.6 | complete balance call through the local phone in-process, cheap password hash (median of "
          f"{len(ip['cheap'].get('windows') or [1])} windows) | {f1(rate)} "
          f"calls/s | | | ≥ {PHONE_CALLS_TARGET} calls/s | {yes(rate >= PHONE_CALLS_TARGET)} |")
        ab = ip.get("ab") or {}
        if ab.get("before"):
            after, before = statistics.median(ab["after"]), statistics.median(ab["before"])
            w(f"| 17.6 | the same call, fresh processes alternating with the code before "
              f"(`{ab['before_commit'][:7]}`), {ab['rounds']} rounds, medians | {f1(after)} calls/s | "
              f"{f1(before)} calls/s | {f2(after / before)}× | ≥ {PHONE_CALLS_TARGET} calls/s | "
              f"{yes(after >= PHONE_CALLS_TARGET)} |")
        w(f"| 8.2 | complete balance call in-process, scrypt login (realistic) | {f1(ip['realistic']['calls_per_second'])} "
          f"calls/s | | | ≥ {CALLS_TARGET:.0f} calls/s | {yes(ip['realistic']['calls_per_second'] >= CALLS_TARGET)} |")
        w(f"| 8.2 | the same call, cheap password hash (all but the scrypt check) | {f1(ip['cheap']['calls_per_second'])} "
          f"calls/s | | | ≥ {CALLS_TARGET:.0f} calls/s | {yes(ip['cheap']['calls_per_second'] >= CALLS_TARGET)} |")
        w(f"| 8.2 | its webhooks alone, no phone (cheap hash) | {f1(ip['webhooks']['calls_per_second'])} calls/s | | | "
          f"≥ {CALLS_TARGET:.0f} calls/s | {yes(ip['webhooks']['calls_per_second'] >= CALLS_TARGET)} |")
    t = r.get("tts")
    if t and "cold_s" in t:
        w(f"| 8.3 | TTS cold render of all static prompts | {t['cold_s']:.2f} s | `espeak-ng -w` {t['floor_s']:.2f} s | "
          f"{t['cold_s'] / t['floor_s']:.2f}× | ≤ {TTS_COLD_TARGET}× | {yes(t['cold_s'] / t['floor_s'] <= TTS_COLD_TARGET)} |")
        w(f"| 8.3 | TTS warm (cached) render | {t['warm_s'] * 1000:.1f} ms | | | ≤ {TTS_WARM_TARGET} s | "
          f"{yes(t['warm_s'] <= TTS_WARM_TARGET)} |")
    mem = r.get("memory")
    if mem:
        w(f"| 8.4 | worker peak RSS after {mem['calls']:,} calls | {mem['peak_mb']:.1f} MB | | | ≤ {RSS_TARGET:.0f} MB | "
          f"{yes(mem['peak_mb'] <= RSS_TARGET)} |")
        w(f"| 8.4 | worker RSS growth, 1,000 → {mem['calls']:,} calls | {mem['growth_mb']:+.1f} MB | RSS at 1,000 calls "
          f"{mem['rss_1k_mb']:.1f} MB | | none (≤ {RSS_GROWTH_LIMIT:.0f} MB) | {yes(mem['growth_mb'] <= RSS_GROWTH_LIMIT)} |")
    g = r.get("growth")
    if g and len(g["steps"]) > 1:
        first, last = g["steps"][0], g["steps"][-1]
        rel = last["ratio"] / first["ratio"]
        w(f"| 8.5 | lookup throughput, {last['accounts']:,} vs {first['accounts']:,} accounts | {f2(last['ratio'])}× ceiling | "
          f"{f2(first['ratio'])}× ceiling | {rel:.2f} | flat ({FLAT_BAND[0]}–{FLAT_BAND[1]}) | "
          f"{yes(FLAT_BAND[0] <= rel <= FLAT_BAND[1])} |")
    million = r.get("_million")
    if million and not any(s["accounts"] >= 1_000_000 for s in (g or {}).get("steps", [])):
        steps = million["growth"]["steps"]
        big = next((s for s in steps if s["accounts"] >= 1_000_000), None)
        if big:
            rel = big["ratio"] / steps[0]["ratio"]
            w(f"| 8.5 | lookup throughput, {big['accounts']:,} vs {steps[0]['accounts']:,} accounts (run of "
              f"{million['date']}, `--million`) | {f2(big['ratio'])}× ceiling | {f2(steps[0]['ratio'])}× ceiling | "
              f"{rel:.2f} | flat ({FLAT_BAND[0]}–{FLAT_BAND[1]}) | {yes(FLAT_BAND[0] <= rel <= FLAT_BAND[1])} |")
    timing = _login_timing_results()
    if timing:
        ratio = timing["ratio_known_to_unknown"]
        w(f"| 16 | wrong password: seeded account vs unknown ID (`bench/login_timing.py`, run of {timing['when']}) | "
          f"{timing['median_ms']['known']:.1f} ms | unknown ID {timing['median_ms']['unknown']:.1f} ms | {ratio:.2f} | "
          f"0.8–1.2 | {yes(0.8 <= ratio <= 1.2)} |")
    w("")


def _login_timing_results() -> dict | None:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent / "results" / "login-timing.json"
    return json.loads(path.read_text()) if path.exists() else None


def _rerun(w) -> None:
    w("## Re-running\n")
    w("```sh\nmake bench                                  # = .venv/bin/python bench/run.py (about 10 minutes)\n"
      ".venv/bin/python bench/run.py --million     # adds the 1,000,000-account growth step (kept in bench/results/growth-1m.json)\n"
      ".venv/bin/python bench/run.py --only http   # one section: http ladder sharing servers postgres cost inproc tts audio memory growth load\n"
      ".venv/bin/python bench/run.py --only http,servers,postgres --merge   # re-measure these, keep the others: writes this page\n"
      ".venv/bin/python bench/run.py --quick       # a short smoke run of the benchmark itself\n```\n")
    w("Each section also runs alone (`bench/http_bench.py`, `bench/servers.py`, `bench/postgres.py`, `bench/inproc.py`, "
      "`bench/sharing.py`, `bench/memory.py`, `bench/growth.py`, `bench/load_bench.py`, `bench/bench_tts.py`; `--help` for options). "
      "The postgres section needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and pgbouncer "
      "(`apt-get install pgbouncer`); the servers section granian and bjoern (`pip install granian bjoern`, bjoern "
      "needs `libev-dev`), the `bench` extra of pyproject.toml; a missing one is left out and said so. Raw results: `bench/results/latest.json`. "
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
      "audio rendered so menus answer with `<Play>`); the ceiling, `bench/ceiling.py` (a bare Flask app "
      "returning one constant TwiML document of the hotline's size); and the **stateless app**, "
      "`bench/stateless.py`: the hotline's menus written as a stateless Twilio app would be (Flask, a "
      "`twilio` `VoiceResponse` built per request, `<Gather>` + `<Say>` + `<Redirect>` with the hotline's own "
      "menu texts and speech hints, read from menus.toml and prompts/ once at start; where the caller is rides "
      "in the action URL, `/voice/input?menu=apply&lang=en-US`; no database, no state, no login, no "
      "signature check). Both are served by the same `ivr.web.server` (`bench/serve.py ceiling|stateless`). "
      "Load: wrk, 1 thread, N connections, "
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
    w("- **stateless**: the stateless app taking the same keys as navigation, each to the action URL it gave "
      "for that step, with the same Twilio forms (issue 17: navigation ≥ 1.0× it, lookups ≥ 0.8×: durable call "
      "state for free, in the user's terms).")
    w(f"- Rounds: {h['rounds']}; in each round and at each concurrency the ceiling runs first, then the stateless "
      "app, then the others one after the other; ratios are taken within a round, the table shows medians over "
      "rounds; \"p99 − ceiling\" is the p99 above the ceiling's of the same round (issue 17: ≤ 25 ms at 50).")
    if h.get("before"):
        w(f"- **(before)** rows: the `ivr` package as of commit `{h.get('before_commit', ROUND2_BEFORE)[:10]}` (what "
          "main served when this round of work began), served the same way on the same database in the same rounds.")
    w("")
    w("| concurrency | app | req/s | × ceiling | × stateless | p50 ms | p99 ms | p99 − ceiling ms | worst p99 ms | "
      "requests | errors |")
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c, row in h["summary"].items():
        for app, x in row.items():
            ratio = "1" if app == "ceiling" else f2(x.get("ratio"))
            plain = "1" if app == "stateless" else ("" if app == "ceiling" else f2(x.get("ratio_stateless")))
            over = x.get("p99_over_ceiling_ms")
            w(f"| {c} | {app} | {f0(x['rps'])} | {ratio} | {plain} | {f1(x['p50_ms'])} | {f1(x['p99_ms'])} | "
              f"{'' if over is None else f'{over:+.1f}'} | {f1(x['p99_ms_max'])} | {x['requests']:,} | "
              f"{x['errors'] + x['bad_calls']} |")
    checks = []
    for c, row in h["summary"].items():
        for app, x in row.items():
            if app not in ("ceiling", "stateless") and x["steps_saved"] < x["requests"]:
                checks.append(f"{app} at {c}: {x['steps_saved']:,} states saved for {x['requests']:,} requests")
    w("")
    w(f"Checks: every webhook of the load is a real state change: the calls' `steps` counters grew by at least the "
      f"number of requests wrk counted ({'all rows' if not checks else 'NOT for: ' + '; '.join(checks)}); no call "
      f"ended in an error or the loop guard (\"errors\" column: wrk errors + such calls); "
      f"{r['http']['webhook_failures']} `webhook failed` lines in the hotline's log; a lookup answer was checked to "
      "read out the balance; the stateless app's answer to key 2 was checked to be the apply menu, before and "
      "after the load.\n")
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


def _sharing(r: dict, w) -> None:
    sh = r.get("sharing")
    if not sh:
        return
    m = sh["median_cpu_us"]
    w("### Two processes, one SQLite file\n")
    w(f"CPU time per request straight into the WSGI app (no server, no log line), in one process and in two "
      f"processes at once (`bench/sharing.py`, {sh['requests']:,} requests per process, medians of "
      f"{sh['rounds']} rounds, the four cases alternating):\n")
    w("| app | one process µs | two processes µs | two / one |\n|---|---:|---:|---:|")
    for app, label in (("hotline", "hotline navigation (state loaded, engine, state saved and committed)"),
                       ("stateless", "stateless app (the same keys)")):
        one, two = m[f"{app} x1"], m[f"{app} x2"]
        w(f"| {label} | {f0(one)} | {f0(two)} | {f2(two / one)} |")
    w(f"\nAlone, a navigation webhook costs {f2(sh['hotline_over_stateless_alone'])}× a stateless request; "
      f"with two processes on one SQLite file (as `ivr serve --workers 2`) {f2(sh['hotline_over_stateless_pair'])}×. "
      "What two hotline processes add beyond what two stateless ones add is the shared file: waiting for "
      "its write lock (a save holds it for its UPDATE and COMMIT only, and retries at once before it pauses: "
      "docs/hotpath.md, round 8, where the hotline's two / one fell from 1.42–1.68 to about 1.1), SQLite reading its "
      "pages again in every transaction that follows the other process's commit (round 7), and checkpoints: "
      "SQLite's own never started the log over while the other process was reading, so every commit checkpointed "
      "again; the saves' own checkpoints (round 9) took a pair on a faster machine from 2.08× one process to "
      "about 1.1×.\n")


# -- 7. servers, 8. postgres --------------------------------------------------------------------

def _servers(r: dict, w) -> None:
    sv = r.get("servers")
    if not sv:
        return
    from ivr.web.server import DEFAULT_SERVER, SERVERS

    w("## 7. Which server\n")
    w(f"`bench/servers.py`: the ceiling, the stateless app and the hotline's navigation (SQLite, the same keys and "
      f"checks as section 1) under each candidate, 2 worker processes each, all started at once and loaded one at a "
      f"time by wrk ({sv['seconds']:g} s per run); in each round, at each concurrency and in each connection mode "
      f"every (server, app) pair runs once, the servers in an order rotated per round. \"× gunicorn\" divides by "
      f"the same app under gunicorn's sync workers in the same round; \"× stateless\" divides the hotline by the "
      f"stateless app under the same server; medians of {sv['rounds']} rounds."
      + (f" Not installed, so left out: {', '.join(sv['missing'])}." if sv.get("missing") else "") + "\n")
    w("- **keep-alive**: wrk's default; the servers that keep a connection open do (gunicorn's sync workers close "
      "it after every response). **close**: every request carries `Connection: close`, so every server pays a "
      "new TCP connection per request, as behind a proxy without upstream keep-alive. Twilio does not document "
      "whether its webhook requests reuse connections; both are shown.")
    w("- gunicorn-gthread: 2 workers × 4 threads (`ivr.web.server.TimedThreadWorker`); granian: WSGI interface, "
      "its default thread pool per worker, and `granian-1thread` with one blocking thread; bjoern: 2 forked "
      "processes sharing one listening socket (bjoern has no master).\n")
    for mode, table in sv["summary"].items():
        w(f"**{mode}**\n")
        w("| concurrency | server | ceiling req/s | × gunicorn | stateless req/s | × gunicorn | hotline req/s | "
          "× gunicorn | hotline × stateless | hotline p99 ms | errors |")
        w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for c, row in table.items():
            for name, apps in row.items():
                ce, st, nav = apps.get("ceiling", {}), apps.get("stateless", {}), apps.get("navigation", {})
                errors = sum(x.get("errors", 0) for x in apps.values())
                w(f"| {c} | {name} | {f0(ce.get('rps'))} | {f2(ce.get('vs_gunicorn'))} | {f0(st.get('rps'))} | "
                  f"{f2(st.get('vs_gunicorn'))} | {f0(nav.get('rps'))} | {f2(nav.get('vs_gunicorn'))} | "
                  f"{f2(nav.get('vs_stateless'))} | {f1(nav.get('p99_ms'))} | {errors} |")
        w("")
    short = [f"{mode} {c} {name}" for mode, table in sv["summary"].items() for c, row in table.items()
             for name, apps in row.items() if apps.get("navigation", {}).get("steps_saved", 0)
             < apps.get("navigation", {}).get("requests", 0)]
    failures = sv.get("webhook_failures", {})
    w(f"Checks: every hotline webhook was a real state change ({'all rows' if not short else 'NOT for ' + ', '.join(short)}); "
      f"`webhook failed` lines in the hotline logs: "
      + ", ".join(f"{k} {v}" for k, v in failures.items()) + ".\n")
    w("What each server keeps of what the hotline needs in production:\n")
    w("| server | request timeout | graceful restart (SIGHUP: new menus, workers replaced) | worker recycling | "
      "`ivr serve --server` |")
    w("|---|---|---|---|---|")
    for name, (timeout, restart, recycle) in sv.get("features", {}).items():
        offered = "yes" + (" (default)" if name == DEFAULT_SERVER else "") if name in SERVERS else "no"
        w(f"| {name} | {timeout} | {restart} | {recycle} | {offered} |")
    w("")
    w(_server_decision(sv, DEFAULT_SERVER) + "\n")


def _server_decision(sv: dict, default: str) -> str:
    """The decision, in words, from this run's hotline figures."""
    def med(name: str, mode: str | None = None) -> float | None:
        ratios = [row[name]["navigation"]["vs_gunicorn"] for m, table in sv["summary"].items() if mode in (None, m)
                  for row in table.values() if "navigation" in row.get(name, {})]
        return statistics.median(ratios) if ratios else None

    parts = [f"**Decision: `ivr serve` runs `{default}` by default.**"]
    gthread = med("gunicorn-gthread")
    if gthread is not None:
        parts.append(f"Hotline navigation under gunicorn-gthread is {f2(med('gunicorn-gthread', 'keep-alive'))}× "
                     f"gunicorn sync with keep-alive and {f2(med('gunicorn-gthread', 'close'))}× with a new connection "
                     f"per request (medians over concurrencies and rounds).")
    for name in ("granian", "granian-1thread", "bjoern"):
        if med(name) is not None:
            parts.append(f"{name}: {f2(med(name, 'keep-alive'))}× keep-alive, {f2(med(name, 'close'))}× close.")
    return " ".join(parts) + " " + SERVER_RATIONALE


# Why the default is what it is (written from the figures of section 7; see docs/benchmarks.md history).
SERVER_RATIONALE = ""


def _postgres(r: dict, w) -> None:
    pg = r.get("postgres")
    if not pg:
        return
    cmp_ = pg["compare"]
    w("## 8. PostgreSQL\n")
    w(f"`bench/postgres.py`: the hotline (`ivr serve --workers 2`, gunicorn sync) on SQLite and on PostgreSQL 127.0.0.1:5432 "
      f"(a scratch database made for the run and dropped after it), each seeded with {pg['accounts']:,} made-up "
      f"accounts, loaded like section 1 ({pg['seconds']:g} s per run, fresh calls for every run, the same "
      f"state-change checks), interleaved in each of {pg['rounds']} rounds and at each concurrency after a ceiling "
      f"run; medians over rounds. Variants of the same PostgreSQL database:\n")
    w("- **postgresql**: as shipped (psycopg 3, SQLAlchemy's pool, `pool_pre_ping`), PostgreSQL's defaults "
      "(`synchronous_commit = on`) except for the call-state save, which since round 4 commits without waiting "
      "for its WAL flush (`IVR_CALL_STATE_ASYNC_COMMIT`, on by default: `synchronous_commit = off` for that "
      "transaction alone); account writes wait for it.")
    w("- **postgresql gthread**: the same, served by `ivr serve --server gunicorn-gthread` (2 workers × 4 threads): "
      "while one thread waits for its commit's flush, the others work.")
    w("- **postgresql async commit**: the same server with `synchronous_commit = off` for all the hotline's connections "
      "(`?options=-csynchronous_commit%3Doff` in the URL, or `ALTER DATABASE … SET synchronous_commit = off`): a "
      "commit returns before the flush. That is the durability the hotline's SQLite has (WAL with "
      "`synchronous=NORMAL`: a commit survives the server process dying, the last moments may be lost if the "
      "machine loses power); on PostgreSQL the last ≤ 0.6 s (3 × `wal_writer_delay`) may also be lost if "
      "PostgreSQL itself crashes. Never corruption.")
    w(f"- **pgbouncer**: through {pg.get('pgbouncer') or 'pgbouncer'} on a loopback port, transaction pooling, "
      f"{pg.get('pgbouncer_pool_size', 10)} server connections at most, started from a temporary configuration; the hotline with "
      f"`{' '.join(f'{k}={v}' for k, v in pg['pgbouncer_env'].items())}` (psycopg otherwise prepares statements, "
      "which pgbouncer's transaction mode before 1.21 cannot carry: \"prepared statement _pg3_0 already exists\").\n")
    w("| concurrency | app | database | req/s | × SQLite | × ceiling | p50 ms | p99 ms | requests | errors |")
    w("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for c, row in cmp_["summary"].items():
        for key, x in row.items():
            app, db = key.split(" ", 1)
            w(f"| {c} | {app} | {db} | {f0(x['rps'])} | {f2(x.get('vs_sqlite'))} | {f2(x.get('vs_ceiling'))} | "
              f"{f1(x['p50_ms'])} | {f1(x['p99_ms'])} | {x['requests']:,} | {x['errors']} |")
    short = [f"{k} at {c}" for c, row in cmp_["summary"].items() for k, x in row.items() if x["steps_saved"] < x["requests"]]
    w(f"\nChecks: every webhook a real state change ({'all rows' if not short else 'NOT for ' + ', '.join(short)}); "
      "`webhook failed` lines: " + ", ".join(f"{k} {v}" for k, v in cmp_["webhook_failures"].items()) + ".\n")
    conns = cmp_.get("connections", {})
    if conns:
        w("Connections held after the load, per worker (the pool keeps what a worker needed at once: the webhook's "
          "transaction, and the account service's own connection on lookups): "
          + "; ".join(f"{k}: {', '.join(map(str, v['per_worker']))}" + (f" (pgbouncer → PostgreSQL: {v['server_side']})"
                                                                      if "server_side" in v else "")
                      for k, v in conns.items()) + ".\n")
    two = pg.get("two_servers")
    if two:
        w("### Two servers, one PostgreSQL\n")
        w(f"Two `ivr serve` processes on different ports, one PostgreSQL (the database above, `synchronous_commit` as "
          f"shipped); every call's webhooks alternate between them: the first to one server, the next to the other, "
          f"and so on. The load is Python ({two['threads']} threads, each owning its calls, so no call ever has two "
          f"webhooks in flight; one keep-alive connection per thread and server), {two['seconds']:g} s per run, "
          f"{two['rounds']} rounds; the baseline is the same load against one server with the same total of workers, "
          f"in the same rounds. Every answer is checked to be the menu its key leads to, and each call's stored step "
          f"counter must equal the webhooks sent to it: the state moved from server to server on every webhook.\n")
        w("| layout | req/s | × one server | p50 ms | p99 ms | webhooks (per server) | wrong answers | step counts exact |")
        w("|---|---:|---:|---:|---:|---|---:|---|")
        for name, x in two["summary"].items():
            w(f"| {name} | {f0(x['rps'])} | {f2(x['vs_one_server'])} | {f1(x['p50_ms'])} | {f1(x['p99_ms'])} | "
              f"{x['requests']:,} ({' + '.join(f'{n:,}' for n in x['per_server'])}) | {x['wrong'] + x['bad_calls']} | "
              f"{'yes' if x['steps_exact'] else '**no**'} |")
        w(f"\n`webhook failed` lines: {two['webhook_failures']}. PostgreSQL connections per worker after the load: "
          + "; ".join(f"{k}: " + " | ".join(", ".join(map(str, srv)) for srv in v) for k, v in two["connections"].items())
          + f"; backends on the database at the end, all servers of this section and the bench's own: {two['backends']}. "
          "The load client shares the 2 cores with the servers, so the absolute figures are the client's as much as "
          "the servers'; the ratio says that alternating servers per webhook costs nothing over one server.\n")


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
        w(f"Starting the app imports {', '.join(mem['heavy_imports'])} (through `ivr.web.softphone` → `ivr.phone`): "
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
    before = (r.get("http") or {}).get("before_commit") or BEFORE_COMMIT
    w(f"### Issue 17 (this run's **before** = commit `{before[:10]}`, main before rounds 4 and 5)\n")
    w("Round 10 (2026-12-07; docs/hotpath.md \"Round 10\": instructions per navigation webhook in one "
      "process 1,349,914 → 1,214,890 under callgrind, served worker CPU per request 495 → 446 µs at "
      "concurrency 10 against `e2895d6`):\n")
    w("- Rendering: the app keeps one renderer per mount point and voice settings (its webhook URLs built "
      "once), and a renderer reuses a whole menu document for `IVR_AUDIO_RECHECK_SECONDS` when every prompt "
      "in it resolved to audio (a prompt still without audio is looked up on every render, a read-out is never "
      "reused): a render went from ~22 to ~4 µs in one process.")
    w("- SQLite webhooks run without SQLAlchemy's transaction object (the load and the save on the cursor, the "
      "save committing itself; other writes are committed or rolled back on the driver's transaction).")
    w("- A kept SQLite webhook connection runs with `busy_timeout` 0, so a save takes the write lock with no "
      "PRAGMA pair around its `BEGIN IMMEDIATE`; every write on such a connection takes the lock itself "
      "(`ivr.accounts.sqlite_lock`), and the connection waits as usual again once back in the pool.")
    w("- `ivr serve` loads the TTS voices (the Mandarin lexicon, pypinyin: ~0.5 s) before forking: before, "
      "each worker's first call paid it (and each worker held its own copy).\n")
    w("Round 5 (2026-12-03, evening; docs/hotpath.md \"Round 5\" has the figures against round 4's main, "
      "`e140bea`):\n")
    w("- SQLite's busy handler: with two workers about one webhook in ten slept a whole millisecond (`strace -T`: "
      "`clock_nanosleep` of 1, 2 and 5 ms; round 4 had read `strace -c`'s CPU time as the sleep). The call-state "
      "save now takes the write lock itself (`BEGIN IMMEDIATE` with `busy_timeout` 0, retried in pauses from "
      "20 µs doubling to 1 ms, giving up after the same 5 s: `ivr.accounts.sqlite_lock.begin_sqlite_write`).")
    w("- A worker's webhook connection stays open between webhooks instead of a pool checkout and check-in "
      "per webhook (`Database.connection`; nothing is held between webhooks; a forked worker never uses its "
      "parent's). On PostgreSQL the webhook's first statement stands in for the pre-ping (one round trip "
      "less): a kept connection the server dropped is replaced and the statement run again.")
    w("- The per-webhook log line is written by the hotline's own handler directly when nothing else listens "
      "(no LogRecord; the same text; any other logging configuration goes through logging as before).")
    w("- The lane's form is parsed as it is read (`forms.LazyForm`: Twilio's phone numbers are unquoted only "
      "when read); read-out lookups look at the audio manifest at most every `IVR_AUDIO_RECHECK_SECONDS`; "
      "the stored call state loads without filtering; the status callback on the webhook's connection (no "
      "ORM Session).\n")
    w("Round 4, the webhook lane:\n")
    w("- `ivr/web/webhook_lane.py`: Twilio's form POSTs to the voice routes are answered by the same views "
      "without Flask's request machinery (request context, URL matching, session, hooks, error handlers, the "
      "Response object): an app context, the form read once, the signature checked with the same function, the "
      "call webhooks through `ivr.web.voice.respond` straight to WSGI. Anything else (a query string, a GET, a "
      "test-clock header, another body type, an oversized or short body, a bad signature) goes to Flask as "
      "before; `IVR_WEBHOOK_LANE=false` sends everything there. `tests/web/test_webhook_lane.py` compares every "
      "answer and stored state of random calls with the lane on and off.")
    w("- `ivr/web/voice.py`: a call handler gets one `Webhook` (form, state, menu version, connection) instead "
      "of reading `flask.g`, `flask.request` and `current_app` (18 context-local lookups per webhook).")
    w("- JSON columns through orjson (the call state is written and read on every webhook).")
    w("- `ivr/web/forms.py`: the Twilio form's short parse was skipped under gunicorn (it sets "
      "`wsgi.input_terminated`), so every served webhook paid werkzeug's general form parser; values without "
      "`%` or `+` are no longer unquoted.")
    w("- Read-outs (a balance) without audio are not looked for on disk on every webhook "
      "(`IVR_AUDIO_RECHECK_SECONDS`); `ivr serve` builds log records without caller, thread and process-name "
      "lookups (the logging HOWTO's switches); the development-mode notice no longer calls `getpid()` per "
      "webhook.\n")
    _this_round(r, w)
    _older_rounds(w)


def _older_rounds(w) -> None:
    w("### Issue 17, rounds 1–3 (commit `328d76fcc3` → `f2b666f`)\n")
    w("- The yardsticks and the server choice: `bench/stateless.py`, the stateless Twilio-style app, in section 1's "
      "rounds and section 7; `bench/servers.py` (section 7), `bench/postgres.py` (section 8); "
      "`bench/run.py --merge`. `ivr serve --server gunicorn|gunicorn-gthread` (`--threads`, `--max-requests`); "
      "the gthread worker keeps the sync worker's request timeout. `IVR_DATABASE_PREPARED_STATEMENTS=false` for "
      "pgbouncer in transaction mode.")
    w("- The hot path (docs/hotpath.md, CPU-time A/B on a loaded machine): one pooled connection per webhook "
      "shared with the account service, dynamic read-outs through the TwiML memo, no per-webhook `stat` for "
      "audio, pool settings as `IVR_DB_*`, PostgreSQL webhooks in autocommit: navigation 1.36×, lookup 1.57× "
      "less CPU per webhook than `328d76fcc3`.\n")
    w("### Issue 8, round 2 (commit `" + ROUND2_BEFORE + "` → `d711db8`)\n")
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
    w("### Issue 8, round 1 (commit `f8412d1374` → `159d35bd15`, figures of the run of 2026-11-26)\n")
    w("`CallStore.load`/`save` precompiled per dialect on the webhook's DB-API cursor (43% + 20% of a navigation "
      "webhook before), one Core connection per webhook with a lazily made Session, memoized TwiML documents, a "
      "cheaper log line. Over HTTP at concurrency 10: navigation 0.14× → 0.26× the ceiling, lookup 0.11× → "
      "0.18×; p99 at concurrency 50: navigation 86 → 44 ms, lookup 96 → 75 ms. That run's machine was busier "
      "(load average 1–2 before it started); compare ratios within one run only.\n")

def _this_round(r: dict, w) -> None:
    """This run's before (the http section's before_commit) against the code measured."""
    cost = r.get("cost")
    if cost and "before" in cost:
        b, a = cost["before"], cost["after"]
        w(f"In-process cost of one webhook (`bench/webhook_cost.py`, raw WSGI, one core, fresh processes "
          f"alternating before/after, median of {cost['rounds']} rounds; the bare Flask ceiling in the same process "
          f"for scale; before = `{cost.get('before_commit', ROUND2_BEFORE)[:10]}`):\n")
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
        w("Over HTTP, the same run (section 1), before → after, as × the stateless app (issue 17's measure) and × "
          "the ceiling:\n")
        w("| concurrency | navigation × stateless | lookup × stateless | navigation × ceiling | lookup × ceiling | "
          "p99 navigation ms | p99 lookup ms |")
        w("|---:|---|---|---|---|---|---|")
        for c, row in h["summary"].items():
            nb, na = row.get("navigation (before)"), row.get("navigation")
            lb, la = row.get("lookup (before)"), row.get("lookup")
            if nb and na and lb and la:
                w(f"| {c} | {f2(nb.get('ratio_stateless'))} → {f2(na.get('ratio_stateless'))} | "
                  f"{f2(lb.get('ratio_stateless'))} → {f2(la.get('ratio_stateless'))} | {f2(nb['ratio'])} → "
                  f"{f2(na['ratio'])} | {f2(lb['ratio'])} → {f2(la['ratio'])} | {f1(nb['p99_ms'])} → {f1(na['p99_ms'])} | "
                  f"{f1(lb['p99_ms'])} → {f1(la['p99_ms'])} |")
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
    nav = [x["navigation"]["ratio_stateless"] for x in h.values() if "ratio_stateless" in x.get("navigation", {})]
    look = [x["lookup"]["ratio_stateless"] for x in h.values() if "ratio_stateless" in x.get("lookup", {})]
    w("## What is left\n")
    if nav and min(nav) < NAV_STATELESS:
        w(f"- **Navigation ≥ {NAV_STATELESS}× the stateless app is not met** ({f2(min(nav))}–{f2(max(nav))}×). "
          "In one process a navigation webhook costs about what a stateless request costs; what two server "
          "processes sharing the SQLite file add (section 1's \"Two processes, one SQLite file\": the write "
          "lock, pages read again after the other's commits) is the rest of the gap, and the per-round ratios "
          "move by about a tenth with the machine. docs/hotpath.md, rounds 7 and 8, has what was measured "
          "and tried.")
    if look and min(look) < LOOKUP_STATELESS:
        w(f"- **Lookups ≥ {LOOKUP_STATELESS}× the stateless app is not met** ({f2(min(look))}–{f2(max(look))}×).")
    ip = r.get("inproc")
    if ip and ip["cheap"]["calls_per_second"] < PHONE_CALLS_TARGET:
        w(f"- **{PHONE_CALLS_TARGET} calls/s through the local phone (cheap hash) is not met** "
          f"({f1(ip['cheap']['calls_per_second'])} calls/s in this run, the median of "
          f"{len(ip['cheap'].get('windows') or [1])} windows; its webhooks alone "
          f"{f1(ip['webhooks']['calls_per_second'])}). Round 6 (docs/hotpath.md) made it 1.2–1.4× faster than "
          "round 5 in interleaved windows; what is left is spread thin (section 2's profile): SQLite's own work "
          "(a quarter), the phone's (a quarter), and this machine's speed, which moves by a fifth within minutes.")
    c50 = h.get("50", {})
    if "ceiling" in c50:
        late = [app for app in ("navigation", "lookup") if app in c50
                and c50[app]["p99_ms"] > c50["ceiling"]["p99_ms"] + P99_MARGIN]
        if late:
            w(f"- **p99 at concurrency 50 above the ceiling's + {P99_MARGIN:.0f} ms** for {', '.join(late)}.")
    pg = ((r.get("postgres") or {}).get("compare") or {}).get("summary") or {}
    slow = [f"{c}: {f2(row['navigation postgresql']['vs_sqlite'])}×" for c, row in pg.items()
            if row.get("navigation postgresql", {}).get("vs_sqlite", 1) < PG_TARGET]
    if slow:
        w(f"- **PostgreSQL as shipped is under {PG_TARGET}× SQLite** (concurrency {', '.join(slow)}): each webhook's "
          "commit waits for a WAL flush (`fdatasync`, ~4 ms on this machine's disk; section 8). With asynchronous "
          "commit it is not; doing that only for the webhook's call-state transaction (`SET LOCAL "
          "synchronous_commit = off` for the call-state writes only, password changes, lockouts and loss reports "
          "staying synchronous) is the next step; not done: it gives up the last commits of a PostgreSQL crash.")
    w("- **200 calls/s in-process** is impossible with one scrypt check per call (section 2), and scrypt stays: "
      "it is what makes a stolen database of 6-digit passwords expensive to brute-force. Without it, see the "
      "cheap-hash row.")
    w("- The benchmark runs the hotline in development mode (no `TWILIO_AUTH_TOKEN`): with a token, every "
      "webhook also checks an HMAC-SHA1 signature and parses the form for it.")
