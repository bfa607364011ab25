"""Configuration: defaults, then IVR_* environment variables, then an explicit mapping.

Values from the environment are parsed as JSON where they look like JSON (Flask's
``from_prefixed_env``), so ``IVR_LOCK_HOURS=12`` is an int and ``IVR_TRUST_PROXY=true`` a bool.
JSON alone would leave ``IVR_SOFTPHONE=0`` an int and ``IVR_SOFTPHONE=no`` a string, so on/off
settings go through ``parse_bool`` (true/false, 1/0, yes/no, on/off; anything else is an error).
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    "SECRET_KEY": "dev-only-not-secret",
    # None means: SQLite file ivr.sqlite3 in the instance folder.
    "DATABASE_URL": None,
    # false: psycopg prepares no statement on the server (behind pgbouncer in transaction mode).
    "DATABASE_PREPARED_STATEMENTS": True,
    # false: every webhook through Flask's request machinery (ivr.web.webhook_lane; benchmarks).
    "WEBHOOK_LANE": True,
    # PostgreSQL: a call-state save commits without waiting for the WAL flush (ivr.hotline.calls.CallStore).
    "CALL_STATE_ASYNC_COMMIT": True,
    "MENUS_FILE": str(PROJECT_ROOT / "menus.toml"),
    "PROMPTS_DIR": str(PROJECT_ROOT / "prompts"),
    # None means: <instance>/audio
    "AUDIO_DIR": None,
    # say | play | auto: how prompts reach the caller (see ivr.web.twiml).
    "VOICE_MODE": "auto",
    # Twilio <Say> voices per language; Twilio's basic man/woman voices speak no Mandarin.
    "SAY_VOICES": {"zh-CN": "Polly.Zhiyu", "en-US": "Polly.Joanna"},
    # Base URL Twilio reaches us at (e.g. https://abc.ngrok.app); used for absolute URLs and signatures.
    "PUBLIC_URL": None,
    "TRUST_PROXY": False,
    "LOG_FORMAT": "text",
    "ADMIN_TOKEN": None,
    # Accounts: lockout after wrong passwords, initial password policy (id_last6 or a fixed value).
    "LOCK_HOURS": 24,
    "MAX_PASSWORD_ATTEMPTS": 3,
    "INITIAL_PASSWORD": "id_last6",
    # ISO date-time that stands in for "now" (demos and tests of business hours).
    "NOW": None,
    # Development only: requests may set "now" with an X-IVR-Test-Now header (ivr.web.test_clock),
    # so `ivr test --url` can run scenarios that pin the time. Refused with TWILIO_AUTH_TOKEN set.
    "TEST_CLOCK": False,
    "TWILIO_AUTH_TOKEN": None,
    "TWILIO_ACCOUNT_SID": None,
    # TTS: local text-to-speech (pyttsx3 on espeak-ng) and prompt audio (see docs/audio.md).
    # espeak-ng voice and rate (words per minute) per language.
    "TTS_VOICES": {"zh-CN": "cmn", "en-US": "en-us"},
    "TTS_RATES": {"zh-CN": 220, "en-US": 160},  # ~4.5 syllables/s Mandarin, ~160 wpm English
    # Seconds one render may take (engine start-up included) before the engine is killed.
    "TTS_TIMEOUT": 20,
    # Dynamic renders (balances, dates) kept in the audio cache; the oldest go first.
    "TTS_DYNAMIC_CACHE_MAX": 2000,
    # Cache-Control max-age (seconds) of /audio/<lang>/<prompt>.wav.
    "AUDIO_MAX_AGE": 3600,
    # Seconds a prompt's audio lookup (recording? current render?) is reused before the files are
    # looked at again; 0 looks on every webhook (ivr.web.audio).
    "AUDIO_RECHECK_SECONDS": 1.0,
    # security
    # Per calling number: this many wrong passwords (any ID numbers, any calls) within the window
    # refuse further logins from that number until the window ends (issue 7).
    "CALLER_MAX_FAILURES": 10,
    "CALLER_WINDOW_MINUTES": 60,
    # Largest webhook request body read (Twilio's are a few kB); larger ones get 413 -> apology TwiML.
    "WEBHOOK_MAX_BYTES": 256 * 1024,
    # The browser softphone (/phone and its API, ivr.web.softphone). IVR_SOFTPHONE=false leaves it
    # out of the app (404, and the module is never imported), e.g. on a server with real accounts.
    # Unset: on in development, off in production mode (TWILIO_AUTH_TOKEN set); switched on
    # explicitly in production it needs IVR_ADMIN_TOKEN and answers only its holder (issue 16).
    "SOFTPHONE": None,
    # Softphone limits per client address (issue 16), kept in the database (several workers).
    "SOFTPHONE_DIALS_PER_MINUTE": 10,
    "SOFTPHONE_KEYS_PER_MINUTE": 120,
    "SOFTPHONE_MAX_CALLS": 3,
    # Largest request body on any route but /voice (the softphone's JSON is a few bytes).
    "MAX_BODY_BYTES": 64 * 1024,
    # Seconds a call's URL of a dynamic read-out (ivr.web.audio) stays valid; it dies with the call.
    "DYNAMIC_AUDIO_SECONDS": 4 * 3600,
    # Password hashing (werkzeug method) for every stored hash, the bulk seed's included, and for
    # the dummy check of an unknown ID number: one cost for all, so timing tells nothing (issue 16).
    "PASSWORD_HASH": "scrypt",
    # Default region for caller numbers without a country code (E.164 normalisation).
    "CALLER_REGION": "CN",
    # Global failed-login budget across all callers: past LOGIN_BUDGET wrong passwords within
    # LOGIN_BUDGET_WINDOW_MINUTES, every login waits LOGIN_BUDGET_DELAY_SECONDS first (slows an
    # attack that rotates calling numbers, stops nobody).
    "LOGIN_BUDGET": 200,
    "LOGIN_BUDGET_WINDOW_MINUTES": 10,
    "LOGIN_BUDGET_DELAY_SECONDS": 2.0,
    # Dashboard/admin: shortest accepted IVR_ADMIN_TOKEN; failed sign-ins per client allowed
    # before each further try waits (doubling from ADMIN_BACKOFF_SECONDS, at most an hour).
    "ADMIN_TOKEN_MIN_LENGTH": 16,
    "ADMIN_FREE_FAILURES": 5,
    "ADMIN_BACKOFF_SECONDS": 2,
    # Speech menus: a match whose Twilio Confidence is below this is confirmed first ("did you mean").
    "SPEECH_CONFIDENCE": 0.5,
    # Database connection pool per process (ivr.hotline.db; None: SQLAlchemy's default). A webhook
    # holds one connection while it runs; pre-ping (PostgreSQL) checks each before use.
    "DB_POOL_SIZE": None,
    "DB_MAX_OVERFLOW": None,
    "DB_POOL_TIMEOUT": None,
    "DB_POOL_RECYCLE": None,
    "DB_PRE_PING": None,
    # Menu versions (ivr.hotline.flow_versions): how often (seconds) a process looks whether another one
    # made a new menu version current; 0 looks on every request.
    "RELOAD_CHECK_SECONDS": 2,
}

# On/off settings: whatever the environment or an override gives is turned into a bool.
BOOLEAN_SETTINGS = ("SOFTPHONE", "TEST_CLOCK")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class ConfigError(ValueError):
    """A setting with a value it cannot take: the message names the variable and what it accepts
    (the CLI prints it without a traceback)."""


def parse_bool(name: str, value: object) -> bool:
    """``True``/``False``, ``1``/``0`` or (any case) true/false, 1/0, yes/no, on/off; else ValueError."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ConfigError(f"IVR_{name} must be true or false (also 1/0, yes/no, on/off), not {value!r}")


