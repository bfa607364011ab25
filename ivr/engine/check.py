"""Cross-checks of a loaded menu file: targets, reachability, prompts, and design rules.

Errors make the file unusable; warnings (more than 5 options, depth over 3) are design advice.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

from ivr.engine.model import Action, MenuFile, q

MAX_OPTIONS = 5
MAX_DEPTH = 3
# How a prompt may mention a key besides the character itself.
KEY_WORDS = {"*": ("*", "星号", "star"), "#": ("#", "井号", "pound", "hash")}


def check_menu_file(model: MenuFile, catalogue, ops: set[str]) -> tuple[list[str], list[str]]:
    name = Path(model.path).name
    errors: list[str] = []
    warnings: list[str] = []

    def err(where: str, message: str) -> None:
        errors.append(f"{name}: {where}: {message}")

    def prompt(where: str, prompt_id: str | None) -> None:
        if not prompt_id:
            return
        for lang in model.languages:
            if not catalogue.has(prompt_id, lang):
                err(where, f"prompt {q(prompt_id)} has no {lang} text in {lang}.toml")

    def action(where: str, a: Action) -> None:
        if a.kind == "submenu" and a.menu not in model.menus:
            err(where, f"unknown menu {q(a.menu)}")
        if a.kind == "run":
            if a.op not in ops:
                err(where, f"unknown operation {q(a.op)} (known: {', '.join(sorted(ops))})")
            if a.menu and a.menu not in model.menus:
                err(where, f"unknown menu {q(a.menu)}")
        if a.kind == "language":
            if a.lang not in model.languages:
                err(where, f"unknown language {q(a.lang)}")
            if a.then not in model.menus:
                err(where, f"unknown menu {q(a.then)}")
        if a.kind == "collect" and a.flow not in model.flows:
            err(where, f"unknown flow {q(a.flow)}")
        prompt(where, a.prompt)

    for label, menu_id in (("start", model.start), ("top", model.top)):
        if menu_id and menu_id not in model.menus:
            err("[settings]", f"{label}: unknown menu {q(menu_id)}")
    for label in ("goodbye_prompt", "error_prompt", "loop_prompt", "attempts_prompt"):
        prompt("[settings]", getattr(model, label))
    for key, a in model.global_keys.items():
        action(f"global key {q(key)}", a)

    agent = model.agent
    if agent.voicemail_menu not in model.menus:
        err("[agent]", f"voicemail_menu: unknown menu {q(agent.voicemail_menu)}")
    for label in ("connecting_prompt", "closed_prompt", "hold_prompt", "unavailable_prompt",
                  "record_prompt", "recorded_prompt"):
        prompt("[agent]", getattr(agent, label))

    for flow in model.flows.values():
        fwhere = f"flow {q(flow.id)}"
        action(f"{fwhere}, on_max_attempts", flow.on_max_attempts)
        if flow.on_success:
            action(f"{fwhere}, on_success", flow.on_success)
        for entry in flow.entries.values():
            prompt(f"{fwhere}, entry {q(entry.id)}", entry.prompt)

    for menu in model.menus.values():
        where = f"menu {q(menu.id)}"
        for label in ("prompt", "short_prompt", "invalid_prompt", "timeout_prompt", "intro"):
            prompt(where, getattr(menu, label))
        for key, a in menu.options.items():
            kwhere = f"{where}, option {q(key)}"
            action(kwhere, a)
            if not _mentions(catalogue, model, menu, key):
                err(kwhere, f"key {key} is not mentioned in prompt {q(menu.prompt)}")
        action(f"{where}, on_max_failures", menu.on_max_failures)
        action(f"{where}, on_max_timeouts", menu.on_max_timeouts)
        if len(menu.options) > MAX_OPTIONS:
            warnings.append(f"{name}: {where}: {len(menu.options)} options; callers remember at most {MAX_OPTIONS}")

    _check_speech(model, catalogue, name, err, warnings)

    reach, depth = _reachable(model)
    for menu_id in model.menus:
        if menu_id not in reach:
            err(f"menu {q(menu_id)}", "unreachable: no key, action or setting leads to it")
    for menu_id, d in depth.items():
        if d > MAX_DEPTH:
            warnings.append(f"{name}: menu {q(menu_id)}: {d} levels below the main menu (more than {MAX_DEPTH})")
    return errors, warnings


def _mentions(catalogue, model: MenuFile, menu, key: str) -> bool:
    words = KEY_WORDS.get(key, (key,))
    texts = [catalogue.raw(menu.prompt, lang) for lang in model.languages
             if catalogue.has(menu.prompt, lang)]
    if not texts:
        return True  # the missing prompt is reported on its own
    found = [any(w.lower() in t.lower() for w in words) for t in texts]
    return any(found) if menu.bilingual else all(found)


def _targets(model: MenuFile, actions) -> list[str]:
    out = []
    for a in actions:
        if a is None:
            continue
        if a.kind in ("submenu", "run") and a.menu:
            out.append(a.menu)
        elif a.kind == "language":
            out.append(a.then)
        elif a.kind == "top":
            out.append(model.top)
        elif a.kind == "agent":
            out.append(model.agent.voicemail_menu)
        elif a.kind == "collect" and a.flow in model.flows:
            flow = model.flows[a.flow]
            out += _targets(model, [flow.on_success, flow.on_max_attempts])
    return out


def _reachable(model: MenuFile) -> tuple[set[str], dict[str, int]]:
    """Menus reachable from the start, and each one's depth below the main menu."""
    def edges(menu_id: str) -> list[str]:
        menu = model.menus.get(menu_id)
        if not menu:
            return []
        actions = list(menu.options.values()) + [menu.on_max_failures, menu.on_max_timeouts]
        if menu.global_keys:
            actions += list(model.global_keys.values())
        return [t for t in _targets(model, actions) if t in model.menus]

    seen = {model.start}
    queue = deque([model.start])
    while queue:
        for t in edges(queue.popleft()):
            if t not in seen:
                seen.add(t)
                queue.append(t)
    depth = {model.top: 0} if model.top in model.menus else {}
    queue = deque(depth)
    while queue:
        cur = queue.popleft()
        menu = model.menus[cur]
        # Depth counts only the caller's own choices, not fallbacks or global keys.
        for t in _targets(model, list(menu.options.values())):
            if t in model.menus and t not in depth:
                depth[t] = depth[cur] + 1
                queue.append(t)
    return seen, depth


