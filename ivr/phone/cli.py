"""``ivr call``, ``ivr test`` and ``ivr load``, for any TwiML app: a WSGI app in-process
(``--app MODULE:NAME``) or a webhook over HTTP (``--url``). ``phone_commands(default_app)``
builds them with an app to call when given neither (``ivr`` passes its hotline)."""
from __future__ import annotations

import functools
import inspect
import json
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import click

from ivr.phone import scenario as scenarios
from ivr.phone.app_loader import AppLoadError
from ivr.phone.app_source import AppSource, spec_source
from ivr.phone.errors import PhoneError
from ivr.phone.keys import CallerInput
from ivr.phone.number import NumberError, number_options, number_settings
from ivr.phone.phone import Phone
from ivr.phone.settings import DIAL_OUTCOMES, QUEUE_OUTCOMES
from ivr.phone.targets import TEST_CLOCK_CONFIG, AppTarget, HttpTarget, app_phone
from ivr.phone.transcript import describe, format_call, masked


def call_options(command, default_app: AppSource | None = None):
    """Options shared by every command that places calls. ``default_app`` only shapes the help."""
    in_process = f"{default_app.name}, in-process" if default_app else "none: give --app or --url"
    own = f"[in-process default: {default_app.name}'s own]" if default_app and default_app.number else ""
    options = [
        click.option("--app", "app_spec", metavar="MODULE:NAME",
                     help="call this WSGI app in-process: MODULE:app, MODULE:create_app, MODULE:create_app() "
                     f"or MODULE, as flask --app takes it [default: {in_process}]"),
        click.option("--url", help="call this TwiML webhook over HTTP; with --app (or a path like /answer), "
                     "the entry webhook of the in-process app [default: /voice]"),
        click.option("--auth-token", envvar="TWILIO_AUTH_TOKEN", help="sign requests (X-Twilio-Signature) "
                     "[env TWILIO_AUTH_TOKEN]"),
        click.option("--from", "caller", help="caller number [default: +8613800138000]"),
        click.option("--to", "called", help="number called [default: +8612333]"),
        click.option("--fallback-url", help="requested when a webhook fails (with ErrorCode, ErrorUrl); "
                     f"a path is on the in-process app {own}"),
        click.option("--status-callback", help="sent the call's status events (CallStatus, CallDuration...); "
                     f"a path is on the in-process app {own}"),
        click.option("--dial-outcome", type=click.Choice(DIAL_OUTCOMES), default="completed", show_default=True,
                     help="what a <Dial> gets"),
        click.option("--queue-outcome", type=click.Choice(QUEUE_OUTCOMES), default="bridged", show_default=True,
                     help="what happens in an <Enqueue>"),
        click.option("--timeout", type=float, default=15.0, show_default=True, help="webhook timeout, seconds"),
        click.option("-c", "--config", "config_pairs", multiple=True, metavar="KEY=VALUE",
                     help="a setting of the default in-process app (repeatable), e.g. -c NOW=2026-11-25T10:00"),
        click.option("-v", "--verbose", is_flag=True, help="show the webhook requests in the transcript and "
                     "the in-process app's log lines"),
        click.option("--server-log", type=click.Path(dir_okay=False), help="append the in-process app's "
                     "log lines to this file"),
        click.option("--show-secrets", is_flag=True, help="show keys typed at sensitive Gathers (masked otherwise)"),
    ]
    for option in reversed(options):
        command = option(command)
    return number_options(command)


