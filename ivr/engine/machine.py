"""The engine: (menu model, call state, caller input) -> Reply.

Counters are explicit, as in FreeSWITCH's switch_ivr_menu.c: an invalid key counts a failure, a
silence a timeout; a matched key resets both; reaching the limit runs the menu's on_max action.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ivr.engine import speech
from ivr.engine.flows import Ask, Finish, FlowContext, FlowHandler, Operation, Result, Retry
from ivr.engine.hours import is_open
from ivr.engine.model import KEYS, Action, Entry, Menu, MenuFile
from ivr.engine.state import CallState
from ivr.engine.steps import Dial, Enqueue, Gather, Hangup, Record, Reply, Speak

DIAL_OK = {"completed", "answered", "bridged"}
DEFAULT_SPEECH_CONFIDENCE = 0.5   # below it a speech match is confirmed first (IVR_SPEECH_CONFIDENCE)
# Google's class token for digit strings, which Twilio's hints attribute passes on.
DIGIT_HINTS = ("$OOV_CLASS_DIGIT_SEQUENCE",)


@dataclass
class CallEnv:
    """Per-webhook surroundings the web layer passes in."""
    now: dt.datetime
    services: Any = None
    caller: str | None = None   # the calling number, for per-caller limits (never logged)
    hours_text: Any = None   # callable(weekly hours, language) -> words for the closed prompt


class Engine:
    def __init__(self, model: MenuFile, catalogue, flows: dict[str, FlowHandler] | None = None,
                 ops: dict[str, Operation] | None = None,
                 speech_confidence: float = DEFAULT_SPEECH_CONFIDENCE):
        self.model = model
        self.speech_confidence = speech_confidence
        self.catalogue = catalogue
        self.flows = flows or {}
        self.ops = ops or {}

    # ---- speech
    def say(self, prompt_id: str, language: str, **values: object) -> Speak:
        text = self.catalogue.text(prompt_id, language, **values)
        return Speak(prompt_id, text, language, dynamic=bool(values))

    def _say_menu(self, menu: Menu, prompt_id: str, state: CallState) -> list[Speak]:
        langs = self.model.languages if menu.bilingual else (state.language,)
        return [self.say(prompt_id, lang) for lang in langs]

    # ---- call lifecycle
    def new_call(self, call_sid: str, *, at_top: bool = False) -> CallState:
        state = CallState(call_sid=call_sid, language=self.model.default_language, menu="")
        state.enter(self.model.top if at_top else self.model.start)
        return state

    def start(self, state: CallState, env: CallEnv) -> Reply:
        state.steps += 1
        return self._menu(state, self.model.menus[state.menu])

    def on_digits(self, state: CallState, digits: str, env: CallEnv) -> Reply:
        guard = self._guard(state)
        if guard:
            return guard
        if state.awaiting == "entry" and state.flow:
            return self._entry_input(state, digits, env)
        menu = self.model.menus[state.menu]
        digits = digits or ""
        if state.confirm is not None and digits in (speech.CONFIRM_KEY, speech.REJECT_KEY):
            state.log_keys(digits)
            return self._confirmed(state, menu, digits == speech.CONFIRM_KEY, env)
        state.confirm = None   # any other key is a fresh choice in the menu
        if len(digits) == 1 and digits in KEYS:
            state.log_keys(digits)
            return self._choose(state, menu, digits, env)
        state.log_keys("?")
        return self._choose(state, menu, None, env)

    def _choose(self, state: CallState, menu: Menu, key: str | None, env: CallEnv) -> Reply:
        action = menu.options.get(key) if key else None
        if action is None and key and menu.global_keys:
            action = self.model.global_keys.get(key)
        if action is None:
            state.tally(menu.id, "invalid")
            return self._invalid(state, menu, env)
        state.failures = state.timeouts = 0
        state.tally(menu.id, "transfer" if action.kind == "agent" else "success")
        return self.run(state, action, env)

    # ---- speech (Twilio's SpeechResult and Confidence)
    def on_speech(self, state: CallState, said: str, confidence: float | None, env: CallEnv) -> Reply:
        guard = self._guard(state)
        if guard:
            return guard
        said = str(said or "")[:speech.MAX_UTTERANCE]
        if state.awaiting == "entry" and state.flow:
            return self._entry_speech(state, said, confidence, env)
        menu = self.model.menus[state.menu]
        if state.awaiting != "menu" or not (menu.speech or state.confirm is not None):
            # Speech where only keys are taken (Twilio would not send it): a wrong key.
            self._hear(state, menu, said, "not_accepted", confidence)
            state.log_keys("?")
            state.tally(menu.id, "invalid")
            return self._invalid(state, menu, env)
        if state.confirm is not None:
            answer = speech.yes_or_no(said, state.language)
            self._hear(state, menu, said, {True: "yes", False: "no", None: "unclear"}[answer], confidence)
            return self._confirmed(state, menu, answer is True, env)
        found = speech.match(said, self._choices(menu, state.language))
        self._hear(state, menu, said, found.key or found.reason, confidence)
        if found.key is None:
            state.tally(menu.id, "speech_nomatch")
            state.tally(menu.id, "invalid")
            return self._invalid(state, menu, env, spoken=True)
        if confidence is not None and confidence < self.speech_confidence:
            state.confirm = {"key": found.key}
            state.tally(menu.id, "speech_confirm")
            choice = self._label(menu, found.key, state.language) or found.phrase
            ask = self.say("speech_confirm", state.language, choice=choice)
            gather = Gather(timeout=menu.timeout, num_digits=1, finish_on_key="", input="dtmf speech",
                            language=state.language,
                            hints=speech.YES.get(state.language, ()) + speech.NO.get(state.language, ()))
            return Reply([ask], gather, "speech_confirm", menu.id)
        state.tally(menu.id, "speech_match")
        return self._choose(state, menu, found.key, env)

    def _confirmed(self, state: CallState, menu: Menu, yes: bool, env: CallEnv) -> Reply:
        key = (state.confirm or {}).get("key")
        state.confirm = None
        if yes and key:
            state.tally(menu.id, "speech_match")
            return self._choose(state, menu, key, env)
        prefix = [self.say("speech_choose_again", state.language)]
        return self._menu(state, menu, prefix, "speech_rejected")

    def _choices(self, menu: Menu, language: str) -> dict[str, tuple[str, ...]]:
        """Key -> what may be said for it in ``language``: the menu's options, then global keys."""
        out = {k: p[language] for k, p in menu.phrases.items() if language in p and k in menu.options}
        if menu.global_keys:
            for key, p in self.model.global_phrases.items():
                if key not in menu.options and language in p:
                    out[key] = p[language]
        return out

    def _label(self, menu: Menu, key: str, language: str) -> str:
        said = self._choices(menu, language).get(key)
        return said[0] if said else ""

    def _hear(self, state: CallState, menu: Menu, said: str, result: str, confidence: float | None,
              sensitive: bool = False) -> None:
        sensitive = sensitive or menu.sensitive
        state.log_speech({"menu": menu.id, "said": speech.mask(said) if sensitive else said[:80],
                          "result": result,
                          "confidence": None if confidence is None else round(confidence, 2)})

    def _entry_speech(self, state: CallState, said: str, confidence: float | None, env: CallEnv) -> Reply:
        entry = self._entry(state)
        menu = self.model.menus[state.menu]
        digits = speech.spoken_digits(said, allow_x=entry.star_as_x) if entry.speech else None
        back = self.model.global_phrases.get("*", {}).get(state.language)
        if digits is None and back and speech.match(said, {"*": back}).key == "*":
            self._hear(state, menu, said, "*", confidence, sensitive=entry.sensitive)
            return self._entry_input(state, "*", env)   # "返回" leaves the entry, as * does
        # A sensitive entry keeps only dots: never the words, never the digits.
        self._hear(state, menu, digits or said, "digits" if digits else "nothing", confidence,
                   sensitive=entry.sensitive)
        if digits is None:
            state.tally(menu.id, "speech_nomatch")
            return self._apply(state, Retry([self.say("speech_digits", state.language)]), env, [])
        state.tally(menu.id, "speech_match")
        return self._entry_input(state, digits, env)

    def on_timeout(self, state: CallState, env: CallEnv) -> Reply:
        guard = self._guard(state)
        if guard:
            return guard
        if state.awaiting == "entry" and state.flow:
            return self._entry_timeout(state, env)
        menu = self.model.menus[state.menu]
        state.confirm = None
        if state.awaiting == "record":
            # Twilio falls through a <Record> that heard nothing: offer the message menu again.
            state.awaiting = "menu"
            return self._menu(state, menu, [self.say(menu.timeout_prompt, state.language)], "timeout")
        state.timeouts += 1
        state.log_keys("_")
        state.tally(menu.id, "timeout")
        if state.timeouts >= menu.max_timeouts:
            return self.run(state, menu.on_max_timeouts, env, outcome="max_timeouts", reason="timeout")
        prefix = self._say_menu(menu, menu.timeout_prompt, state)
        return self._menu(state, menu, prefix, "timeout")

    def on_dial_result(self, state: CallState, status: str, env: CallEnv) -> Reply:
        guard = self._guard(state)
        if guard:
            return guard
        if status in DIAL_OK:
            return self._hangup(state, [], "agent")
        menu = self.model.menus[state.menu]
        prefix = [self.say(self.model.agent.unavailable_prompt, state.language)]
        return self._menu(state, menu, prefix, "agent_unavailable")

    def on_recording(self, state: CallState, duration: int, env: CallEnv) -> Reply:
        guard = self._guard(state)
        if guard:
            return guard
        if state.awaiting != "record" or duration <= 0:
            return self.on_timeout(state, env) if state.awaiting == "record" else \
                self._menu(state, self.model.menus[state.menu], [], "menu")
        speech = [self.say(self.model.agent.recorded_prompt, state.language)]
        return self._hangup(state, speech, "voicemail")

    def apology(self, language: str | None) -> Reply:
        """What a caller hears when something broke: an apology, then the end of the call.
        ``None`` (the call's language cannot be known, e.g. its state is unreadable): the apology
        in every language, the default first, so the caller hears their own."""
        if language is None:
            langs = [self.model.default_language] + [x for x in self.model.languages
                                                     if x != self.model.default_language]
            return Reply([self.say(self.model.error_prompt, x) for x in langs], Hangup(), "error")
        lang = language if language in self.model.languages else self.model.default_language
        return Reply([self.say(self.model.error_prompt, lang)], Hangup(), "error")

    def hold(self, language: str) -> list[Speak]:
        return [self.say(self.model.agent.hold_prompt, language)]

    # ---- actions: one method per kind of Action, looked up in ACTIONS (kind -> method name)
    ACTIONS = {
        "submenu": "_do_submenu", "back": "_do_back", "top": "_do_top", "repeat": "_do_repeat",
        "play": "_do_play", "language": "_do_language", "collect": "_do_collect", "run": "_do_run",
        "agent": "_do_agent", "record": "_do_record", "hangup": "_do_hangup",
    }

    def run(self, state: CallState, action: Action, env: CallEnv, prefix: list[Speak] | None = None,
            outcome: str = "menu", reason: str = "completed") -> Reply:
        """Carry out ``action``: the method ACTIONS names for its kind gets (state, action, env,
        prefix: a fresh list of what to say first, outcome, reason)."""
        method = self.ACTIONS.get(action.kind)
        if method is None:
            raise ValueError(f"unknown action {action.kind!r}")
        return getattr(self, method)(state, action, env, list(prefix or []), outcome, reason)

    def _do_submenu(self, state, action, env, prefix, outcome, reason) -> Reply:
        state.stack.append(state.menu)
        state.enter(action.menu)
        return self._menu(state, self.model.menus[action.menu], prefix, outcome)

    def _do_back(self, state, action, env, prefix, outcome, reason) -> Reply:
        if state.stack:
            state.enter(state.stack.pop())
        return self._menu(state, self.model.menus[state.menu], prefix, outcome)

    def _do_top(self, state, action, env, prefix, outcome, reason) -> Reply:
        state.stack.clear()
        state.enter(self.model.top)
        return self._menu(state, self.model.menus[self.model.top], prefix, outcome)

    def _do_repeat(self, state, action, env, prefix, outcome, reason) -> Reply:
        return self._menu(state, self.model.menus[state.menu], prefix, outcome, full=True)

    def _do_play(self, state, action, env, prefix, outcome, reason) -> Reply:
        prefix.append(self.say(action.prompt, state.language))
        return self._menu(state, self.model.menus[state.menu], prefix, "play")

    def _do_language(self, state, action, env, prefix, outcome, reason) -> Reply:
        state.language = action.lang
        state.stack.clear()
        state.enter(action.then)
        return self._menu(state, self.model.menus[action.then], prefix, outcome)

    def _do_collect(self, state, action, env, prefix, outcome, reason) -> Reply:
        state.flow = {"id": action.flow, "entry": None, "attempts": 0, "timeouts": 0}
        ctx = FlowContext(self, state, env, action.flow)
        return self._apply(state, self.flows[action.flow].begin(ctx), env, prefix)

    def _do_run(self, state, action, env, prefix, outcome, reason) -> Reply:
        ctx = FlowContext(self, state, env, state.flow["id"] if state.flow else None)
        return self._apply(state, self.ops[action.op](ctx, action), env, prefix)

    def _do_agent(self, state, action, env, prefix, outcome, reason) -> Reply:
        return self._agent(state, env, prefix)

    def _do_record(self, state, action, env, prefix, outcome, reason) -> Reply:
        state.awaiting = "record"
        prefix.append(self.say(self.model.agent.record_prompt, state.language))
        return Reply(prefix, Record(self.model.agent.voicemail_max_length), "voicemail", state.menu)

    def _do_hangup(self, state, action, env, prefix, outcome, reason) -> Reply:
        prefix.append(self.say(action.prompt or self.model.goodbye_prompt, state.language))
        return self._hangup(state, prefix, reason, outcome)

    # ---- helpers
    def _menu(self, state: CallState, menu: Menu, prefix: list[Speak] | None = None,
              outcome: str = "menu", full: bool = False) -> Reply:
        first_pass = state.visits == 0 and state.path.count(menu.id) <= 1
        speech = list(prefix or [])
        if menu.intro and first_pass:
            speech += self._say_menu(menu, menu.intro, state)
        prompt_id = menu.prompt if (full or first_pass) else menu.short_prompt
        speech += self._say_menu(menu, prompt_id, state)
        state.visits += 1
        state.awaiting = "menu"
        gather = Gather(timeout=menu.timeout, num_digits=1, finish_on_key="")
        if menu.speech:
            hints = tuple(p for said in self._choices(menu, state.language).values() for p in said)
            gather = Gather(timeout=menu.timeout, num_digits=1, finish_on_key="", input="dtmf speech",
                            language=state.language, hints=hints)
        return Reply(speech, gather, outcome, menu.id)

    def _invalid(self, state: CallState, menu: Menu, env: CallEnv, spoken: bool = False) -> Reply:
        state.failures += 1
        if state.failures >= menu.max_failures:
            return self.run(state, menu.on_max_failures, env, outcome="max_failures")
        if spoken:   # say what can be said: the first phrase of each option
            choices = [p[0] for k, p in self._choices(menu, state.language).items() if k in menu.options]
            joiner = "、" if state.language.startswith("zh") else ", "
            prefix = [self.say("speech_invalid", state.language, choices=joiner.join(choices))]
        else:
            prefix = self._say_menu(menu, menu.invalid_prompt, state)
        return self._menu(state, menu, prefix, "invalid")

    def _hangup(self, state: CallState, speech: list[Speak], reason: str, outcome: str = "hangup") -> Reply:
        state.awaiting = "ended"
        state.outcome = state.outcome if state.outcome in ("agent",) and reason == "completed" else reason
        return Reply(speech, Hangup(), outcome, state.menu)

    def _guard(self, state: CallState) -> Reply | None:
        state.steps += 1
        if state.awaiting == "ended":
            return Reply([], Hangup(), "ended", state.menu)
        if state.steps > self.model.max_steps:
            return self._hangup(state, [self.say(self.model.loop_prompt, state.language)],
                                "loop_guard", "loop_guard")
        return None

    def _agent(self, state: CallState, env: CallEnv, prefix: list[Speak]) -> Reply:
        agent = self.model.agent
        if is_open(agent.hours, env.now):
            prefix.append(self.say(agent.connecting_prompt, state.language))
            state.outcome = "agent"
            if agent.mode == "enqueue":
                state.awaiting = "queue"
                return Reply(prefix, Enqueue(agent.queue), "transfer", state.menu)
            state.awaiting = "dial"
            return Reply(prefix, Dial(agent.number, agent.dial_timeout), "transfer", state.menu)
        hours = env.hours_text(agent.hours.weekly, state.language) if env.hours_text else ""
        prefix.append(self.say(agent.closed_prompt, state.language, hours=hours))
        state.stack.append(state.menu)
        state.enter(agent.voicemail_menu)
        return self._menu(state, self.model.menus[agent.voicemail_menu], prefix, "closed")

    # ---- flows
    def _entry(self, state: CallState) -> Entry:
        return self.model.flows[state.flow["id"]].entries[state.flow["entry"]]

    def _ask(self, state: CallState, entry: Entry, speech: list[Speak]) -> Reply:
        state.awaiting = "entry"
        speech = speech + [self.say(entry.prompt, state.language)]
        gather = Gather(timeout=entry.timeout, num_digits=None, finish_on_key=entry.finish_on_key,
                        sensitive=entry.sensitive)
        if entry.speech:
            gather = Gather(timeout=entry.timeout, num_digits=None, finish_on_key=entry.finish_on_key,
                            sensitive=entry.sensitive, input="dtmf speech", language=state.language,
                            hints=DIGIT_HINTS)
        return Reply(speech, gather, "entry", state.menu, {"entry": entry.id})

    def _apply(self, state: CallState, result: Result, env: CallEnv, prefix: list[Speak]) -> Reply:
        flow = self.model.flows[state.flow["id"]] if state.flow else None
        if isinstance(result, Ask):
            if state.flow is None:
                raise RuntimeError("Ask outside a flow")
            if state.flow["entry"] != result.entry:
                state.flow.update(entry=result.entry, attempts=0, timeouts=0)
            return self._ask(state, flow.entries[result.entry], prefix + result.speech)
        if isinstance(result, Retry):
            state.flow["attempts"] += 1
            if state.flow["attempts"] >= flow.max_attempts:
                speech = prefix + result.speech + [self.say(self.model.attempts_prompt, state.language)]
                state.flow = None
                return self.run(state, flow.on_max_attempts, env, speech, "max_attempts", "failed_entry")
            if result.entry:
                state.flow["entry"] = result.entry
            return self._ask(state, self._entry(state), prefix + result.speech)
        if isinstance(result, Finish):
            state.flow = None
            if result.action is None:
                return self._menu(state, self.model.menus[state.menu], prefix + result.speech, result.outcome)
            return self.run(state, result.action, env, prefix + result.speech, result.outcome)
        raise TypeError(f"a flow returned {result!r}")

    def _entry_input(self, state: CallState, digits: str, env: CallEnv) -> Reply:
        entry = self._entry(state)
        digits = (digits or "").strip()
        if digits == "*":
            state.log_keys("*")
            state.flow = None   # * on its own leaves the entry, like "back" everywhere else
            return self._menu(state, self.model.menus[state.menu], [], "cancel")
        if not digits:
            return self._entry_timeout(state, env)
        state.log_keys("•" * min(len(digits), 40) if entry.sensitive else digits)
        value, problem = normalise_entry(entry, digits)
        if problem:
            prompt_id, values = problem
            return self._apply(state, Retry([self.say(prompt_id, state.language, **values)]), env, [])
        ctx = FlowContext(self, state, env, state.flow["id"])
        return self._apply(state, self.flows[state.flow["id"]].on_entry(ctx, entry.id, value), env, [])

    def _entry_timeout(self, state: CallState, env: CallEnv) -> Reply:
        flow = self.model.flows[state.flow["id"]]
        menu = self.model.menus[state.menu]
        state.flow["timeouts"] += 1
        state.log_keys("_")
        speech = [self.say(menu.timeout_prompt, state.language)]
        if state.flow["timeouts"] >= flow.max_attempts:
            state.flow = None
            return self.run(state, flow.on_max_attempts, env, speech, "max_timeouts", "timeout")
        return self._ask(state, self._entry(state), speech)


def normalise_entry(entry: Entry, digits: str) -> tuple[str | None, tuple[str, dict] | None]:
    """Apply the entry's rules; returns (value, None) or (None, (prompt id, values))."""
    if entry.finish_on_key and digits.endswith(entry.finish_on_key):
        digits = digits[: -len(entry.finish_on_key)]
    if entry.star_as_x and digits.endswith("*"):
        digits = digits[:-1] + "X"
    body = digits[:-1] if entry.star_as_x and digits.endswith("X") else digits
    if "*" in body and entry.star_as_x:
        return None, ("entry_x_last", {})
    if not body.isdigit() or not body.isascii():
        return None, ("entry_not_digits", {})
    if len(digits) < entry.min_digits or len(digits) > entry.max_digits:
        expected = entry.min_digits if entry.min_digits == entry.max_digits else \
            f"{entry.min_digits}-{entry.max_digits}"
        return None, ("entry_wrong_length", {"count": len(digits), "expected": expected})
    return digits, None
