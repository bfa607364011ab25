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


@pytest.mark.parametrize("command", [["db", "init"], ["menus", "check"], ["menus", "graph"], ["reload"],
                                     ["prompts", "check"], ["twilio", "setup", "--number", "+15005550006"],
                                     ["serve", "--port", "0"], ["call", "1"]])
def test_every_command_reads_the_settings_one_way(tmp_path, command):
    """Each command reads IVR_* through ivr.config.read_config, so each refuses a bad value the
    same way (no command reads os.environ by itself or builds a throwaway app)."""
    env = {**os.environ, "IVR_LOCK_HOURS": "abc", "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("TWILIO_AUTH_TOKEN", None)
    done = subprocess.run([str(IVR), *command], env=env, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert done.returncode != 0
    assert "IVR_LOCK_HOURS must be a whole number (default 24), not 'abc'" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_commands_use_the_configured_menu_file(tmp_path):
    """`ivr menus check` with no argument checks IVR_MENUS_FILE, as the app would load it."""
    broken = tmp_path / "menus.toml"
    broken.write_text("[menus.main\n", encoding="utf-8")
    env = {**os.environ, "IVR_MENUS_FILE": str(broken)}
    done = subprocess.run([str(IVR), "menus", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "menus.toml" in done.stdout + done.stderr