SPEECH_PROMPTS = ("speech_invalid", "speech_confirm", "speech_choose_again", "speech_digits")


def _check_speech(model: MenuFile, catalogue, name: str, err, warnings: list[str]) -> None:
    """Phrases two options of a menu share (always a tie: error), phrases in a language the menu
    has no prompt for, and options of a speech menu nobody can say (warnings)."""
    from ivr.engine.speech import normalise

    def warn(where: str, message: str) -> None:
        warnings.append(f"{name}: {where}: {message}")

    uses_speech = any(m.speech for m in model.menus.values()) or any(
        e.speech for f in model.flows.values() for e in f.entries.values())
    if uses_speech:
        for prompt_id in SPEECH_PROMPTS:
            for lang in model.languages:
                if not catalogue.has(prompt_id, lang):
                    err("speech", f"prompt {q(prompt_id)} has no {lang} text in {lang}.toml")
    for key, said in model.global_phrases.items():
        for lang in said:
            if lang not in model.languages:
                warn(f"global key {q(key)}", f"phrases in {lang}, which is not in [settings] languages")
    for menu in model.menus.values():
        where = f"menu {q(menu.id)}"
        if menu.phrases and not menu.speech:
            warn(where, 'has phrases but input is not "dtmf speech": nobody can say them')
        owners: dict[tuple[str, str], str] = {}
        for key, said in menu.phrases.items():
            kwhere = f"{where}, option {q(key)}"
            for lang, phrases in said.items():
                if lang not in model.languages or not catalogue.has(menu.prompt, lang):
                    warn(kwhere, f"phrases in {lang}, a language menu {q(menu.id)} has no prompt for")
                for phrase in phrases:
                    norm = normalise(phrase)
                    other = owners.setdefault((lang, norm), key)
                    if other != key:
                        err(kwhere, f"phrase {q(phrase)} ({lang}) is also said for option {q(other)}: "
                                    "saying it is always a tie")
        if menu.speech:
            for key in menu.options:
                for lang in model.languages:
                    if lang not in menu.phrases.get(key, {}):
                        warn(f"{where}, option {q(key)}", f"no {lang} phrases in a speech menu: "
                                                          "it can only be pressed")
