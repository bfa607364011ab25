"""A phone number's configuration, as on Twilio's number page: one ``[number]`` table.

A phone settings file (TOML, ``ivr call --settings phone.toml``) holds it::

    [number]
    voice_url = "http://127.0.0.1:5000/voice"
    voice_method = "POST"                  # GET or POST
    fallback_url = "http://127.0.0.1:5000/voice/fallback"
    fallback_method = "POST"
    status_callback = "http://127.0.0.1:5000/voice/status"
    status_callback_method = "POST"
    status_callback_events = ["completed"] # any of initiated, ringing, answered, completed
    account_sid = "AC..."                  # default: derived from `to` and the voice URL (stable)
    from = "+8613800138000"
    to = "+8612333"
    params = { CallerName = "Test" }       # extra form parameters on every webhook

    [number.from_location]                 # FromCity/CallerCity, FromState, FromZip, FromCountry
    city = "BEIJING"
    state = "BEIJING"
    zip = "100000"
    country = "CN"

    [number.to_location]                   # ToCity/CalledCity, ...
    country = "CN"

The same settings are CLI flags (``number_options``) and ``Phone(...)``/``PhoneSettings``
arguments (``url``, ``method``, ``fallback_url``, ``status_callback_events``, ``caller_location``,
``params``...). Flags given on the command line win over the file.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import click

from ivr.phone.errors import PhoneError
from ivr.phone.settings import LOCATION_FIELDS, STATUS_EVENTS

# [number] key -> PhoneSettings field
FILE_KEYS = {
    "voice_url": "url", "voice_method": "method", "fallback_url": "fallback_url",
    "fallback_method": "fallback_method", "status_callback": "status_callback",
    "status_callback_method": "status_callback_method", "status_callback_events": "status_callback_events",
    "account_sid": "account_sid", "from": "caller", "to": "called", "params": "params",
    "from_location": "caller_location", "to_location": "called_location",
}


class NumberError(PhoneError):
    """A phone settings file or number flag that cannot be used as written."""


def load_number_file(path: str | Path) -> dict:
    """The ``[number]`` table of a phone settings file as PhoneSettings keyword arguments."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise NumberError(f"{path}: {exc}") from None
    table = data.get("number")
    if not isinstance(table, dict):
        raise NumberError(f"{path}: no [number] table")
    settings = {}
    for key, value in table.items():
        if key not in FILE_KEYS:
            raise NumberError(f"{path}: [number] has no setting {key!r} (use {', '.join(FILE_KEYS)})")
        if key in ("params", "from_location", "to_location"):
            if not isinstance(value, dict):
                raise NumberError(f"{path}: [number] {key} must be a table")
            if key != "params":
                unknown = [k for k in value if k not in LOCATION_FIELDS]
                if unknown:
                    raise NumberError(f"{path}: [number.{key}] takes {', '.join(LOCATION_FIELDS)}, "
                                      f"not {', '.join(unknown)}")
            value = {str(k): str(v) for k, v in value.items()}
        elif key == "status_callback_events":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or any(e not in STATUS_EVENTS for e in value):
                raise NumberError(f"{path}: [number] status_callback_events is a list of {', '.join(STATUS_EVENTS)}")
            value = tuple(value)
        elif not isinstance(value, str):
            raise NumberError(f"{path}: [number] {key} must be a string")
        settings[FILE_KEYS[key]] = value
    return settings


def parse_params(pairs) -> dict[str, str]:
    """``--param K=V`` pairs: extra form parameters (strings, as Twilio sends them)."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise NumberError(f"--param must be KEY=VALUE, not {pair!r}")
        params[key.strip()] = value
    return params


def number_options(command):
    """The number's settings as flags (``number_settings`` reads them back)."""
    options = [
        click.option("--settings", "number_file", type=click.Path(exists=True, dir_okay=False),
                     help="phone settings file with a [number] table (flags win over it)"),
        click.option("--voice-method", type=click.Choice(("GET", "POST"), case_sensitive=False),
                     help="how the voice URL is requested [default: POST]"),
        click.option("--fallback-method", type=click.Choice(("GET", "POST"), case_sensitive=False),
                     help="how the fallback URL is requested [default: POST]"),
        click.option("--status-callback-method", type=click.Choice(("GET", "POST"), case_sensitive=False),
                     help="how the status callback is requested [default: POST]"),
        click.option("--status-callback-event", "status_callback_events", multiple=True,
                     type=click.Choice(STATUS_EVENTS), help="status callback event (repeatable) [default: completed]"),
        click.option("--account-sid", help="AccountSid sent (default: derived from --to and the voice URL, stable)"),
        click.option("--param", "param_pairs", multiple=True, metavar="K=V",
                     help="extra form parameter on every webhook (repeatable), e.g. --param FromCity=SHANGHAI"),
    ]
    for side, where in (("from", "caller"), ("to", "called")):
        for name in LOCATION_FIELDS:
            options.append(click.option(f"--{side}-{name}", f"{where}_{name}", metavar="TEXT",
                                        help=f"{side.capitalize()}{name.capitalize()} sent "
                                             f"(default for +86: see docs/phone.md)"))
    for option in reversed(options):
        command = option(command)
    return command


def number_settings(o: dict) -> dict:
    """PhoneSettings keyword arguments from the settings file and the number flags in ``o``
    (``o["url"]``, ``o["caller"]``... are the shared call flags; None means not given)."""
    settings = load_number_file(o["number_file"]) if o.get("number_file") else {}
    flags = {"method": o.get("voice_method"), "fallback_method": o.get("fallback_method"),
             "status_callback_method": o.get("status_callback_method"), "account_sid": o.get("account_sid")}
    settings.update({k: v.upper() if k.endswith("method") else v for k, v in flags.items() if v})
    if o.get("status_callback_events"):
        settings["status_callback_events"] = tuple(o["status_callback_events"])
    if o.get("param_pairs"):
        settings["params"] = {**settings.get("params", {}), **parse_params(o["param_pairs"])}
    for where in ("caller", "called"):
        given = {name: o[f"{where}_{name}"] for name in LOCATION_FIELDS if o.get(f"{where}_{name}") is not None}
        if given:
            from ivr.phone.settings import DEFAULT_CALLER_LOCATION, DEFAULT_CALLED_LOCATION

            base = settings.get(f"{where}_location") or dict(
                DEFAULT_CALLER_LOCATION if where == "caller" else DEFAULT_CALLED_LOCATION)
            settings[f"{where}_location"] = {**base, **given}
    return settings
