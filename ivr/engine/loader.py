"""Read menus.toml into the menu model, collecting every problem with file, menu and key.

Structure problems (wrong types, unknown fields) are found here; cross-references, prompts and
design rules are checked in ``ivr.engine.check``.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

from ivr.engine.model import ACTION_KINDS, KEYS, Action, Agent, Entry, Flow, Hours, Menu, MenuFile, q

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ACTION_FIELDS = {
    "submenu": {"menu"}, "back": set(), "top": set(), "repeat": set(), "play": {"prompt"},
    "collect": {"flow"}, "run": {"op"}, "agent": set(), "record": set(), "hangup": set(),
    "language": {"lang", "then"},
}
_OPTIONAL_FIELDS = {"hangup": {"prompt"}, "run": {"menu"}}
_MENU_FIELDS = {"prompt", "short_prompt", "options", "timeout", "max_failures", "max_timeouts",
                "on_max_failures", "on_max_timeouts", "invalid_prompt", "timeout_prompt", "intro",
                "global_keys", "bilingual", "input", "sensitive"}
_ENTRY_FIELDS = {"prompt", "min_digits", "max_digits", "timeout", "finish_on_key", "star_as_x",
                 "sensitive", "input"}
INPUTS = ("dtmf", "dtmf speech")   # what a menu or entry may take (keys always work)


class MenuFileError(Exception):
    """A menus.toml that cannot be used; ``problems`` lists every error found."""

    def __init__(self, problems: list[str], warnings: list[str] | None = None):
        self.problems = problems
        self.warnings = warnings or []
        super().__init__("\n".join(problems))


class _Reader:
    def __init__(self, name: str):
        self.name = name
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.name}: {where}: {message}" if where else f"{self.name}: {message}")

    # -- typed getters: record a problem and return the default on a bad value
    def get(self, table: dict, key: str, kind: type | tuple, where: str, default=None, required=False):
        if key not in table:
            if required:
                self.problem(where, f"missing {q(key)}")
            return default
        value = table[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.problem(where, f"{q(key)} must be {names}, not {q(value)}")
            return default
        return value

    def positive(self, table: dict, key: str, where: str, default: int, maximum: int = 3600) -> int:
        value = self.get(table, key, int, where, default)
        if not 1 <= value <= maximum:
            self.problem(where, f"{q(key)} must be between 1 and {maximum}, not {value}")
            return default
        return value

    def unknown_fields(self, table: dict, allowed: set[str], where: str) -> None:
        for key in sorted(set(table) - allowed):
            self.problem(where, f"unknown field {q(key)} (allowed: {', '.join(sorted(allowed))})")

    def action(self, raw, where: str) -> Action | None:
        if isinstance(raw, str):
            raw = {"action": raw}
        if not isinstance(raw, dict):
            self.problem(where, f"an action must be a table like {{ action = \"back\" }}, not {q(raw)}")
            return None
        kind = raw.get("action")
        if kind not in ACTION_KINDS:
            known = ", ".join(ACTION_KINDS)
            self.problem(where, f"unknown action {q(kind)} (known: {known})")
            return None
        required = _ACTION_FIELDS[kind]
        allowed = {"action"} | required | _OPTIONAL_FIELDS.get(kind, set())
        self.unknown_fields(raw, allowed, where)
        ok = True
        for name in sorted(required):
            if not isinstance(raw.get(name), str) or not raw.get(name):
                self.problem(where, f"action {q(kind)} needs {name} = \"...\"")
                ok = False
        if not ok:
            return None
        return Action(kind=kind, **{k: v for k, v in raw.items() if k != "action" and isinstance(v, str)})


def read_menu_file(path: str | Path, text: str | None = None) -> tuple[MenuFile | None, list[str]]:
    """Parse the file (or ``text``, read from it before: a stored menu version). Returns (model or
    None, problems)."""
    path = Path(path)
    r = _Reader(path.name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8") if text is None else text)
    except FileNotFoundError:
        return None, [f"{path}: file not found"]
    except UnicodeDecodeError as exc:
        return None, [f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]
    except tomllib.TOMLDecodeError as exc:
        return None, [f"{path.name}: {_toml_message(str(exc))}"]
    top_allowed = {"settings", "defaults", "global_keys", "agent", "menus", "flows"}
    r.unknown_fields(data, top_allowed, "")

    settings = r.get(data, "settings", dict, "[settings]", {}, required=True)
    defaults = r.get(data, "defaults", dict, "[defaults]", {})
    menus_raw = r.get(data, "menus", dict, "[menus]", {}, required=True)
    if not menus_raw:
        r.problem("[menus]", "no menus defined")

    default_menu = {
        "timeout": r.positive(defaults, "timeout", "[defaults]", 5, 60),
        "max_failures": r.positive(defaults, "max_failures", "[defaults]", 3, 20),
        "max_timeouts": r.positive(defaults, "max_timeouts", "[defaults]", 3, 20),
        "invalid_prompt": r.get(defaults, "invalid_prompt", str, "[defaults]", "invalid"),
        "timeout_prompt": r.get(defaults, "timeout_prompt", str, "[defaults]", "no_input"),
        "on_max_failures": r.action(defaults.get("on_max_failures", "hangup"), "[defaults] on_max_failures"),
        "on_max_timeouts": r.action(defaults.get("on_max_timeouts", "hangup"), "[defaults] on_max_timeouts"),
    }
    r.unknown_fields(defaults, set(default_menu), "[defaults]")

    menus = {}
    for menu_id, raw in menus_raw.items():
        menu = _read_menu(r, menu_id, raw, default_menu)
        if menu:
            menus[menu_id] = menu

    global_keys, global_phrases = {}, {}
    for key, raw in r.get(data, "global_keys", dict, "[global_keys]", {}).items():
        where = f"global key {q(key)}"
        if key not in KEYS or len(key) != 1:
            r.problem(where, f"a key must be one of {' '.join(KEYS)}")
            continue
        raw, said = _split_phrases(r, raw, where)
        action = r.action(raw, where)
        if action:
            global_keys[key] = action
            if said:
                global_phrases[key] = said

    flows = {}
    for flow_id, raw in r.get(data, "flows", dict, "[flows]", {}).items():
        flow = _read_flow(r, flow_id, raw)
        if flow:
            flows[flow_id] = flow

    agent = _read_agent(r, r.get(data, "agent", dict, "[agent]", {}, required=True))

    languages = tuple(r.get(settings, "languages", list, "[settings]", ["zh-CN", "en-US"]))
    model = MenuFile(
        path=str(path),
        start=r.get(settings, "start", str, "[settings]", "", required=True),
        top=r.get(settings, "top", str, "[settings]", "", required=True),
        default_language=r.get(settings, "default_language", str, "[settings]", "zh-CN"),
        languages=languages,
        max_steps=r.positive(settings, "max_steps", "[settings]", 100, 10000),
        goodbye_prompt=r.get(settings, "goodbye_prompt", str, "[settings]", "goodbye"),
        error_prompt=r.get(settings, "error_prompt", str, "[settings]", "app_error"),
        loop_prompt=r.get(settings, "loop_prompt", str, "[settings]", "loop_guard"),
        attempts_prompt=r.get(settings, "attempts_prompt", str, "[settings]", "too_many_attempts"),
        menus=menus,
        global_keys=global_keys,
        flows=flows,
        agent=agent,
        global_phrases=global_phrases,
    )
    r.unknown_fields(settings, {"start", "top", "default_language", "languages", "max_steps",
                                "goodbye_prompt", "error_prompt", "loop_prompt", "attempts_prompt"},
                    "[settings]")
    if model.default_language not in languages:
        r.problem("[settings]", f"default_language {q(model.default_language)} is not in languages")
    return (model if agent else None), r.problems


def _read_menu(r: _Reader, menu_id: str, raw, defaults: dict) -> Menu | None:
    where = f"menu {q(menu_id)}"
    if not isinstance(raw, dict):
        r.problem(where, "must be a table")
        return None
    r.unknown_fields(raw, _MENU_FIELDS, where)
    prompt = r.get(raw, "prompt", str, where, None, required=True)
    options, phrases = {}, {}
    for key, action_raw in r.get(raw, "options", dict, where, {}, required=True).items():
        kwhere = f"{where}, option {q(key)}"
        if len(key) != 1 or key not in KEYS:
            r.problem(kwhere, f"a key must be one of {' '.join(KEYS)}")
            continue
        action_raw, said = _split_phrases(r, action_raw, kwhere)
        action = r.action(action_raw, kwhere)
        if action:
            options[key] = action
            if said:
                phrases[key] = said
    on_fail = raw.get("on_max_failures")
    on_timeout = raw.get("on_max_timeouts")
    menu = Menu(
        id=menu_id,
        prompt=prompt or "",
        short_prompt=r.get(raw, "short_prompt", str, where, prompt or ""),
        options=options,
        timeout=r.positive(raw, "timeout", where, defaults["timeout"], 60),
        max_failures=r.positive(raw, "max_failures", where, defaults["max_failures"], 20),
        max_timeouts=r.positive(raw, "max_timeouts", where, defaults["max_timeouts"], 20),
        on_max_failures=(r.action(on_fail, f"{where}, on_max_failures") if on_fail is not None
                         else defaults["on_max_failures"]),
        on_max_timeouts=(r.action(on_timeout, f"{where}, on_max_timeouts") if on_timeout is not None
                         else defaults["on_max_timeouts"]),
        invalid_prompt=r.get(raw, "invalid_prompt", str, where, defaults["invalid_prompt"]),
        timeout_prompt=r.get(raw, "timeout_prompt", str, where, defaults["timeout_prompt"]),
        intro=r.get(raw, "intro", str, where, None),
        global_keys=r.get(raw, "global_keys", bool, where, True),
        bilingual=r.get(raw, "bilingual", bool, where, False),
        input=_input(r, raw, where),
        phrases=phrases,
        sensitive=r.get(raw, "sensitive", bool, where, False),
    )
    if menu.on_max_failures is None or menu.on_max_timeouts is None:
        return None
    return menu  # kept even with a missing prompt, so the menus pointing here raise no echo


def _input(r: _Reader, raw: dict, where: str) -> str:
    value = r.get(raw, "input", str, where, "dtmf")
    value = " ".join(value.split())
    if value == "speech dtmf":
        value = "dtmf speech"
    if value not in INPUTS:
        r.problem(where, f"input must be \"dtmf\" or \"dtmf speech\" (keys always work), not {q(value)}")
        return "dtmf"
    return value


def _split_phrases(r: _Reader, raw, where: str):
    """An option's action table without its ``say`` table, and the phrases: lang -> tuple."""
    if not isinstance(raw, dict) or "say" not in raw:
        return raw, {}
    raw = dict(raw)
    said = raw.pop("say")
    if not isinstance(said, dict):
        r.problem(where, 'say must be a table of languages, like say.zh-CN = ["余额"]')
        return raw, {}
    out = {}
    for lang, phrases in said.items():
        ok = isinstance(phrases, list) and phrases and all(isinstance(p, str) and p.strip() for p in phrases)
        if not ok:
            r.problem(where, f"say.{lang} must be a list of phrases, like [\"balance\"], not {q(phrases)}")
            continue
        out[lang] = tuple(p.strip() for p in phrases)
    return raw, out


