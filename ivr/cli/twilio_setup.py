"""Point a Twilio phone number at this hotline through Twilio's REST API (twilio's ``Client``).

``configure_number`` sets the number's voice URL, fallback URL and status callback (all POST) and
returns what changed; ``check_webhook`` then sends one signed request to the public URL the way
Twilio will, to catch a dead tunnel, a wrong auth token or a proxy that breaks signatures before a
real call does.
"""
from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

# Setting name on the IncomingPhoneNumber resource -> path on this server.
WEBHOOK_PATHS = {
    "voice_url": "/voice",
    "voice_fallback_url": "/voice/fallback",
    "status_callback": "/voice/status",
}
METHOD_FIELDS = {
    "voice_method": "POST",
    "voice_fallback_method": "POST",
    "status_callback_method": "POST",
}
LABELS = {
    "voice_url": "voice URL",
    "voice_method": "voice method",
    "voice_fallback_url": "fallback URL",
    "voice_fallback_method": "fallback method",
    "status_callback": "status callback",
    "status_callback_method": "status callback method",
    "voice_application_sid": "TwiML app",
}
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class SetupError(Exception):
    """Something the user has to fix; the message says what."""


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str

    @property
    def label(self) -> str:
        return LABELS.get(self.field, self.field)


@dataclass
class SetupResult:
    number: str
    sid: str
    friendly_name: str
    changes: list[Change]
    warnings: list[str] = field(default_factory=list)
    applied: bool = False


def normalise_number(text: str) -> str:
    """'+1 (415) 555-0100' -> '+14155550100'; anything that is not E.164 is refused."""
    number = re.sub(r"[\s().\-]", "", text or "")
    if not E164.match(number):
        raise SetupError(f"--number must be the Twilio number in E.164 form, like +14155550100, not {text!r}")
    return number


def check_base_url(base_url: str | None) -> str:
    """The public base URL Twilio will call; refuses what Twilio cannot reach."""
    if not base_url:
        raise SetupError("no public URL: pass --base-url https://<your tunnel or host> or set "
                         "IVR_PUBLIC_URL (Twilio must be able to reach this server from the internet)")
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SetupError(f"--base-url must be an http(s) URL like https://abc.ngrok.app, not {base_url!r}")
    if parts.query or parts.fragment:
        raise SetupError(f"--base-url must not carry a query or fragment: {base_url!r}")
    if parts.path.rstrip("/").endswith("/voice"):
        raise SetupError(f"--base-url is the server's base, without /voice: try "
                         f"{url[: -len('/voice')]!r}")
    host = parts.hostname
    local = host == "localhost" or host.endswith(".localhost") or host.endswith(".local")
    try:
        ip = ipaddress.ip_address(host)
        local = local or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified
    except ValueError:
        pass
    if local:
        raise SetupError(f"Twilio cannot reach {host}: start a tunnel (e.g. `ngrok http 5000`) and pass "
                         f"its https URL as --base-url")
    return url


def webhook_settings(base_url: str) -> dict[str, str]:
    """Every setting ``configure_number`` wants on the number."""
    wanted = {name: base_url + path for name, path in WEBHOOK_PATHS.items()}
    wanted.update(METHOD_FIELDS)
    return wanted


class RebasedHttpClient(TwilioHttpClient):
    """Sends what would go to https://<product>.twilio.com to another base URL instead (a local
    mock of the REST API, e.g. for tests or Twilio's OpenAPI mock server)."""

    def __init__(self, api_base: str, **kwargs):
        super().__init__(**kwargs)
        self.api_base = api_base.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname and parts.hostname.endswith(".twilio.com"):
            url = self.api_base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


def make_client(account_sid: str | None, auth_token: str | None, api_base: str | None = None) -> Client:
    if not account_sid or not auth_token:
        raise SetupError("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (Twilio Console -> Account "
                         "Info); the server needs the same TWILIO_AUTH_TOKEN to check signatures")
    http_client = RebasedHttpClient(api_base, timeout=30) if api_base else TwilioHttpClient(timeout=30)
    return Client(account_sid, auth_token, http_client=http_client)