def parse_config(pairs) -> dict:
    """``KEY=VALUE`` pairs from the command line; values are JSON when they parse as JSON."""
    config = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"config must be KEY=VALUE, not {pair!r}")
        try:
            config[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            config[key.strip()] = value
    return config


def _settings(o: dict) -> dict:
    """PhoneSettings arguments: the settings file's [number], then the flags given."""
    try:
        settings = number_settings(o)
    except NumberError as exc:
        raise click.BadParameter(str(exc)) from None
    settings.update({k: o[k] for k in ("auth_token", "caller", "called", "fallback_url", "status_callback",
                                        "dial_outcome", "queue_outcome", "timeout") if o.get(k) is not None})
    if o.get("url"):
        settings["url"] = o["url"]
    return settings


def _target(o: dict, default_app: AppSource | None) -> tuple[AppSource | None, str | None]:
    """(the app to call in-process, or None for HTTP; the entry URL or path). --app always
    means in-process; else an absolute voice URL (--url or the settings file's) means HTTP;
    else the default app, if there is one."""
    url = _settings(o).get("url")
    if o.get("app_spec"):
        return spec_source(o["app_spec"]), url or "/voice"
    if url and "://" in url:
        return None, url
    if default_app is None:
        raise click.UsageError("nothing to call: give --app MODULE:NAME (a WSGI app, in-process) "
                               "or --url URL (a webhook, over HTTP)")
    return default_app, url or "/voice"


def _config(o: dict, source: AppSource | None) -> dict:
    try:
        config = parse_config(o["config_pairs"])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    if config and source is not None and not source.configurable:
        raise click.BadParameter(f"{source.name} is built by its own factory, which takes no settings",
                                 param_hint="--config")
    return config


def _phone_for(o: dict, source: AppSource | None, entry: str):
    """The phone the call flags describe: over HTTP to the voice URL, or to the in-process app
    with its number's own settings (e.g. its status callback) under the flags."""
    settings = _settings(o)
    settings.pop("url", None)
    if source is None:
        return Phone(entry, **settings)
    app = _build(source, _config(o, source))
    defaults = source.number(app) if source.number else {}
    return app_phone(app, entry, **{**defaults, **settings})


def _build(source: AppSource, config: dict, scratch: str | None = None):
    try:
        return source.fresh(config, Path(scratch)) if scratch else source.build(config)
    except AppLoadError as exc:
        raise click.BadParameter(str(exc), param_hint="--app") from None
    except Exception as exc:  # the app's own start-up failure (a broken menus.toml lists its problems)
        problems = getattr(exc, "problems", None)
        click.echo(f"{source.name[:1].upper()}{source.name[1:]} cannot start: {exc}", err=True)
        for line in problems or []:
            click.echo(f"  {line}", err=True)
        sys.exit(2)


def _logs(source: AppSource | None, o: dict):
    """Where the in-process app's log lines go; entered before the app is built."""
    return source.logs(o["verbose"], o["server_log"]) if source else nullcontext()


def _on_a_terminal() -> bool:
    return sys.stdin.isatty()


def _handle_phone_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except PhoneError as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


def phone_commands(default_app: AppSource | None = None, progress=None) -> list[click.Command]:
    """``ivr call``, ``ivr test`` and ``ivr load``. ``default_app``: what ``call`` and ``test``
    call in-process when given neither --app nor --url (None: one of them is required).
    ``progress``: a context manager like ``click.progressbar`` for ``load``'s progress."""

    @click.command("call")
    @click.argument("keys", nargs=-1)
    @_call_options(default_app)
    @click.option("--json", "as_json", is_flag=True, help="print the call as one JSON object")
    @click.option("--record", type=click.Path(dir_okay=False), help="write the call's audio to this WAV file")
    @click.option("--play", is_flag=True, help="hear the prompts through the speaker")
    @_handle_phone_errors
    def call_command(keys, as_json, record, play, **o):
        """Place one call. Each KEY answers one input point: digits with * and #, _ for silence,
        say:TEXT for speech, hangup, say+hangup:TEXT. With no KEYS on a terminal, the call is
        interactive. Exits 1 when Twilio would have reported an error."""
        for key in keys:
            CallerInput.parse(key)  # reject bad tokens before dialling (and before building the app)
        source, entry = _target(o, default_app)
        with _logs(source, o):
            _call(keys, as_json, record, play, o, _phone_for(o, source, entry))

    @click.command("test")
    @click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
    @_call_options(default_app)
    @click.option("--junit", type=click.Path(dir_okay=False), help="write a JUnit XML report here")
    @click.option("-k", "select", help="only scenarios whose name contains this text")
    @_handle_phone_errors
    def test_command(paths, junit, select, **o):
        """Run scenario files (or folders of them) against an app in-process (--app) or a
        webhook (--url). In-process, each distinct [config] gets an app of its own; an --app's
        factory takes no settings, so its scenarios with a [config] are skipped. Exits 1 when a
        scenario fails."""
        _test(paths, junit, select, o, default_app)

    if default_app is not None:
        test_command.help = inspect.cleandoc(test_command.help) + f"\n\nWithout --app or --url: {default_app.name}" + \
            (f", {default_app.about}." if default_app.about else ".")

    @click.command("load")
    @click.argument("keys", nargs=-1)
    @click.option("--url", required=True, help="the TwiML webhook to load (HTTP)")
    @click.option("--calls", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
    @click.option("--concurrency", type=click.IntRange(1, 1000), default=10, show_default=True)
    @click.option("--duration", type=float, help="stop placing calls after this many seconds")
    @click.option("--scenario", "scenario_file", type=click.Path(exists=True, dir_okay=False),
                  help="calls follow this file's scenarios in turn (else they answer with KEYS)")
    @click.option("--auth-token", envvar="TWILIO_AUTH_TOKEN", help="sign requests [env TWILIO_AUTH_TOKEN]")
    @click.option("--timeout", type=float, default=15.0, show_default=True)
    @click.option("--status-callback", help="the number's status callback (e.g. http://127.0.0.1:5000/voice/status, "
                  "so the app's call records complete)")
    @click.option("--fallback-url", help="requested when a webhook fails")
    @number_options
    @_handle_phone_errors
    def load_command(keys, url, calls, concurrency, duration, scenario_file, auth_token, timeout, **o):
        """Drive many simultaneous calls over HTTP; print calls/s, per-webhook latency percentiles
        and errors. Exits 1 when a call failed."""
        _load(keys, url, calls, concurrency, duration, scenario_file, auth_token, timeout, o,
              progress or click.progressbar)

    return [call_command, test_command, load_command]


def _call_options(default_app):
    return lambda command: call_options(command, default_app)


def _call(keys, as_json, record, play, o, phone):
    verbose, show_secrets = o["verbose"], o["show_secrets"]
    speaker = None
    if play:
        from ivr.phone.speaker import Speaker, find_player

        command = find_player()
        if command is None:
            click.echo("No audio player found (aplay, paplay, afplay or ffplay): --play ignored.", err=True)
        else:
            speaker = Speaker(command)
    interactive = not keys and not as_json and _on_a_terminal()
    shown = (lambda e: e) if show_secrets else masked
    printer = (lambda e: click.echo("{:8.1f}s  {:<14} {}".format(e["at"], *describe(shown(e))))) \
        if interactive else None
    call = phone.dial(record=record, on_event=printer, on_sound=speaker)
    if interactive:
        click.echo("Keys: digits 0-9 * #, _ for silence, say:TEXT, hangup, say+hangup:TEXT (Ctrl-D hangs up).",
                   err=True)
        while call.advance() is not None:
            # Keys for a sensitive Gather (the app marked it) are not echoed, unless --show-secrets.
            secret = getattr(getattr(call.ctx.position, "doc", None), "sensitive", False) and not show_secrets
            try:
                token = click.prompt("keys", prompt_suffix="> ", default="_", show_default=False, hide_input=secret)
                call.press(token)
            except PhoneError as exc:
                click.echo(str(exc), err=True)
            except (EOFError, click.Abort):
                call.hangup()
        click.echo(f"Ended: {call.status}, by {call.ended_by}, after {call.duration:.1f} s")
    else:
        call.run(keys)
        if as_json:
            click.echo(call.to_json(show_secrets, indent=2))
        else:
            click.echo(format_call(call, verbose=verbose, show_secrets=show_secrets))
            if call.unused_keys:
                click.echo(f"(unused keys: {' '.join(call.unused_keys)})", err=True)
    for problem in call.ctx.voice.problems:
        click.echo(f"warning: {problem}", err=True)
    if record:
        click.echo(f"Recording written to {record}", err=True)
    sys.exit(1 if call.errors else 0)


def _test(paths, junit, select, o, default_app):
    loaded = scenarios.load_paths(paths)
    if select:
        loaded = [s for s in loaded if select.lower() in s.name.lower()]
    source, entry = _target(o, default_app)
    with tempfile.TemporaryDirectory(prefix="ivr-test-") as scratch:
        settings = _settings(o)
        settings.pop("url", None)
        if source is None:
            target = HttpTarget(entry, **settings)
        else:
            refused = None if source.configurable else f"{source.name} is built by its own factory, which takes none"
            target = AppTarget(lambda config: _build(source, config, scratch), _config(o, source),
                               number=source.number, url=entry, config_refused=refused, **settings)
        started = time.perf_counter()
        with _logs(source, o):
            results = [_run_and_report(item, target) for item in loaded]
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "skipped")}
    click.echo(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped "
               f"in {time.perf_counter() - started:.1f} s")
    if junit:
        from ivr.phone import junit as junit_xml

        junit_xml.write(results, junit)
    if not counts["passed"] and not counts["failed"]:
        why = "no scenario matched" if not results else "every scenario was skipped"
        hint = (" Against a server, scenarios that pin NOW need one started with IVR_TEST_CLOCK=true "
                "(development only).") if source is None else ""
        click.echo(f"Nothing ran: {why}.{hint}", err=True)
        sys.exit(1)
    sys.exit(1 if counts["failed"] else 0)


