"""``ivr call``, ``ivr test`` and ``ivr load``."""
from __future__ import annotations

import functools
import sys
import tempfile
import time

import click

from ivr.phone import scenario as scenarios
from ivr.phone.errors import PhoneError
from ivr.phone.keys import CallerInput
from ivr.phone.number import NumberError, number_options, number_settings
from ivr.phone.ourapp import hotline_app, hotline_number, parse_config, seeded_hotline_app, server_log
from ivr.phone.phone import Phone
from ivr.phone.settings import DIAL_OUTCOMES, QUEUE_OUTCOMES
from ivr.phone.targets import TEST_CLOCK_CONFIG, AppTarget, HttpTarget, app_phone
from ivr.phone.transcript import describe, format_call, masked


def call_options(command):
    """Options shared by every command that places calls."""
    options = [
        click.option("--url", help="call this TwiML webhook over HTTP (default: this project's hotline, in-process)"),
        click.option("--auth-token", envvar="TWILIO_AUTH_TOKEN", help="sign requests (X-Twilio-Signature) "
                     "[env TWILIO_AUTH_TOKEN]"),
        click.option("--from", "caller", help="caller number [default: +8613800138000]"),
        click.option("--to", "called", help="number called [default: +8612333]"),
        click.option("--fallback-url", help="requested when a webhook fails (with ErrorCode, ErrorUrl) "
                     "[in-process default: the hotline's /voice/fallback]"),
        click.option("--status-callback", help="sent the call's status events (CallStatus, CallDuration...) "
                     "[in-process default: the hotline's /voice/status]"),
        click.option("--dial-outcome", type=click.Choice(DIAL_OUTCOMES), default="completed", show_default=True,
                     help="what a <Dial> gets"),
        click.option("--queue-outcome", type=click.Choice(QUEUE_OUTCOMES), default="bridged", show_default=True,
                     help="what happens in an <Enqueue>"),
        click.option("--timeout", type=float, default=15.0, show_default=True, help="webhook timeout, seconds"),
        click.option("-c", "--config", "config_pairs", multiple=True, metavar="KEY=VALUE",
                     help="app setting for the in-process hotline (repeatable), e.g. -c NOW=2026-11-25T10:00"),
        click.option("-v", "--verbose", is_flag=True, help="show the webhook requests in the transcript and "
                     "the in-process hotline's log lines"),
        click.option("--server-log", type=click.Path(dir_okay=False), help="append the in-process hotline's "
                     "log lines to this file (else they are not shown)"),
        click.option("--show-secrets", is_flag=True, help="show keys typed at sensitive Gathers (masked otherwise)"),
    ]
    for option in reversed(options):
        command = option(command)
    return number_options(command)


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


def _phone_for(o: dict, config: dict | None = None):
    """The phone the call flags describe: over HTTP to the voice URL (--url or the settings
    file's voice_url), else to the in-process hotline with its own status and fallback URLs."""
    settings = _settings(o)
    url = settings.pop("url", None)
    if url:
        return Phone(url, **settings)
    app = _build_app(_config(o) if config is None else config)
    return app_phone(app, **{**hotline_number(app), **settings})


def _config(o: dict) -> dict:
    try:
        return parse_config(o["config_pairs"])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None


def _build_app(config: dict, seeded_in: str | None = None):
    try:
        return seeded_hotline_app(config, seeded_in) if seeded_in else hotline_app(config)
    except Exception as exc:  # a broken menus.toml lists its problems
        problems = getattr(exc, "problems", None)
        click.echo(f"The hotline cannot start: {exc}", err=True)
        for line in problems or []:
            click.echo(f"  {line}", err=True)
        sys.exit(2)


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


@click.command("call")
@click.argument("keys", nargs=-1)
@call_options
@click.option("--json", "as_json", is_flag=True, help="print the call as one JSON object")
@click.option("--record", type=click.Path(dir_okay=False), help="write the call's audio to this WAV file")
@click.option("--play", is_flag=True, help="hear the prompts through the speaker")
@_handle_phone_errors
def call_command(keys, as_json, record, play, **o):
    """Place one call. Each KEY answers one input point: digits with * and #, _ for silence,
    say:TEXT for speech, hangup, say+hangup:TEXT. With no KEYS on a terminal, the call is
    interactive. Exits 1 when Twilio would have reported an error."""
    with server_log(o["verbose"], o["server_log"]):
        _call(keys, as_json, record, play, o)


def _call(keys, as_json, record, play, o):
    for key in keys:
        CallerInput.parse(key)  # reject bad tokens before dialling
    verbose, show_secrets = o["verbose"], o["show_secrets"]
    phone = _phone_for(o)
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


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@call_options
@click.option("--junit", type=click.Path(dir_okay=False), help="write a JUnit XML report here")
@click.option("-k", "select", help="only scenarios whose name contains this text")
@_handle_phone_errors
def test_command(paths, junit, select, **o):
    """Run scenario files (or folders of them). In-process, each distinct [config] gets the
    hotline on a fresh temporary database with the demo accounts (and the made-up ones of
    `ivr db seed --accounts 5 --seed 1`). Exits 1 when a scenario fails."""
    loaded = scenarios.load_paths(paths)
    if select:
        loaded = [s for s in loaded if select.lower() in s.name.lower()]
    with tempfile.TemporaryDirectory(prefix="ivr-test-") as scratch:
        settings = _settings(o)
        url = settings.pop("url", None)
        if url:
            target = HttpTarget(url, **settings)
        else:
            target = AppTarget(lambda config: _build_app(config, seeded_in=scratch), _config(o),
                               number=hotline_number, **settings)
        started = time.perf_counter()
        with server_log(o["verbose"], o["server_log"]):
            results = [_run_and_report(item, target) for item in loaded]
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "skipped")}
    click.echo(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped "
               f"in {time.perf_counter() - started:.1f} s")
    if junit:
        from ivr.phone import junit as junit_xml

        junit_xml.write(results, junit)
    if not counts["passed"] and not counts["failed"]:
        why = "no scenario matched" if not results else "every scenario was skipped"
        click.echo(f"Nothing ran: {why}. Against a server, scenarios that pin NOW need one started "
                   "with IVR_TEST_CLOCK=true (development only).", err=True)
        sys.exit(1)
    sys.exit(1 if counts["failed"] else 0)


def _run_and_report(item, target):
    result = scenarios.run(item, target)
    label = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[result.status]
    click.echo(f"{label}  {item.id}" + (f"  ({result.message})" if result.status == "skipped" else ""))
    if result.status == "failed":
        click.echo("      " + result.message.replace("\n", "\n      "))
    return result


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
              "so the hotline's records complete)")
@click.option("--fallback-url", help="requested when a webhook fails")
@number_options
@_handle_phone_errors
def load_command(keys, url, calls, concurrency, duration, scenario_file, auth_token, timeout, **o):
    """Drive many simultaneous calls over HTTP; print calls/s, per-webhook latency percentiles
    and errors. Exits 1 when a call failed."""
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
    # Scenarios that pin NOW send it to a test-clock server (ivr.web.test_clock), as ivr test does.
    target = HttpTarget(url, auth_token=auth_token, timeout=timeout, pool_size=concurrency, **number) \
        if plan and any(s.config for s in plan) else None
    from ivr.cli.progress import progress

    with progress(length=calls, label="calls", file=sys.stderr) as bar:
        report = run_load(phone, calls, concurrency, keys=keys, plan=plan, max_seconds=duration, progress=bar.update,
                          phone_for=target)
    click.echo(report.table())
    sys.exit(1 if report.failed or report.errors else 0)


commands = [call_command, test_command, load_command]
