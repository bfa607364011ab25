"""``make bench``: every benchmark of issue 8 in one run; results to docs/benchmarks.md.

Figures are always shown next to a baseline measured in the same run on the same machine (the
machines are shared and noisy, so absolute numbers drift from run to run; ratios much less).

    .venv/bin/python bench/run.py                  # the default run, about 10 minutes
    .venv/bin/python bench/run.py --million        # also the 1,000,000-account growth step (~+3 min)
    .venv/bin/python bench/run.py --quick          # a short smoke run (figures not worth keeping)
    .venv/bin/python bench/run.py --only http,memory

Sections: http (webhooks vs the ceiling and the stateless app, before/after), ladder (where the
gap to the ceiling comes from), servers (gunicorn sync/gthread, granian, bjoern), postgres (SQLite
vs PostgreSQL vs pgbouncer, two servers on one PostgreSQL), cost (in-process cost per webhook,
before/after), inproc (calls/s and profile), tts (bench/bench_tts.py), audio (bench/audio.py),
memory, growth, load (ivr load calls/s vs concurrency).

    .venv/bin/python bench/run.py --only servers,postgres --merge   # run these, keep the rest of
                                                                     # bench/results/latest.json and
                                                                     # write docs/benchmarks.md
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, PY, ROOT, machine, scratch_dir  # noqa: E402

SECTIONS = ("http", "ladder", "sharing", "servers", "postgres", "cost", "inproc", "tts", "audio", "memory", "growth", "load")
RESULTS = BENCH / "results"
MILLION_FILE = RESULTS / "growth-1m.json"


def log(msg: str) -> None:
    print(msg, flush=True)


def run_tts() -> dict:
    started = time.perf_counter()
    done = subprocess.run([PY, str(BENCH / "bench_tts.py")], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    out = {"exit": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-2000:],
           "seconds": round(time.perf_counter() - started, 1)}
    floor = re.search(r"\(floor\) \| ([\d.]+) s", done.stdout)
    cold = re.search(r"cold render[^|]*\| ([\d.]+) s", done.stdout)
    warm = re.search(r"warm render[^|]*\| ([\d.]+) (m?s)", done.stdout)
    if floor and cold and warm:
        out.update(floor_s=float(floor[1]), cold_s=float(cold[1]),
                   warm_s=float(warm[1]) / (1000 if warm[2] == "ms" else 1))
    return out


def run_audio(partial: bool = False) -> dict:
    """bench/audio.py: how the voice sounds (foreign syllables, rates, WER, levels), before/after.
    A partial run (``--quick``, ``--only`` without ``--merge``) keeps the committed results."""
    out_file = RESULTS / ("partial.audio.json" if partial else "audio.json")
    done = subprocess.run([PY, str(BENCH / "audio.py"), "--json", str(out_file)], cwd=ROOT, capture_output=True,
                          text=True, timeout=3600)
    out = {"exit": done.returncode, "stdout": done.stdout[-4000:], "stderr": done.stderr[-2000:]}
    if done.returncode == 0:
        report = json.loads(out_file.read_text())
        out.update(before=report["before"], after=report["after"], espeak_cli_16k=report["espeak_cli_16k"])
    return out


def run_cost(workdir: Path, audio_dir: Path | None, before_env: dict | None, rounds: int = 2) -> dict:
    """bench/webhook_cost.py in fresh processes, after and (when available) before, alternating."""
    out: dict[str, list] = {"after": [], "before": []}
    for _ in range(rounds):
        for name, env in (("after", {}), ("before", before_env)):
            if env is None:
                continue
            done = subprocess.run([PY, str(BENCH / "webhook_cost.py"), str(audio_dir or workdir / "audio")],
                                  cwd=workdir, env={**os.environ, **env}, capture_output=True, text=True,
                                  timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"webhook_cost.py ({name}) failed: {done.stderr[-1500:]}")
            out[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    import statistics

    def med(rows, key):
        return statistics.median(r[key] for r in rows) if rows else None

    from hotline_setup import BEFORE_COMMIT

    return {name: {k: med(rows, k) for k in ("ceiling", "navigation", "lookup")} for name, rows in out.items()
            if rows} | {"rounds": rounds, "before_commit": BEFORE_COMMIT}


def run_inproc_ab(audio_dir: Path | None, before_env: dict | None, calls: int, rounds: int = 3) -> dict:
    """bench/inproc.py --cheap-only in fresh processes, the code after and before alternately: the
    in-process call's before/after in the same run (the machine's speed moves within minutes)."""
    out: dict[str, list] = {"after": [], "before": []}
    for _ in range(rounds):
        for name, env in (("after", {}), ("before", before_env)):
            if env is None:
                continue
            cmd = [PY, "-P", str(BENCH / "inproc.py"), "--cheap-only", "--calls", str(calls)]
            if audio_dir:
                cmd += ["--audio-dir", str(audio_dir)]
            done = subprocess.run(cmd, cwd=BENCH, env={**os.environ, **env}, capture_output=True, text=True,
                                  timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"inproc.py --cheap-only ({name}) failed: {done.stderr[-1500:]}")
            out[name].append(json.loads(done.stdout.strip().splitlines()[-1])["calls_per_second"])
    from hotline_setup import BEFORE_COMMIT

    return {name: rates for name, rates in out.items() if rates} | {"rounds": rounds, "before_commit": BEFORE_COMMIT}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=4, help="length of each wrk run (default 4)")
    p.add_argument("--rounds", type=int, default=2, help="rounds of the HTTP comparison (default 2)")
    p.add_argument("--concurrency", default="1,10,50")
    p.add_argument("--no-before", action="store_true", help="do not serve the code before the changes")
    p.add_argument("--million", action="store_true", help="growth: also 1,000,000 accounts (~100 s to seed)")
    p.add_argument("--memory-calls", type=int, default=10_000)
    p.add_argument("--only", help=f"comma-separated sections ({', '.join(SECTIONS)})")
    p.add_argument("--quick", action="store_true", help="short runs, to check the benchmark itself works")
    p.add_argument("--doc", help="where to write the report (default docs/benchmarks.md; with --only or "
                                 "--quick: bench/results/partial.md)")
    p.add_argument("--json", help="raw results (default bench/results/latest.json; with --only or --quick: "
                                  "bench/results/partial.json)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folders (databases, logs)")
    p.add_argument("--merge", action="store_true",
                   help="with --only: put this run's sections into bench/results/latest.json (the others stay "
                        "as they were, each with its own date) and write docs/benchmarks.md from it")
    p.add_argument("--render-only", action="store_true",
                   help="measure nothing: write the report again from the saved results (--json)")
    a = p.parse_args()
    if a.render_only:
        import report

        source = Path(a.json or RESULTS / "latest.json")
        results = json.loads(source.read_text())
        million = json.loads(MILLION_FILE.read_text()) if MILLION_FILE.exists() else None
        doc = Path(a.doc or ROOT / "docs" / "benchmarks.md")
        doc.write_text(report.render(results, a, million))
        log(f"wrote {doc} from {source}")
        return 0
    sections = a.only.split(",") if a.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if a.merge and (a.quick or not a.only):
        p.error("--merge goes with --only (and not with --quick)")
    partial = bool(a.only or a.quick) and not a.merge
    a.doc = a.doc or str(RESULTS / "partial.md" if partial else ROOT / "docs" / "benchmarks.md")
    a.json = a.json or str(RESULTS / ("partial.json" if partial else "latest.json"))
    if a.quick:
        a.seconds, a.rounds, a.memory_calls = 2, 1, min(a.memory_calls, 1000)
    concurrencies = tuple(int(c) for c in a.concurrency.split(","))
    started = time.perf_counter()
    workdir = scratch_dir("ivr-bench-")
    results: dict = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                     "machine": machine(), "argv": sys.argv[1:], "sections": sections, "errors": {}}
    log(f"ivr benchmarks: {', '.join(sections)}; scratch folder {workdir}")
    hotline = None
    before_env = None
    try:
        from hotline_setup import BenchHotline, before_tree

        if not a.no_before and {"http", "cost", "inproc"} & set(sections):
            before_env = before_tree(workdir / "before")
        if {"http", "ladder", "servers", "cost", "inproc", "load"} & set(sections):
            log("preparing the hotline: database with 10,000 made-up accounts, prompt audio")
            hotline = BenchHotline(workdir / "hotline", accounts=10_000)
            hotline.workdir.mkdir()
            hotline.prepare()

        def section(name: str, fn):
            if name not in sections:
                return
            log(f"[{name}] ({time.perf_counter() - started:.0f} s so far)")
            t0 = time.perf_counter()
            try:
                results[name] = fn()
                results[name + "_seconds"] = round(time.perf_counter() - t0, 1)
            except Exception as exc:  # noqa: BLE001 - one broken section must not lose the others
                results["errors"][name] = f"{type(exc).__name__}: {exc}"
                log(f"  {name} FAILED: {type(exc).__name__}: {exc}")
                traceback.print_exc()

        import http_bench

        section("http", lambda: http_bench.run(concurrencies, a.seconds, a.rounds, hotline=hotline,
                                               workdir=hotline.workdir, before=before_env is not None, progress=log))
        section("ladder", lambda: http_bench.run_ladder(hotline, hotline.workdir, seconds=max(a.seconds - 1, 1),
                                                        rounds=a.rounds, progress=log))
        import sharing

        section("sharing", lambda: sharing.run(requests=1000 if a.quick else 4000, rounds=1 if a.quick else 3,
                                               progress=log))
        import servers

        section("servers", lambda: servers.run(concurrencies, seconds=max(a.seconds - 1, 1), rounds=a.rounds,
                                               hotline=hotline, workdir=hotline.workdir, progress=log))
        import postgres

        section("postgres", lambda: postgres.run(concurrencies, seconds=a.seconds, rounds=a.rounds,
                                                 accounts=1_000 if a.quick else 10_000,
                                                 workdir=_sub(workdir, "postgres"), progress=log))
        section("cost", lambda: run_cost(workdir, hotline.workdir / "audio" if hotline else None, before_env,
                                         rounds=1 if a.quick else 2))
        import inproc

        def run_inproc():
            audio = hotline.workdir / "audio" if hotline else None
            out = inproc.run(calls=100 if a.quick else 300, realistic_calls=5 if a.quick else 15,
                             profile_calls=50 if a.quick else 150, workdir=_sub(workdir, "inproc"),
                             audio_dir=audio, progress=log)
            out["ab"] = run_inproc_ab(audio, before_env, calls=100 if a.quick else 300, rounds=1 if a.quick else 3)
            if "before" in out["ab"]:
                log(f"  in-process A/B (cheap hash, calls/s): after {out['ab']['after']}, before {out['ab']['before']}")
            return out

        section("inproc", run_inproc)
        section("tts", run_tts)
        section("audio", lambda: run_audio(partial))
        import memory

        section("memory", lambda: memory.run(a.memory_calls, workdir=_sub(workdir, "memory"), progress=log))
        import growth

        sizes = (10_000, 100_000) + ((1_000_000,) if a.million else ())
        if a.quick:
            sizes = (10_000, 30_000)
        section("growth", lambda: growth.run(sizes, seconds=a.seconds, workdir=_sub(workdir, "growth"), progress=log))
        import load_bench

        section("load", lambda: load_bench.run(concurrencies, seconds=3 if a.quick else 5, hotline=hotline,
                                               workdir=hotline.workdir, progress=log))
    finally:
        results["seconds"] = elapsed = round(time.perf_counter() - started, 1)
        results["machine"]["load_after"] = os.getloadavg()
        if a.merge:
            results = merge(Path(a.json), results, sections)
        if a.million and "growth" in results:
            RESULTS.mkdir(exist_ok=True)
            MILLION_FILE.write_text(json.dumps({"date": results["date"], "machine": results["machine"],
                                                "growth": results["growth"]}, indent=2, default=str))
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(results, indent=2, default=str))
        import report

        million = json.loads(MILLION_FILE.read_text()) if MILLION_FILE.exists() else None
        Path(a.doc).write_text(report.render(results, a, million))
        log(f"wrote {a.doc} and {a.json} in {elapsed:.0f} s")   # this run's time (a merge keeps the full run's)
        if a.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if results["errors"] else 0


def merge(path: Path, fresh: dict, sections: list[str]) -> dict:
    """The saved results with this run's sections in place of theirs; each section keeps the date,
    machine and duration of the run that measured it (``section_runs``)."""
    old = json.loads(path.read_text()) if path.exists() else {"sections": [], "errors": {}, "section_runs": {}}
    runs = old.setdefault("section_runs", {})
    for name in old.get("sections", []):   # sections of the last full run: its date
        runs.setdefault(name, {"date": old["date"], "load_before": old["machine"].get("load_before"),
                               "load_after": old["machine"].get("load_after"), "argv": old.get("argv")})
    for name in sections:
        old.pop(name, None)
        old.pop(name + "_seconds", None)
        old.get("errors", {}).pop(name, None)
        if name in fresh:
            old[name] = fresh[name]
            old[name + "_seconds"] = fresh.get(name + "_seconds")
        if name in fresh.get("errors", {}):
            old.setdefault("errors", {})[name] = fresh["errors"][name]
        runs[name] = {"date": fresh["date"], "load_before": fresh["machine"].get("load_before"),
                      "load_after": fresh["machine"].get("load_after"), "argv": fresh.get("argv")}
    old["sections"] = sorted(set(old.get("sections", [])) | set(sections), key=SECTIONS.index)
    old["machine"] = {**old.get("machine", {}), **{k: v for k, v in fresh["machine"].items()
                                                 if k not in ("load_before", "load_after")}}
    return old


def _sub(workdir: Path, name: str) -> Path:
    path = workdir / name
    path.mkdir(exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
