"""The phone tests any TwiML app, not only ours: ``ivr call --app``/``ivr test --app`` on the
example Flask app (examples/flask_menu), its own pytest suite run as a user runs it, and what
``--app`` says when the spec leads nowhere."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.phone.cli import call_command as bare_call_command
from tests.servers import IVR

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "examples.flask_menu.app:create_app"
HOURS = "We are open Monday to Friday"


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # where `examples` imports from, as for a user in the checkout


def _ivr(*args):
    return CliRunner().invoke(main, list(args))


def _transcript(output: str) -> list[tuple[str, str]]:
    """(label, detail) per event line of a transcript: ``{at:8.1f}s  {label:<14} {detail}``."""
    rows = []
    for line in output.splitlines():
        at, sep, rest = line.partition("s  ")
        if sep and at.strip().replace(".", "", 1).isdigit():
            rows.append((rest[:14].strip(), rest[15:]))
    return rows


def test_ivr_call_app_follows_the_keys_through_the_example(at_root):
    result = _ivr("call", "--app", EXAMPLE, "7", "2")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Call CA") and "(POST http://localhost/voice)" in result.output.splitlines()[0]
    steps = _transcript(result.output)
    said = [detail for label, detail in steps if label == "Say [en-US]"]
    pressed = [detail for label, detail in steps if label == "Caller"]
    assert pressed == ["presses 7", "presses 2"]
    assert said == ["Thank you for calling the Riverside Library.",
                    "For opening hours, press 1. For our address, press 2. To hear this menu again, press 9.",
                    "Sorry, 7 is not on the menu.",
                    "For opening hours, press 1. For our address, press 2. To hear this menu again, press 9.",
                    "You will find us at 12 River Street, next to the town hall.",
                    "Thank you for calling. Goodbye."]
    assert result.output.rstrip().splitlines()[-1].startswith("Ended: completed, by app")


@pytest.mark.parametrize("spec", ["examples.flask_menu.app", "examples.flask_menu.app:create_app()",
                                  "examples/flask_menu/app.py:create_app", "examples/flask_menu/app.py"])
def test_every_spelling_of_the_app_reaches_it(at_root, spec):
    result = _ivr("call", "--app", spec, "--json", "1")
    assert result.exit_code == 0, result.output
    call = json.loads(result.output)
    heard = [e["text"] for e in call["events"] if e["verb"] == "Say"]
    assert heard[-2].startswith(HOURS) and call["ended_by"] == "app"
    assert [r["url"].split("?")[0] for r in call["requests"]] == \
        ["http://localhost/voice", "http://localhost/menu", "http://localhost/choice"]


def test_the_ivr_script_finds_the_app_in_the_current_folder():
    # A console script has no current folder on sys.path; --app puts it there, as flask --app does.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
    done = subprocess.run([str(IVR), "call", "--app", EXAMPLE, "--json", "9", "2"], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    call = json.loads(done.stdout)
    assert [e["digits"] for e in call["events"] if e["verb"] == "Gather"] == ["9", "2"]
    assert any("12 River Street" in e.get("text", "") for e in call["events"])


def test_an_app_at_another_path_with_its_own_status_callback(tmp_path, monkeypatch):
    name = _module(tmp_path, monkeypatch, """
        from werkzeug.wrappers import Request, Response
        seen = []

        def app(environ, start_response):
            req = Request(environ)
            seen.append((req.path, dict(req.form)))
            body = '<Response><Say>Hello from answer.</Say></Response>' if req.path == "/answer" else ""
            return Response(body, content_type="text/xml")(environ, start_response)
    """)
    result = _ivr("call", "--app", f"{name}:app", "--url", "/answer", "--status-callback", "/status", "--json")
    assert result.exit_code == 0, result.output
    seen = sys.modules[name].seen
    assert [path for path, _ in seen] == ["/answer", "/status"]
    assert seen[1][1]["CallStatus"] == "completed" and seen[1][1]["CallSid"] == seen[0][1]["CallSid"]
    assert json.loads(result.output)["url"] == "http://localhost/answer"


def test_ivr_test_app_runs_the_examples_scenarios(at_root, tmp_path):
    result = _ivr("test", "--app", EXAMPLE, "examples/flask_menu/scenarios.toml")
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS  ") == 3 and "3 passed, 0 failed, 0 skipped" in result.output
    # A scenario pinning app config cannot run on an app built by its own factory: skipped, saying why.
    (tmp_path / "pinned.toml").write_text(textwrap.dedent("""
        [[scenario]]
        name = "pinned"
        config = { NOW = "2026-11-25T10:00:00+08:00" }
        steps = [{ press = "1" }, { expect = "open Monday" }]
    """), encoding="utf-8")
    skipped = _ivr("test", "--app", EXAMPLE, str(tmp_path / "pinned.toml"))
    assert skipped.exit_code == 1
    assert "SKIP" in skipped.output and "built by its own factory" in skipped.output
    assert "Nothing ran: every scenario was skipped." in skipped.output


def test_the_examples_own_tests_pass_as_a_user_runs_them():
    """The documented recipe: a conftest.py overriding phone_app, then plain pytest."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "examples/flask_menu"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def _module(tmp_path, monkeypatch, source: str) -> str:
    """A module of this source on sys.path, under a name no other test uses."""
    name = f"app_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


BROKEN = {
    "no module": ("", "{name}_missing:app", "no module named '{name}_missing'"),
    "no attribute": ("app = None\n", "{name}:nope", "module '{name}' has no attribute 'nope'"),
    "factory raises": ("def create_app():\n    raise RuntimeError('no database configured')\n",
                       "{name}:create_app", "create_app() raised RuntimeError: no database configured"),
    "not callable": ("settings = {'a': 1}\n", "{name}:settings", "settings is a dict, not a WSGI app nor a factory"),
    "factory returns no app": ("def create_app():\n    return 'hello'\n", "{name}", "create_app() returned a str, "
                               "not a WSGI app"),
    "needs arguments": ("def make(config):\n    pass\n", "{name}:make", "make(config) is neither a WSGI app"),
    "bad import inside": ("import no_such_dependency_xyz\n", "{name}:app",
                          "importing '{name}' failed: No module named 'no_such_dependency_xyz'"),
    "raises on import": ("raise ValueError('half written')\n", "{name}", "importing '{name}' raised ValueError: "
                         "half written"),
    "nothing to find": ("x = 1\n", "{name}", "module '{name}' has no app (app, application) and no factory"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_app_errors_name_what_was_given(tmp_path, monkeypatch, case):
    source, spec, message = BROKEN[case]
    name = _module(tmp_path, monkeypatch, source)
    result = _ivr("call", "--app", spec.format(name=name), "1")
    assert result.exit_code == 2, result.output
    last = result.output.rstrip().splitlines()[-1]
    assert last.startswith("Error: Invalid value for --app: ") and spec.format(name=name) in last
    assert message.format(name=name) in last
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_config_is_refused_for_an_app_with_its_own_factory(at_root):
    result = _ivr("call", "--app", EXAMPLE, "-c", "NOW=2026-11-25T10:00:00+08:00", "1")
    assert result.exit_code == 2
    assert "examples.flask_menu.app:create_app is built by its own factory, which takes no settings" in result.output


def test_the_phones_own_commands_ask_for_an_app_or_a_url():
    # ivr.phone.cli's commands have no default app: only `ivr` hands them the hotline.
    result = CliRunner().invoke(bare_call_command, ["1"])
    assert result.exit_code == 2
    assert "nothing to call: give --app MODULE:NAME" in result.output and "--url URL" in result.output