def _run_and_report(item, target):
    result = scenarios.run(item, target)
    label = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[result.status]
    click.echo(f"{label}  {item.id}" + (f"  ({result.message})" if result.status == "skipped" else ""))
    if result.status == "failed":
        click.echo("      " + result.message.replace("\n", "\n      "))
    return result


def _load(keys, url, calls, concurrency, duration, scenario_file, auth_token, timeout, o, progress):
    from ivr.phone.load import run_load

    for key in keys:
        CallerInput.parse(key)
    plan = scenarios.load_file(scenario_file) if scenario_file else None
    broken = [s.problem for s in plan or () if s.problem]
    if broken:
        raise click.ClickException("the scenario file has problems:\n  " + "\n  ".join(broken))
    if plan and any(set(s.config) - TEST_CLOCK_CONFIG for s in plan):
        click.echo("note: scenario [config] tables other than NOW do not apply to a running server", err=True)
    try:
        number = number_settings(o)
    except NumberError as exc:
        raise click.BadParameter(str(exc)) from None
    number.pop("url", None)
    number.update({k: o[k] for k in ("status_callback", "fallback_url") if o.get(k)})
    phone = Phone(url, auth_token=auth_token, timeout=timeout, pool_size=concurrency, **number)
    # Scenarios that pin NOW send it to a test-clock server (X-IVR-Test-Now), as ivr test does.
    target = HttpTarget(url, auth_token=auth_token, timeout=timeout, pool_size=concurrency, **number) \
        if plan and any(s.config for s in plan) else None
    with progress(length=calls, label="calls", file=sys.stderr) as bar:
        report = run_load(phone, calls, concurrency, keys=keys, plan=plan, max_seconds=duration, progress=bar.update,
                          phone_for=target)
    click.echo(report.table())
    sys.exit(1 if report.failed or report.errors else 0)


# The commands with no default app: every call names --app or --url (another project's CLI can
# embed these; this project's ``ivr`` builds them with its hotline as the default).
call_command, test_command, load_command = phone_commands()
