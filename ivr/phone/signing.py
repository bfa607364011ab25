"""X-Twilio-Signature for the requests the phone makes (twilio's own RequestValidator)."""
from __future__ import annotations

from twilio.request_validator import RequestValidator


def signature(auth_token: str, url: str, form: dict[str, str] | None) -> str:
    """HMAC-SHA1 over the full URL (query included) plus the sorted POST form; GETs sign the URL only."""
    return RequestValidator(auth_token).compute_signature(url, form or {})