def _read_flow(r: _Reader, flow_id: str, raw) -> Flow | None:
    where = f"flow {q(flow_id)}"
    if not isinstance(raw, dict):
        r.problem(where, "must be a table")
        return None
    r.unknown_fields(raw, {"entries", "max_attempts", "on_max_attempts", "on_success"}, where)
    entries = {}
    for entry_id, e in r.get(raw, "entries", dict, where, {}, required=True).items():
        ewhere = f"{where}, entry {q(entry_id)}"
        if not isinstance(e, dict):
            r.problem(ewhere, "must be a table")
            continue
        r.unknown_fields(e, _ENTRY_FIELDS, ewhere)
        entry = Entry(
            id=entry_id,
            prompt=r.get(e, "prompt", str, ewhere, "", required=True),
            min_digits=r.positive(e, "min_digits", ewhere, 1, 64),
            max_digits=r.positive(e, "max_digits", ewhere, 32, 64),
            timeout=r.positive(e, "timeout", ewhere, 10, 60),
            finish_on_key=r.get(e, "finish_on_key", str, ewhere, "#"),
            star_as_x=r.get(e, "star_as_x", bool, ewhere, False),
            sensitive=r.get(e, "sensitive", bool, ewhere, False),
            input=_input(r, e, ewhere),
        )
        if entry.min_digits > entry.max_digits:
            r.problem(ewhere, f"min_digits {entry.min_digits} is more than max_digits {entry.max_digits}")
        if entry.finish_on_key not in ("#", "*", ""):
            r.problem(ewhere, "finish_on_key must be \"#\", \"*\" or \"\"")
        if entry.star_as_x and entry.finish_on_key == "*":
            r.problem(ewhere, "star_as_x needs a finish_on_key other than \"*\"")
        entries[entry_id] = entry
    on_max = r.action(raw.get("on_max_attempts", "hangup"), f"{where}, on_max_attempts")
    on_success = r.action(raw["on_success"], f"{where}, on_success") if "on_success" in raw else None
    if on_max is None:
        return None
    return Flow(id=flow_id, entries=entries,
                max_attempts=r.positive(raw, "max_attempts", where, 3, 20),
                on_max_attempts=on_max, on_success=on_success)


