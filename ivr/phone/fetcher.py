"""Twilio's HTTP behaviour over any transport: signing, redirects, content types, limits, errors."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping
from urllib.parse import urldefrag, urlencode, urljoin, urlsplit

from ivr.phone import errors
from ivr.phone.signing import signature
from ivr.phone.transport import Transport

TWIML_TYPES = frozenset({"text/xml", "application/xml", "text/html"})
PLAIN_TYPES = frozenset({"text/plain"})
# The MIME types <Play> accepts (reference §2.3); audio documents are played, then Twilio hangs up.
AUDIO_TYPES = frozenset({"audio/mpeg", "audio/mp3", "audio/wav", "audio/wave", "audio/x-wav", "audio/aiff",
                         "audio/x-aifc", "audio/x-aiff", "audio/x-gsm", "audio/gsm", "audio/ulaw", "audio/basic"})
TWIML_LIMIT = 64 * 1024
AUDIO_LIMIT = 64 * 1024 * 1024  # not a Twilio figure: a cap so a bad URL cannot fill memory
FOLLOWED_REDIRECTS = frozenset({301, 302, 303, 307})
USER_AGENT = "TwilioProxy/1.1"
# The test clock of a development server (the hotline's ivr.web.test_clock speaks it; any app may):
# the phone sends the scenario's pinned time, the server answers with the acknowledgement.
TEST_NOW_HEADER = "X-IVR-Test-Now"
TEST_CLOCK_ACK = "X-IVR-Test-Clock"


@dataclass
class Fetched:
    url: str  # where the answer came from, after HTTP redirects
    mime: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.mime in TWIML_TYPES:
            return "twiml"
        if self.mime in PLAIN_TYPES:
            return "text"
        return "audio"


def mime_of(headers: Mapping[str, str]) -> str:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


def with_query(url: str, params: Mapping[str, str]) -> str:
    """GET webhooks carry the parameters in the query string, after any already there."""
    if not params:
        return url
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


class Fetcher:
    """One per call. ``on_request`` receives a dict per HTTP exchange (for transcripts and load stats)."""

    def __init__(self, transport: Transport, auth_token: str | None = None, timeout: float = 15.0,
                 max_redirects: int = 10, on_request: Callable[[dict], None] | None = None,
                 headers: Mapping[str, str] | None = None):
        self.transport = transport
        self.extra_headers = dict(headers or {})
        self.auth_token = auth_token
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.on_request = on_request

    def fetch(self, url: str, method: str, params: Mapping[str, str], purpose: str = "twiml") -> Fetched:
        """``purpose``: "twiml" (a document), "audio" (a <Play> file) or "callback" (answer ignored)."""
        url = urldefrag(url)[0]
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise errors.FetchError(errors.INVALID_URL, "not an absolute http(s) URL", url)
        method = method.upper()
        seen: set[tuple[str, str]] = set()
        form: dict[str, str] | None = dict(params)
        for _hop in range(self.max_redirects + 1):
            if (method, url) in seen:
                raise errors.FetchError(errors.HTTP_TOO_MANY_REDIRECTS, "redirect loop", url)
            seen.add((method, url))
            raw = self._exchange(method, url, form, purpose)
            if raw.status in FOLLOWED_REDIRECTS:
                location = raw.headers.get("Location")
                if not location:
                    raise errors.FetchError(errors.HTTP_BAD_REDIRECT, f"HTTP {raw.status} without Location", url)
                # 303, and 301/302 after a POST, continue as a GET of the new location, as every
                # mainstream HTTP client does; the call's parameters go along in its query string
                # (as on any GET webhook), so the app still knows the CallSid: Twilio's own samples
                # (call-forwarding-flask) answer a Gather's POST with a 302 and read CallerState
                # after it. 307 repeats the request as it was (docs/phone.md, "Redirects").
                if raw.status == 303 or (raw.status in (301, 302) and method == "POST"):
                    method = "GET"
                url = urldefrag(urljoin(url, location))[0]
                continue
            if 300 <= raw.status < 400:
                raise errors.FetchError(errors.HTTP_BAD_REDIRECT, f"HTTP {raw.status} is not a redirect Twilio follows", url)
            return self._check(raw, url, purpose)
        raise errors.FetchError(errors.HTTP_TOO_MANY_REDIRECTS, f"more than {self.max_redirects} redirects", url)

    def _exchange(self, method: str, url: str, form: dict[str, str] | None, purpose: str):
        target = with_query(url, form) if method == "GET" else url
        body = None if method == "GET" else form
        headers = {**self.extra_headers, "User-Agent": USER_AGENT}
        if self.auth_token:
            headers["X-Twilio-Signature"] = signature(self.auth_token, target, body)
        limit = AUDIO_LIMIT if purpose == "audio" else TWIML_LIMIT
        record = {"method": method, "url": url, "purpose": purpose}
        started = time.perf_counter()
        try:
            raw = self.transport.request(method, target, body, headers, self.timeout, limit)
        except errors.TransportError as exc:
            record.update(status=None, ms=round((time.perf_counter() - started) * 1000, 3), code=exc.code)
            self._log(record)
            raise errors.FetchError(exc.code, exc.message, url) from None
        record.update(status=raw.status, ms=round((time.perf_counter() - started) * 1000, 3))
        if TEST_NOW_HEADER in self.extra_headers:  # did the server take the test clock?
            record["test_clock"] = bool(raw.headers.get(TEST_CLOCK_ACK))
        self._log(record)
        return raw

    def _check(self, raw, url: str, purpose: str) -> Fetched:
        if not 200 <= raw.status < 300:
            raise errors.FetchError(errors.HTTP_RETRIEVAL_FAILURE, f"HTTP {raw.status}", url)
        mime = mime_of(raw.headers)
        fetched = Fetched(url, mime, raw.body, raw.headers)
        if purpose == "callback":
            return fetched
        if raw.too_big:
            if purpose == "audio":
                raise errors.FetchError(errors.HTTP_RETRIEVAL_FAILURE, "audio file too large", url)
            raise errors.FetchError(errors.RESPONSE_TOO_BIG, f"response body over {TWIML_LIMIT // 1024} KB", url)
        allowed = AUDIO_TYPES if purpose == "audio" else TWIML_TYPES | PLAIN_TYPES | AUDIO_TYPES
        if mime not in allowed:
            shown = mime or "no Content-Type"
            raise errors.FetchError(errors.INVALID_CONTENT_TYPE, f"content type {shown} is not accepted here", url)
        return fetched

    def _log(self, record: dict) -> None:
        if self.on_request:
            self.on_request(record)