def _find_number(client: Client, number: str):
    matches = [n for n in client.incoming_phone_numbers.list(phone_number=number, limit=20)
               if n.phone_number == number]
    if matches:
        return matches[0]
    owned = [n.phone_number for n in client.incoming_phone_numbers.list(limit=20)]
    listed = ", ".join(owned) if owned else "none"
    raise SetupError(f"{number} is not a phone number of this Twilio account (numbers in the "
                     f"account: {listed}); buy one or check TWILIO_ACCOUNT_SID")


def configure_number(client: Client, number: str, base_url: str, *, dry_run: bool = False) -> SetupResult:
    """Set the number's voice URL, fallback URL and status callback to this hotline (POST).

    Only settings that differ are sent. A TwiML App on the number would override the voice URL, so
    it is detached (and reported); a number on a SIP trunk is refused, since Twilio ignores its
    voice URL. With ``dry_run`` nothing is changed.
    """
    number = normalise_number(number)
    base_url = check_base_url(base_url)
    current = _find_number(client, number)
    if getattr(current, "trunk_sid", None):
        raise SetupError(f"{number} belongs to SIP trunk {current.trunk_sid}, so Twilio ignores its voice "
                         f"URL: remove it from the trunk in the Console first")
    wanted = webhook_settings(base_url)
    changes = [Change(name, getattr(current, name, None), value) for name, value in wanted.items()
               if (getattr(current, name, None) or "") != value]
    warnings = []
    if getattr(current, "voice_application_sid", None):
        changes.append(Change("voice_application_sid", current.voice_application_sid, ""))
        warnings.append(f"{number} was answered by TwiML App {current.voice_application_sid}, which "
                        f"overrides the voice URL: detached from it")
    result = SetupResult(number, current.sid, current.friendly_name or "", changes, warnings)
    if dry_run or not changes:
        return result
    updated = current.update(**{c.field: c.new for c in changes})
    wrong = [c.label for c in changes if (getattr(updated, c.field, None) or "") != c.new]
    if wrong:
        raise SetupError(f"Twilio accepted the update but reports different values for: {', '.join(wrong)}")
    result.applied = True
    return result


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def check_webhook(base_url: str, auth_token: str, post=None) -> CheckResult:
    """POST a signed status callback for a made-up call to ``<base_url>/voice/status``, as Twilio
    would; the hotline must answer 200 with TwiML. Harmless: an unknown CallSid changes nothing."""
    if post is None:
        import requests

        post = requests.post
    url = base_url.rstrip("/") + WEBHOOK_PATHS["status_callback"]
    form = {"CallSid": "CAsetupcheck" + uuid.uuid4().hex[:20], "CallStatus": "completed",
            "CallDuration": "0", "AccountSid": "setup-check"}
    signature = RequestValidator(auth_token).compute_signature(url, form)
    try:
        response = post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=15,
                        allow_redirects=False)
    except Exception as exc:
        return CheckResult(False, f"could not reach {url} ({type(exc).__name__}): is the server "
                                  f"running and the tunnel up?")
    status = response.status_code
    mime = response.headers.get("Content-Type", "").split(";")[0].strip()
    if status == 403:
        return CheckResult(False, f"{url} refused a correctly signed request (403): start the server "
                                  f"with this TWILIO_AUTH_TOKEN, and with IVR_PUBLIC_URL={base_url} "
                                  f"(or IVR_TRUST_PROXY=1 behind ngrok/a proxy)")
    if status != 200 or mime not in ("text/xml", "application/xml") or "<Response" not in response.text:
        return CheckResult(False, f"{url} answered {status} {mime or 'without a Content-Type'}, not "
                                  f"TwiML: is it this hotline?")
    return CheckResult(True, f"{url} answered a signed request with TwiML")