def check_numbers(config) -> None:
    """Every setting whose default is a number holds a number (IVR_LOCK_HOURS=abc is an error
    naming the variable, not a TypeError deep in the code)."""
    for name, default in DEFAULTS.items():
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            continue
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "a whole number" if isinstance(default, int) else "a number"
            raise ConfigError(f"IVR_{name} must be {kind} (default {default}), not {value!r}")


def check_admin_token(config) -> None:
    """IVR_ADMIN_TOKEN, when set, is at least IVR_ADMIN_TOKEN_MIN_LENGTH characters; and the
    softphone switched on in production (TWILIO_AUTH_TOKEN set) needs it (issue 16)."""
    token = config.get("ADMIN_TOKEN")
    minimum = int(config.get("ADMIN_TOKEN_MIN_LENGTH", 16))
    if token not in (None, "") and len(str(token)) < minimum:
        raise ConfigError(
            f"IVR_ADMIN_TOKEN is {len(str(token))} characters; it must be at least {minimum} "
            f"(IVR_ADMIN_TOKEN_MIN_LENGTH), e.g. IVR_ADMIN_TOKEN=$(python3 -c 'import secrets; "
            f"print(secrets.token_urlsafe(24))')")
    if config.get("SOFTPHONE") and config.get("TWILIO_AUTH_TOKEN") and token in (None, ""):
        raise ConfigError("IVR_SOFTPHONE=true with TWILIO_AUTH_TOKEN set (production mode) needs "
                          "IVR_ADMIN_TOKEN: the softphone then answers only the admin token's holder")


