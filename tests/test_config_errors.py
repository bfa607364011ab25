"""A bad setting stops every command with one line naming the variable and what it accepts, no
traceback (IVR_LOCK_HOURS=abc used to end in "'<=' not supported between 'str' and 'int'")."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

IVR = Path(sys.executable).with_name("ivr")


@pytest.mark.parametrize("name,value,message", [
    ("IVR_SOFTPHONE", "maybe", "IVR_SOFTPHONE must be true or false"),
    ("IVR_LOCK_HOURS", "abc", "IVR_LOCK_HOURS must be a whole number (default 24), not 'abc'"),
    ("IVR_SPEECH_CONFIDENCE", "high", "IVR_SPEECH_CONFIDENCE must be a number"),
    ("IVR_ADMIN_TOKEN", "short", "IVR_ADMIN_TOKEN is 5 characters"),
])
def test_a_bad_setting_is_one_clear_line(tmp_path, name, value, message):
    env = {**os.environ, name: value, "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("TWILIO_AUTH_TOKEN", None)
    done = subprocess.run([str(IVR), "db", "init"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
