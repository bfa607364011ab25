"""Scenario files (TOML): scripted calls with expectations, for ``ivr test`` and test suites.

    [config]                      # optional: app settings every scenario here needs (in-process
    NOW = "2026-11-25T10:00:00+08:00"   # app config; servers started for HTTP runs get IVR_* env)

    [[scenario]]
    name = "English main menu"
    caller = "+8613800138000"     # optional call settings: caller, called, dial_outcome,
    steps = [                     # queue_outcome, dial_seconds, path (entry path on the target)
      { expect = "For English, press 2" },
      { press = "2" },
      { expect_regex = "personal account.*press 1" },
      { hangup = true },
    ]

Steps, one action each: ``expect`` (substring, case-insensitive), ``expect_regex``, ``press``
(digits, ``_`` silence, ``say:TEXT``, ``hangup``; add ``repeat = N`` to answer N input points
the same way), ``say`` (speech; add ``confidence = 0.4`` for what the recogniser is unsure of,
0.9 otherwise), ``hangup``, ``expect_hangup``, ``expect_error``
(a Twilio code), ``expect_event`` (a table: verb plus fields that must match). After the steps
the caller hangs up at the next input point. A call with Twilio errors or warnings fails unless
the scenario sets ``allow_errors`` / ``allow_warnings``.
"""
from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ivr.phone.call import Call
from ivr.phone.errors import PhoneError
from ivr.phone.keys import CallerInput

STEP_KINDS = ("expect", "expect_regex", "press", "say", "hangup", "expect_hangup", "expect_error", "expect_event")
CALL_SETTINGS = ("caller", "called", "dial_outcome", "queue_outcome", "dial_seconds", "queue_wait_seconds")


class ScenarioError(PhoneError):
    """A scenario file that cannot be run as written."""


@dataclass(frozen=True)
class Step:
    kind: str
    value: object
    repeat: int = 1  # press only: answer this many input points with the same keys
    confidence: float | None = None  # say only: the recogniser's Confidence

    def describe(self) -> str:
        text = f"{self.kind} {self.value!r}" if self.value is not True else self.kind
        if self.confidence is not None:
            text += f" (confidence {self.confidence:g})"
        return text + (f" x{self.repeat}" if self.repeat != 1 else "")

    def apply(self, call: Call) -> None:
        if self.kind == "expect":
            call.expect(str(self.value))
        elif self.kind == "expect_regex":
            call.expect(str(self.value), regex=True)
        elif self.kind == "press":
            for _ in range(self.repeat):
                call.press(str(self.value))
        elif self.kind == "say":
            call.say(str(self.value), self.confidence)
        elif self.kind == "hangup":
            call.hangup()
        elif self.kind == "expect_hangup":
            call.expect_hangup()
        elif self.kind == "expect_error":
            call.expect_error(int(self.value))
        elif self.kind == "expect_event":
            fields = dict(self.value)
            call.expect_event(fields.pop("verb"), **fields)


@dataclass
class Scenario:
    name: str
    file: str
    steps: list[Step]
    settings: dict = field(default_factory=dict)  # PhoneSettings overrides for this call
    config: dict = field(default_factory=dict)  # app config it needs
    path: str | None = None  # entry path, when not the target's default
    allow_errors: bool = False
    allow_warnings: bool = False
    problem: str | None = None  # why it cannot run (a misspelled step): it fails, the others run

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


def _step(raw, where: str) -> Step:
    raw = dict(raw) if isinstance(raw, dict) else raw
    repeat = raw.pop("repeat", 1) if isinstance(raw, dict) and "press" in raw else 1
    confidence = raw.pop("confidence", None) if isinstance(raw, dict) and "say" in raw else None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ScenarioError(f"{where}: a step is a table with exactly one of {', '.join(STEP_KINDS)}"
                            " (press may add repeat = N, say confidence = 0.0-1.0)")
    try:
        from ivr.phone.keys import check_confidence

        confidence = check_confidence(confidence)
    except PhoneError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    if not isinstance(repeat, int) or repeat < 1:
        raise ScenarioError(f"{where}: repeat must be a positive whole number")
    (kind, value), = raw.items()
    if kind not in STEP_KINDS:
        raise ScenarioError(f"{where}: unknown step {kind!r} (use {', '.join(STEP_KINDS)})")
    if kind in ("hangup", "expect_hangup") and value is not True:
        raise ScenarioError(f"{where}: write {kind} = true")
    if kind == "press":
        try:
            CallerInput.parse(str(value))
        except PhoneError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
    if kind == "expect_event" and (not isinstance(value, dict) or "verb" not in value):
        raise ScenarioError(f"{where}: expect_event needs a table with a verb")
    if kind in ("expect", "expect_regex", "say") and not isinstance(value, str):
        raise ScenarioError(f"{where}: {kind} takes a string")
    return Step(kind, value, repeat, confidence)