def _parse_range(r: _Reader, text, where: str):
    m = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", text) if isinstance(text, str) else None
    try:
        if not m:
            raise ValueError
        start = dt.time(int(m[1]), int(m[2]))
        end = dt.time(int(m[3]), int(m[4])) if (m[3], m[4]) != ("24", "00") else dt.time.max
        if start >= end:
            raise ValueError
        return start, end
    except ValueError:
        r.problem(where, f"opening hours must look like \"08:30-12:00\", not {q(text)}")
        return None


def _read_dates(r: _Reader, raw: dict, key: str, where: str) -> frozenset[dt.date]:
    out = set()
    for value in r.get(raw, key, list, where, []):
        try:
            out.add(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)))
        except ValueError:
            r.problem(where, f"{key}: {q(value)} is not a date like 2026-10-01")
    return frozenset(out)


def _read_agent(r: _Reader, raw: dict) -> Agent | None:
    where = "[agent]"
    allowed = {"mode", "number", "queue", "timezone", "hours", "holidays", "workdays",
               "connecting_prompt", "closed_prompt", "hold_prompt", "unavailable_prompt",
               "voicemail_menu", "record_prompt", "recorded_prompt", "dial_timeout",
               "voicemail_max_length"}
    r.unknown_fields(raw, allowed, where)
    mode = r.get(raw, "mode", str, where, "dial")
    if mode not in ("dial", "enqueue"):
        r.problem(where, f"mode must be \"dial\" or \"enqueue\", not {q(mode)}")
    number = r.get(raw, "number", str, where, None)
    if mode == "dial" and not number:
        r.problem(where, "mode \"dial\" needs number = \"+86...\"")
    tz = r.get(raw, "timezone", str, where, "Asia/Shanghai")
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(tz)
    except Exception:
        r.problem(where, f"unknown time zone {q(tz)}")
    weekly: dict[int, tuple] = {}
    hours_raw = r.get(raw, "hours", dict, where, {})
    for day, ranges in hours_raw.items():
        if day not in WEEKDAYS:
            r.problem(f"{where} hours", f"unknown day {q(day)} (use {', '.join(WEEKDAYS)})")
            continue
        if not isinstance(ranges, list):
            r.problem(f"{where} hours", f"{day} must be a list like [\"08:30-12:00\"]")
            continue
        parsed = [_parse_range(r, x, f"{where} hours.{day}") for x in ranges]
        weekly[WEEKDAYS.index(day)] = tuple(sorted(p for p in parsed if p))
    hours = Hours(timezone=tz, weekly=weekly, holidays=_read_dates(r, raw, "holidays", where),
                  workdays=_read_dates(r, raw, "workdays", where))
    return Agent(
        mode=mode, number=number, queue=r.get(raw, "queue", str, where, "agents"), hours=hours,
        connecting_prompt=r.get(raw, "connecting_prompt", str, where, "agent_connecting"),
        closed_prompt=r.get(raw, "closed_prompt", str, where, "agent_closed"),
        hold_prompt=r.get(raw, "hold_prompt", str, where, "agent_hold"),
        unavailable_prompt=r.get(raw, "unavailable_prompt", str, where, "agent_unavailable"),
        voicemail_menu=r.get(raw, "voicemail_menu", str, where, "voicemail", required=True),
        record_prompt=r.get(raw, "record_prompt", str, where, "record_message"),
        recorded_prompt=r.get(raw, "recorded_prompt", str, where, "message_saved"),
        dial_timeout=r.positive(raw, "dial_timeout", where, 30, 600),
        voicemail_max_length=r.positive(raw, "voicemail_max_length", where, 120, 3600),
    )


def _toml_message(message: str) -> str:
    """Turn tomllib's message into one that names the line (and the duplicate, when that is it)."""
    m = re.search(r"\(at line (\d+), column (\d+)\)", message)
    where = f"line {m[1]}, column {m[2]}: " if m else ""
    text = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
    declared = re.findall(r"'([^']+)'", text) if text.startswith("Cannot declare") else []
    if len(declared) >= 2 and declared[0] == "menus":
        return f"{where}duplicate menu {q(declared[1])}"
    if text.startswith("Cannot"):
        return f"{where}duplicate key or table: {text}"
    return f"{where}{text}"
