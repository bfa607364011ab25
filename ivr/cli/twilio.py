"""``ivr twilio setup --number +1... [--base-url URL]``: point a Twilio number at this hotline."""
from __future__ import annotations

import click


def _config() -> dict:
    """The hotline's settings (defaults < IVR_* env < TWILIO_*), without building the app."""
    from ivr.config import read_config

    return read_config()


def _message(body: str) -> str:
    import json

    try:
        return str(json.loads(body).get("message") or body)[:300]
    except (ValueError, AttributeError):
        return body[:300]


def _refused(status: int, message: str) -> str:
    hint = " (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)" if status in (401, 403) else ""
    return f"Twilio refused: HTTP {status}: {message}{hint}"


@click.group("twilio")
def twilio_group() -> None:
    """Connect a Twilio phone number to this hotline."""


@twilio_group.command("setup")
@click.option("--number", required=True, help="your Twilio number, E.164 (+14155550100)")
@click.option("--base-url", help="public URL Twilio reaches this server at, e.g. your ngrok https URL "
                                 "[default: IVR_PUBLIC_URL]")
@click.option("--dry-run", is_flag=True, help="show what would change, change nothing")
@click.option("--check/--no-check", default=True, show_default=True,
              help="afterwards, send one signed test request to <base-url>/voice/status")
@click.option("--api-base", envvar="IVR_TWILIO_API_BASE", hidden=True,
              help="send REST API calls here instead of https://api.twilio.com (a mock)")
def setup(number: str, base_url: str | None, dry_run: bool, check: bool, api_base: str | None) -> None:
    """Set the number's voice URL, fallback URL and status callback (POST) to this hotline.

    Credentials come from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.
    """
    from twilio.base.exceptions import TwilioException, TwilioRestException

    from ivr.cli.twilio_setup import SetupError, check_webhook, configure_number, make_client

    config = _config()
    base_url = base_url or config.get("PUBLIC_URL")
    try:
        client = make_client(config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN"), api_base)
        result = configure_number(client, number, base_url, dry_run=dry_run)
    except SetupError as exc:
        raise click.ClickException(str(exc)) from None
    except TwilioRestException as exc:
        raise click.ClickException(_refused(exc.status, exc.msg)) from None
    except TwilioException as exc:
        # A failed list call raises TwilioException("Unable to fetch page", response).
        response = next((a for a in exc.args if hasattr(a, "status_code")), None)
        if response is None:
            raise click.ClickException(f"could not talk to Twilio: {exc}") from None
        raise click.ClickException(_refused(response.status_code, _message(response.text))) from None
    except OSError as exc:
        raise click.ClickException(f"could not talk to Twilio: {exc}") from None
    except Exception as exc:   # requests' connection errors and the like
        raise click.ClickException(f"could not talk to Twilio: {type(exc).__name__}: {exc}") from None

    name = f' "{result.friendly_name}"' if result.friendly_name else ""
    click.echo(f"{result.number} ({result.sid}{name})")
    if not result.changes:
        click.echo("  already set up: nothing to change")
    width = max((len(c.label) for c in result.changes), default=0)
    for c in result.changes:
        click.echo(f"  {c.label + ':':<{width + 1}} {c.old or '(none)'} -> {c.new or '(none)'}")
    for warning in result.warnings:
        click.echo(f"  note: {warning}")
    if dry_run:
        click.echo(f"dry run: {len(result.changes)} setting(s) would change; nothing was changed")
        return
    if result.changes:
        click.echo(f"changed {len(result.changes)} setting(s)")

    clean_base = base_url.strip().rstrip("/")
    public = (config.get("PUBLIC_URL") or "").rstrip("/")
    if public != clean_base and not config.get("TRUST_PROXY"):
        click.echo(f"  start the server with IVR_PUBLIC_URL={clean_base} (or IVR_TRUST_PROXY=1 behind "
                   f"ngrok or a proxy), or Twilio's signatures will not match", err=True)
    if check:
        outcome = check_webhook(clean_base, config["TWILIO_AUTH_TOKEN"])
        click.echo(("check: OK: " if outcome.ok else "check: FAILED: ") + outcome.message,
                   err=not outcome.ok)
        if not outcome.ok:
            raise SystemExit(1)
    click.echo(f"now call {result.number} from your phone; each webhook logs one line on the server")


commands = [twilio_group]