def check_pool(config) -> None:
    """IVR_DB_POOL_SIZE etc.: whole numbers (seconds for the timeout) when set; pre-ping on/off."""
    for name, least in (("DB_POOL_SIZE", 1), ("DB_MAX_OVERFLOW", -1), ("DB_POOL_TIMEOUT", 0), ("DB_POOL_RECYCLE", -1)):
        value = config.get(name)
        if value in (None, ""):
            config[name] = None
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < least:
            raise ConfigError(f"IVR_{name} must be a number of at least {least}, not {value!r}")
    if config.get("DB_PRE_PING") not in (None, ""):
        config["DB_PRE_PING"] = parse_bool("DB_PRE_PING", config["DB_PRE_PING"])
    else:
        config["DB_PRE_PING"] = None


def say_languages(voices) -> dict[str, str]:
    """The <Say> language for each prompt language of ``SAY_VOICES`` (Polly.Zhiyu: cmn-CN);
    ValueError naming IVR_SAY_VOICES when a pair is not one Twilio documents (ivr.tts.say_voices)."""
    from ivr.tts.say_voices import say_language

    if not isinstance(voices, dict) or not all(isinstance(v, str) for v in voices.values()):
        raise ConfigError(f'IVR_SAY_VOICES must be a JSON object like {{"zh-CN": "Polly.Zhiyu", '
                         f'"en-US": "Polly.Joanna"}}, not {voices!r}')
    out = {}
    for lang, voice in voices.items():
        try:
            out[lang] = say_language(voice, lang)
        except ValueError as exc:
            raise ConfigError(f"IVR_SAY_VOICES[{lang!r}] = {voice!r}: {exc} (see the documented pairs in "
                             "ivr/tts/say_voices.py)") from None
    return out


def default_instance_path() -> str:
    """The instance folder Flask gives ``create_app``'s app (the project's ``instance/`` in a
    checkout), so commands that need no app read the same files."""
    from flask.sansio.scaffold import find_package

    prefix, package_path = find_package("ivr.app")
    if prefix is None:
        return os.path.join(package_path, "instance")
    return os.path.join(prefix, "var", "ivr.app-instance")


def read_config(overrides: dict | None = None, instance_path: str | None = None) -> dict:
    """The settings every part reads, the app and each command alike: defaults < IVR_* env vars
    (< TWILIO_* for Twilio's own) < ``overrides``; checked, with the derived values filled in.
    Raises ConfigError naming the variable for a value it cannot take."""
    from flask import Config

    instance_path = instance_path or default_instance_path()
    config = Config(instance_path)
    config.from_mapping(DEFAULTS)
    config.from_prefixed_env("IVR")
    for name in ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID"):
        if os.environ.get(name):
            config[name] = os.environ[name]
    if overrides:
        config.from_mapping(overrides)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "ivr.sqlite3")
    if not config["AUDIO_DIR"]:
        config["AUDIO_DIR"] = os.path.join(instance_path, "audio")
    explicit_softphone = config["SOFTPHONE"] not in (None, "")
    for name in BOOLEAN_SETTINGS:
        config[name] = (parse_bool(name, config[name]) if config[name] not in (None, "")
                        else not config.get("TWILIO_AUTH_TOKEN"))
    config["SOFTPHONE_EXPLICIT"] = explicit_softphone
    check_pool(config)
    config["DATABASE_PREPARED_STATEMENTS"] = parse_bool("DATABASE_PREPARED_STATEMENTS",
                                                        config["DATABASE_PREPARED_STATEMENTS"])
    config["WEBHOOK_LANE"] = parse_bool("WEBHOOK_LANE", config["WEBHOOK_LANE"])
    config["CALL_STATE_ASYNC_COMMIT"] = parse_bool("CALL_STATE_ASYNC_COMMIT", config["CALL_STATE_ASYNC_COMMIT"])
    config["SAY_LANGUAGES"] = say_languages(config["SAY_VOICES"])
    check_numbers(config)
    check_admin_token(config)
    mode = config["VOICE_MODE"]
    if mode not in ("say", "play", "auto"):
        raise ConfigError(f"IVR_VOICE_MODE must be say, play or auto, not {mode!r}")
    config["INSTANCE_PATH"] = instance_path
    return dict(config)


def load_config(app, overrides: dict | None) -> None:
    """Fill ``app.config`` with :func:`read_config` for the app's instance folder."""
    app.config.update(read_config(overrides, app.instance_path))
