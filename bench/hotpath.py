"""Before/after of the hot path (issue 17, round 3): the same measurement run alternately on two
copies of the ``ivr`` package, in fresh processes, interleaved, several rounds; prints medians and
the before ÷ after ratio of each figure.

    .venv/bin/python bench/hotpath.py --before COMMIT [--after DIR] [--rounds 4] [--what cost,inproc]

Figures are CPU time of the measuring process (``time.process_time``), not wall time, and the best
of many short windows and of the rounds: on this shared two-core machine other developers' tests
stretch wall time 2-10x from minute to minute, and even CPU time (shared caches and cores), but
interference only ever adds time. All of it is single-threaded.

- ``cost``: bench/webhook_cost.py (µs per navigation and lookup webhook, raw WSGI, one core; the
  bare Flask ceiling in the same process), with prompt audio rendered (``--audio DIR``, else
  rendered once into a scratch folder), so menus answer with <Play> as served.
- ``twiml``: one balance read-out rendered by each tree's ivr/web/twiml.py in one process
  (a new amount each time: the read-outs of many accounts), interleaved.
- ``inproc``: bench/inproc.py's cheap-hash balance call through the local phone and as raw
  webhooks (calls/s).

``--before`` is a commit (its ``ivr`` package is extracted with git archive) or a folder holding an
``ivr`` package; ``--after`` defaults to this checkout. Each measurement is its own process
(PYTHONPATH = that tree first), so the two never share caches; in each round the before and the
after process run at the same time, so both meet the same load from the rest of the machine.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable

INPROC = r"""
import json, sys
sys.path.insert(0, %(bench)r)
from pathlib import Path
import inproc
from common import scratch_dir
work = scratch_dir("ivr-hotpath-")
app = inproc.make_app(work, "cheap", Path(%(audio)r), cheap=True)
import time
cpu = time.process_time()
phone = inproc.phone_calls(app, %(calls)d)
out = {"phone": phone["calls"] / phone["cpu_seconds"]}
cpu = time.process_time()
hooks = inproc.webhook_calls(app, %(calls)d)
out["webhooks"] = hooks["calls"] / (time.process_time() - cpu)
import ivr; out["ivr"] = ivr.__file__
print(json.dumps(out))
"""


def tree(spec: str, dest: Path) -> Path:
    if Path(spec, "ivr").is_dir():
        return Path(spec)
    data = subprocess.run(["git", "archive", "--format=tar", spec, "ivr"], cwd=ROOT, check=True,
                          capture_output=True).stdout
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(dest, filter="data")
    return dest


def start(kind: str, path: Path, audio: Path, calls: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(path), "IVR_MENUS_FILE": str(ROOT / "menus.toml"),
           "IVR_PROMPTS_DIR": str(ROOT / "prompts")}
    if kind == "cost":
        cmd = [PY, "-P", str(BENCH / "webhook_cost.py"), str(audio), "--cpu"]
    else:
        cmd = [PY, "-P", "-c", INPROC % {"bench": str(BENCH), "audio": str(audio), "calls": calls}]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, path: Path) -> dict:
    stdout, stderr = proc.communicate()
    if proc.returncode:
        raise RuntimeError(stderr[-3000:])
    result = json.loads(stdout.strip().splitlines()[-1])
    where = result.pop("ivr", "")
    if not str(where).startswith(str(path)):
        raise RuntimeError(f"measured {where}, not {path}")
    return result


def run_pair(kind: str, before: Path, after: Path, audio: Path, calls: int) -> dict:
    """Both at once: the two processes share whatever else the machine is doing at the time."""
    procs = {"before": (start(kind, before, audio, calls), before), "after": (start(kind, after, audio, calls), after)}
    return {name: finish(proc, path) for name, (proc, path) in procs.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", required=True)
    p.add_argument("--after", default=str(ROOT))
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--what", default="cost,inproc")
    p.add_argument("--audio", default="")
    p.add_argument("--calls", type=int, default=300)
    a = p.parse_args()
    if a.what == "twiml":   # bench/hotpath.py --what twiml --before COMMIT
        tmp = Path(tempfile.mkdtemp(prefix="ivr-hotpath-"))
        print(json.dumps(twiml_ab(tree(a.before, tmp / "before"), tree(a.after, tmp / "after"))))
        return
    tmp = Path(tempfile.mkdtemp(prefix="ivr-hotpath-"))
    before, after = tree(a.before, tmp / "before"), tree(a.after, tmp / "after")
    audio = Path(a.audio) if a.audio else tmp / "audio"
    if not a.audio:
        subprocess.run([PY, "-P", "-m", "ivr.cli", "prompts", "render"], check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(after), "IVR_AUDIO_DIR": str(audio)}, cwd=ROOT)
    results: dict = {}
    for r in range(a.rounds):
        for kind in a.what.split(","):
            for name, result in run_pair(kind, before, after, audio, a.calls).items():
                for key, value in result.items():
                    results.setdefault(f"{kind}.{key}", {}).setdefault(name, []).append(value)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v['before'][-1]:.1f}→{v['after'][-1]:.1f}"
                                            for k, v in results.items()),
              file=sys.stderr)
    table = {}
    for key, v in results.items():
        b, f = (min(v["before"]), min(v["after"])) if key.startswith("cost") else (max(v["before"]), max(v["after"]))
        # µs: lower is better (before ÷ after); calls/s: higher is better (after ÷ before)
        table[key] = {"before": round(b, 1), "after": round(f, 1),
                      "speedup": round(b / f if key.startswith("cost") else f / b, 3),
                      "rounds": len(v["before"])}
    print(json.dumps(table, indent=1))



def twiml_ab(before: Path, after: Path, n: int = 2000) -> dict:
    """µs per render of a balance read-out (a different amount each time, as with many accounts),
    both renderers in this process (ivr/web/twiml.py of each tree, loaded under its own name),
    interleaved; CPU time, best of 7."""
    import importlib.util
    import time

    sys.path.insert(0, str(after))
    from ivr.engine.steps import Hangup, Reply, Speak

    def load(tree: Path, name: str):
        spec = importlib.util.spec_from_file_location(name, tree / "ivr" / "web" / "twiml.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.Renderer(url=lambda e: "/voice/" + e, voices={"en-US": "Polly.Joanna"}, mode="say")

    replies = [Reply(speech=[Speak("medical_balance", f"Your medical insurance personal account balance is "
                                   f"{i:,} yuan {i % 100} fen.", "en-US", dynamic=True),
                             Speak("account_menu", "For your medical insurance balance, press 1.", "en-US")],
                     end=Hangup()) for i in range(n)]
    times: dict = {"before": [], "after": []}
    renderers = {"before": load(before, "twiml_before"), "after": load(after, "twiml_after")}
    for _ in range(7):
        for name, r in renderers.items():
            started = time.process_time()
            for reply in replies:
                r.render(reply)
            times[name].append((time.process_time() - started) / n * 1e6)
    return {name: round(min(v), 1) for name, v in times.items()}


if __name__ == "__main__":
    main()