def load_file(path: str | Path) -> list[Scenario]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    shared = data.get("config", {})
    raw_scenarios = data.get("scenario")
    if not isinstance(raw_scenarios, list) or not raw_scenarios:
        raise ScenarioError(f"{path}: no [[scenario]] tables")
    scenarios, names = [], set()
    for number, raw in enumerate(raw_scenarios, 1):
        where = f"{path}: scenario {number}"
        name = (raw.get("name") if isinstance(raw, dict) else None) or f"scenario {number}"
        try:
            scenarios.append(_scenario(raw, name, where, path, shared, names))
        except ScenarioError as exc:   # this scenario fails with the reason; the others still run
            scenarios.append(Scenario(name=name if name not in names else f"{name} ({number})", file=str(path),
                                      steps=[], problem=str(exc)))
        names.add(name)
    return scenarios


def _scenario(raw, name: str, where: str, path: Path, shared: dict, names: set) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a scenario is a [[scenario]] table")
    if name in names:
        raise ScenarioError(f"{where}: duplicate name {name!r}")
    unknown = set(raw) - {"name", "steps", "config", "path", "allow_errors", "allow_warnings", *CALL_SETTINGS}
    if unknown:
        raise ScenarioError(f"{where} ({name}): unknown keys {sorted(unknown)}")
    steps = [_step(s, f"{where} ({name}) step {i}") for i, s in enumerate(raw.get("steps", []), 1)]
    if not steps:
        raise ScenarioError(f"{where} ({name}): no steps")
    return Scenario(
        name=name, file=str(path), steps=steps, settings={k: raw[k] for k in CALL_SETTINGS if k in raw},
        config={**shared, **raw.get("config", {})}, path=raw.get("path"),
        allow_errors=bool(raw.get("allow_errors")), allow_warnings=bool(raw.get("allow_warnings")))


def load_paths(paths) -> list[Scenario]:
    """Files, or directories searched for *.toml (sorted)."""
    found: list[Scenario] = []
    for raw in paths:
        path = Path(raw)
        files = sorted(path.rglob("*.toml")) if path.is_dir() else [path]
        for file in files:
            found.extend(load_file(file))
    return found


@dataclass
class Result:
    scenario: Scenario
    status: str  # passed, failed, skipped
    call: Call | None = None
    message: str = ""
    seconds: float = 0.0  # wall time


def _test_clock_refused(call: Call) -> str | None:
    """Why a scenario that pins the time could not run against this server, or None."""
    answers = [r.get("test_clock") for r in call.requests if r["purpose"] == "twiml" and "test_clock" in r]
    if answers and not all(answers):
        return (f"pins NOW, and the server at {call.ctx.settings.url} ignored the test clock "
                "(start it with IVR_TEST_CLOCK=true, development only)")
    return None


def run(scenario: Scenario, phone_for: Callable[[Scenario], object]) -> Result:
    """Run one scenario on the phone ``phone_for(scenario)`` gives (a str there means: skip, why)."""
    started = time.perf_counter()
    if scenario.problem:
        return Result(scenario, "failed", message=scenario.problem)
    phone = phone_for(scenario)
    if isinstance(phone, str):
        return Result(scenario, "skipped", message=phone)
    overrides = dict(scenario.settings)
    if scenario.path:
        base = phone.settings.url.split("/", 3)
        overrides["url"] = "/".join(base[:3]) + "/" + scenario.path.lstrip("/")
    call = phone.dial(**overrides)
    for number, step in enumerate(scenario.steps, 1):
        try:
            step.apply(call)
        except AssertionError as exc:
            call.hangup()
            refused = _test_clock_refused(call)
            if refused:
                return Result(scenario, "skipped", call, refused, time.perf_counter() - started)
            return Result(scenario, "failed", call, f"step {number} ({step.describe()}): {exc}",
                          time.perf_counter() - started)
    call.finish()
    refused = _test_clock_refused(call)
    if refused:
        return Result(scenario, "skipped", call, refused, time.perf_counter() - started)
    problems = ([] if scenario.allow_errors else [f"error {e['code']}: {e['message']}" for e in call.errors]) + \
        ([] if scenario.allow_warnings else [f"warning {e['code']}: {e['message']}" for e in call.warnings])
    if problems:
        return Result(scenario, "failed", call, "Twilio would report: " + "; ".join(problems) + "\n\n" + call.transcript,
                      time.perf_counter() - started)
    return Result(scenario, "passed", call, seconds=time.perf_counter() - started)
