"""scripts/system-deps.sh waits (bounded) for another apt/dpkg's lock instead of failing at once.
apt-get and dpkg-query are stand-ins on PATH: nothing is installed."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "system-deps.sh"
LOCKED = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)"


def _fake_bin(tmp_path, locked_calls: int) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")            # every package missing
    (bin_dir / "apt-get").write_text(f"""#!/bin/sh
n=$(cat "{tmp_path}/calls" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "{tmp_path}/calls"
echo "$@" >> "{tmp_path}/args"
if [ $n -le {locked_calls} ]; then echo "{LOCKED}" >&2; exit 100; fi
exit 0
""")
    for name in ("dpkg-query", "apt-get"):
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _run(tmp_path, locked_calls: int, wait: str):
    bin_dir = _fake_bin(tmp_path, locked_calls)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "APT_LOCK_WAIT": wait, "APT_LOCK_POLL": "0.1"}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_waits_for_the_lock_then_installs(tmp_path):
    done = _run(tmp_path, locked_calls=3, wait="30")
    assert done.returncode == 0, done.stderr
    assert "another apt/dpkg process holds the package lock; waiting" in done.stderr
    args = (tmp_path / "args").read_text().splitlines()
    assert args[:3] == ["update -qq"] * 3 and args[3] == "update -qq" and args[4].startswith("install -y")


def test_gives_up_after_the_bound_with_a_clear_message(tmp_path):
    done = _run(tmp_path, locked_calls=10_000, wait="1")
    assert done.returncode == 100
    assert "gave up after 1s waiting for the apt/dpkg lock" in done.stderr and LOCKED in done.stderr


def test_other_failures_are_not_waited_for(tmp_path):
    bin_dir = _fake_bin(tmp_path, 0)
    (bin_dir / "apt-get").write_text("#!/bin/sh\necho 'E: Unable to locate package wrk' >&2\nexit 100\n")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "APT_LOCK_POLL": "0.1"}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 100 and "Unable to locate package" in done.stderr and "waiting" not in done.stderr
