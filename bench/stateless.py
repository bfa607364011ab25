"""The stateless yardstick: the hotline's menus as a typical Twilio tutorial app would write them.

Flask + ``twilio.twiml.voice_response.VoiceResponse`` built per request, no database, no session,
no state: where the caller is rides in the action URL's query (``/voice/input?menu=apply&lang=en-US``),
as stateless Twilio apps do. The menu texts are the hotline's own (menus.toml and prompts/*.toml,
read once at import, as a developer would hard-code them), and each answer is shaped like the
hotline's: ``<Gather>`` with the menu's prompt in ``<Say>``, then a ``<Redirect>`` for silence; the
menus the hotline also listens in (``input = "dtmf speech"``) carry the same speech hints.

What it does not do, and the hotline does: remember anything. So no login (the account services
answer that they are not available here), no counting of wrong keys or silences, no loop guard,
no call log, no menu versions, no signature check, no audio (the hotline's benchmarks answer
with ``<Play>`` of rendered prompts; a ``<Say>`` of the same menu is about as long). That is the point of the comparison
(docs/benchmarks.md, issue 17): how much the hotline's durable call state costs next to an app
that has none.

Served like the ceiling: ``bench/serve.py stateless`` (``ivr.web.server``, same server, same workers).
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, request
from twilio.twiml.voice_response import VoiceResponse

from ceiling import NoDatabase   # ivr.web.server disposes an app's database around forking; none here

ROOT = Path(__file__).resolve().parent.parent
FLOW = tomllib.loads((ROOT / "menus.toml").read_text("utf-8"))
TEXTS = {lang: tomllib.loads((ROOT / "prompts" / f"{lang}.toml").read_text("utf-8"))
         for lang in FLOW["settings"]["languages"]}
# The hotline's default <Say> voices (IVR_SAY_VOICES) and the languages Twilio documents for them.
VOICES = {"zh-CN": ("Polly.Zhiyu", "cmn-CN"), "en-US": ("Polly.Joanna", "en-US")}
SPEECH_LANGUAGES = {"zh-CN": "cmn-Hans-CN", "en-US": "en-US"}
TOP = FLOW["settings"]["top"]
AGENT_NUMBER = FLOW["agent"]["number"]
GLOBAL_KEYS = FLOW["global_keys"]

# menu -> key -> what it does: ("menu", name) | ("say", prompt id) | ("login",) | ("agent",) |
# ("back",) | ("repeat",); plus each menu's prompts and, for speech menus, phrase -> key per language.
MENUS: dict[str, dict] = {}
for _name, _menu in FLOW["menus"].items():
    if _name == "language" or "options" not in _menu:
        continue
    keys: dict[str, tuple] = {}
    for _key, _opt in _menu["options"].items():
        action = _opt["action"]
        keys[_key] = {"submenu": ("menu", _opt.get("menu")), "play": ("say", _opt.get("prompt")),
                      "collect": ("login",), "agent": ("agent",), "top": ("menu", TOP)}.get(action, ("login",))
    if _menu.get("global_keys", True):
        for _key, _opt in GLOBAL_KEYS.items():
            keys.setdefault(_key, (_opt["action"],))
    phrases: dict[str, dict[str, str]] = {}
    if _menu.get("input") == "dtmf speech":
        for _lang in TEXTS:
            phrases[_lang] = {}
            for _key, _opt in {**_menu["options"], **GLOBAL_KEYS}.items():
                for _phrase in _opt.get("say", {}).get(_lang, []):
                    phrases[_lang].setdefault(_phrase.lower(), _key)
    MENUS[_name] = {"keys": keys, "prompt": _menu["prompt"], "short": _menu.get("short_prompt", _menu["prompt"]),
                    "timeout": _menu.get("timeout", FLOW["defaults"]["timeout"]), "phrases": phrases}
# Where * goes back to: the menu whose option opens this one (the main menu for the top ones).
PARENT = {sub: name for name, m in MENUS.items() for kind, *rest in m["keys"].values()
          if kind == "menu" and rest and rest[0] != TOP for sub in rest}
HINTS = {name: {lang: ", ".join(p) for lang, p in m["phrases"].items()} for name, m in MENUS.items()}

app = Flask(__name__)


def _url(path: str, menu: str, lang: str, **extra: str) -> str:
    return f"{path}?{urlencode({'menu': menu, 'lang': lang, **extra})}"


def _say(verb, lang: str, prompt: str) -> None:
    voice, language = VOICES[lang]
    verb.say(TEXTS[lang][prompt], voice=voice, language=language)


def _menu(lang: str, name: str, *, short: bool = False, before: tuple[str, ...] = ()) -> str:
    """A menu's answer: <Gather> (keys, and speech where the hotline listens too) around its prompt,
    then a <Redirect> to the timeout route."""
    menu = MENUS[name]
    r = VoiceResponse()
    options = {"action": _url("/voice/input", name, lang), "method": "POST", "num_digits": 1,
               "timeout": menu["timeout"], "finish_on_key": "", "action_on_empty_result": False}
    if menu["phrases"]:
        options.update(input="dtmf speech", hints=HINTS[name][lang], language=SPEECH_LANGUAGES[lang],
                       speech_timeout="auto")
    gather = r.gather(**options)
    for prompt in before:
        _say(gather, lang, prompt)
    _say(gather, lang, menu["short"] if short else menu["prompt"])
    r.redirect(_url("/voice/timeout", name, lang), method="POST")
    return str(r)


def _xml(twiml: str) -> Response:
    return Response(twiml, mimetype="text/xml")


@app.post("/voice")
def answer():
    r = VoiceResponse()
    gather = r.gather(action="/voice/language", method="POST", num_digits=1, timeout=4, finish_on_key="",
                      action_on_empty_result=False)
    for prompt in ("welcome", "choose_language"):
        for lang in TEXTS:
            _say(gather, lang, prompt)
    r.redirect("/voice/language", method="POST")
    return _xml(str(r))


@app.post("/voice/language")
def language():
    lang = "en-US" if request.values.get("Digits") == "2" else FLOW["settings"]["default_language"]
    return _xml(_menu(lang, TOP))


@app.post("/voice/input")
def choose():
    lang = request.args.get("lang", FLOW["settings"]["default_language"])
    name = request.args.get("menu", TOP)
    if lang not in TEXTS or name not in MENUS:
        lang, name = FLOW["settings"]["default_language"], TOP
    digits = request.values.get("Digits", "")
    speech = request.values.get("SpeechResult")
    if not digits and speech:
        phrases = MENUS[name]["phrases"].get(lang, {})
        heard = speech.lower()
        found = sorted((p for p in phrases if p in heard), key=len, reverse=True)
        digits = phrases[found[0]] if found else ""
    what = MENUS[name]["keys"].get(digits)
    if what is None:
        return _xml(_menu(lang, name, short=True, before=("invalid_key",)))
    kind = what[0]
    if kind == "menu":
        return _xml(_menu(lang, what[1]))
    if kind == "say":
        return _xml(_menu(lang, name, short=True, before=(what[1],)))
    if kind == "back":
        return _xml(_menu(lang, PARENT.get(name, TOP), short=True))
    if kind == "repeat":
        return _xml(_menu(lang, name))
    if kind == "agent":
        r = VoiceResponse()
        _say(r, lang, "agent_connecting")
        r.dial(AGENT_NUMBER, timeout=FLOW["agent"]["dial_timeout"])
        return _xml(str(r))
    # The account services need to know who the caller is: nothing a stateless app can keep.
    r = VoiceResponse()
    _say(r, lang, "app_error")
    r.hangup()
    return _xml(str(r))


@app.post("/voice/timeout")
def silence():
    lang = request.args.get("lang", FLOW["settings"]["default_language"])
    name = request.args.get("menu", TOP)
    if lang not in TEXTS or name not in MENUS:
        lang, name = FLOW["settings"]["default_language"], TOP
    return _xml(_menu(lang, name, short=True, before=("no_input",)))

app.extensions["ivr_db"] = NoDatabase()
