"""How the phone reaches a TwiML app: in-process through WSGI, or over HTTP.

Both transports make exactly one HTTP exchange per call to ``request`` (redirects, signatures,
content types and limits are the fetcher's job, so both behave alike) and keep cookies for the
lifetime of the transport object, which the phone creates per call (Twilio keeps cookies within
a call only).
"""
from __future__ import annotations

import functools
import io
import sys
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Protocol
from urllib.parse import quote_plus, unquote, urlencode, urlsplit

import requests
from werkzeug.wsgi import get_current_url
from werkzeug.test import Client

from ivr.phone import errors


@dataclass
class RawResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes
    too_big: bool = False  # the body exceeded the limit and was cut


class Transport(Protocol):
    def request(self, method: str, url: str, form: dict[str, str] | None, headers: dict[str, str],
                timeout: float, limit: int | None) -> RawResponse: ...

    def close(self) -> None: ...


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class WsgiTransport:
    """Calls a WSGI app in-process (werkzeug's test Client, which keeps cookies).

    Only URLs on ``base_url``'s origin reach the app: Twilio could not fetch anything else from a
    local app either, and an offline run must not touch the network. The app runs in this thread,
    so a slow answer is measured and discarded after the fact (Twilio would have hung up on it).
    """

    def __init__(self, app: Callable, base_url: str = "http://localhost"):
        self.client = Client(app)
        self.origin = origin(base_url)

    def request(self, method, url, form, headers, timeout, limit):
        if origin(url) != self.origin:
            raise errors.TransportError(errors.HTTP_BAD_HOST, f"{origin(url)} is not served in-process "
                                        f"(only {self.origin} is)")
        started = time.monotonic()
        # The environ is built here and run through the Client only for its cookie jar: werkzeug's
        # EnvironBuilder and TestResponse cost five times the request itself (docs/benchmarks.md).
        environ = _environ(method, url, form, headers)
        if self.client._cookies:
            app_iter, status, response_headers = self.client.run_wsgi_app(environ, buffered=True)
            try:
                body = b"".join(app_iter)
            finally:
                if hasattr(app_iter, "close"):
                    app_iter.close()
            pairs = response_headers.items()
        else:   # no cookie yet (a Twilio app rarely sets one): skip the jar's URL rebuilding
            environ.pop("HTTP_COOKIE", None)   # what the empty jar does
            body, status, pairs = _run_app(self.client.application, environ)
            set_cookies = [value for name, value in pairs if name.lower() == "set-cookie"]
            if set_cookies:
                where = urlsplit(get_current_url(environ))
                self.client._update_cookies_from_response(where.hostname or "localhost", where.path, set_cookies)
        response_headers = _Headers(pairs)
        if time.monotonic() - started > timeout:
            raise errors.TransportError(errors.HTTP_CONNECTION_FAILURE, f"no answer within {timeout:g} s")
        too_big = limit is not None and len(body) > limit
        return RawResponse(int(status.split(None, 1)[0]), response_headers,
                           body[: limit + 1] if too_big else body, too_big)

    def close(self) -> None:
        pass


def _run_app(app: Callable, environ: dict) -> tuple[bytes, str, list]:
    """(body, status, header pairs) of one WSGI call, its answer read to the end and closed (PEP
    3333: ``write()`` output first; ``start_response`` may come as late as the first chunk).
    werkzeug's ``run_wsgi_app`` does the same with an environ copy, a wrapped iterator and a
    ``Headers`` object on top, a tenth of the phone's own work per request (issue 17)."""
    started: list = []
    written: list[bytes] = []

    def start_response(status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if started:   # too late to change the status: re-raise, as PEP 3333 asks
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        started[:] = (status, headers)
        return written.append

    result = app(environ, start_response)
    try:
        chunks = list(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return b"".join(written + chunks), started[0], list(started[1])


class _Headers(dict):
    """A response's headers for ``get`` by any spelling of a name (the first of a repeated one, as
    werkzeug's ``Headers.get``), as requests' headers answer for the HTTP transport."""

    def __init__(self, pairs):
        super().__init__()
        for name, value in pairs:
            self.setdefault(name.lower(), value)

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name):
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name) -> bool:
        return dict.__contains__(self, name.lower())


def _latin1(text: str) -> str:
    """A URL part as WSGI carries it: its UTF-8 bytes as a latin-1 str (PEP 3333)."""
    return text.encode("utf-8").decode("latin-1")


_QUOTED: dict[str, str] = {}
_QUOTED_PAIRS: dict[tuple, str] = {}


def _urlencode(form: dict) -> str:
    """``urlencode(form)``, each text quoted once per process: a call's form repeats the same
    dozen names and values in every request (quoting was a tenth of a local call, issue 17)."""
    out = []
    for pair in form.items():
        try:
            quoted = _QUOTED_PAIRS.get(pair)
        except TypeError:   # an unhashable value (a list): urlencode's business
            return urlencode(form)
        if quoted is None:
            name, value = pair
            if type(name) is not str or type(value) is not str:
                return urlencode(form)
            if len(_QUOTED_PAIRS) >= 4096:
                _QUOTED_PAIRS.clear()
            quoted = _QUOTED_PAIRS[pair] = f"{_quoted(name)}={_quoted(value)}"
        out.append(quoted)
    return "&".join(out)


def _quoted(text: str) -> str:
    quoted = _QUOTED.get(text)
    if quoted is None:
        if len(_QUOTED) >= 4096:
            _QUOTED.clear()
        quoted = _QUOTED[text] = quote_plus(text)
    return quoted


@functools.lru_cache(maxsize=256)
def _url_environ(url: str) -> tuple:
    """The environ entries a URL decides (a call requests the same few URLs again and again)."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    return tuple({
        "SCRIPT_NAME": "", "PATH_INFO": _latin1(unquote(parts.path or "/")),
        "QUERY_STRING": _latin1(parts.query), "REQUEST_URI": _latin1(parts.path + ("?" + parts.query if parts.query else "")),
        "SERVER_NAME": parts.hostname or "localhost", "SERVER_PORT": str(parts.port or (443 if https else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": parts.netloc,
        "wsgi.version": (1, 0), "wsgi.url_scheme": parts.scheme or "http",
    }.items())


def _environ(method: str, url: str, form: dict[str, str] | None, headers: dict[str, str]) -> dict:
    """The WSGI environ of one request as a server would make it: a form goes url-encoded in the body."""
    data = _urlencode(form).encode() if form is not None else b""
    environ = dict(_url_environ(url))
    environ.update({
        "REQUEST_METHOD": method, "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    })
    if form is not None:
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        environ["CONTENT_LENGTH"] = str(len(data))
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if form is None:
                environ[key] = value
        else:
            environ["HTTP_" + key] = value
    return environ


class HttpTransport:
    """Real HTTP with requests. ``adapter`` lets many calls share one connection pool (load runs)."""

    CHUNK = 16384

    def __init__(self, adapter: requests.adapters.HTTPAdapter | None = None):
        self.session = requests.Session()
        self.session.trust_env = False  # Twilio does not go through the tester's proxy settings
        self.shared_pool = adapter is not None
        if adapter is not None:
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)

    def request(self, method, url, form, headers, timeout, limit):
        started = time.monotonic()
        try:
            response = self.session.request(method, url, data=form, headers=headers, allow_redirects=False,
                                            stream=True, timeout=(min(10.0, timeout), timeout))
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema) as exc:
            raise errors.TransportError(errors.INVALID_URL, f"invalid URL: {exc}") from None
        except requests.exceptions.Timeout:
            raise errors.TransportError(errors.HTTP_CONNECTION_FAILURE, f"no answer within {timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            if "NameResolution" in repr(exc) or "Name or service not known" in str(exc):
                raise errors.TransportError(errors.HTTP_BAD_HOST, f"cannot resolve host: {exc}") from None
            raise errors.TransportError(errors.HTTP_CONNECTION_FAILURE, f"connection failed: {exc}") from None
        try:
            body = bytearray()
            too_big = False
            for chunk in response.iter_content(self.CHUNK):
                body += chunk
                if time.monotonic() - started > timeout:
                    raise errors.TransportError(errors.HTTP_CONNECTION_FAILURE, f"no answer within {timeout:g} s")
                if limit is not None and len(body) > limit:
                    too_big = True
                    break
        except requests.exceptions.RequestException as exc:
            raise errors.TransportError(errors.HTTP_CONNECTION_FAILURE, f"reading the answer failed: {exc}") from None
        finally:
            response.close()
        if time.monotonic() - started > timeout:
            raise errors.TransportError(errors.HTTP_CONNECTION_FAILURE, f"no answer within {timeout:g} s")
        return RawResponse(response.status_code, response.headers, bytes(body), too_big)

    def close(self) -> None:
        if not self.shared_pool:  # closing the session would close the pool other calls share
            self.session.close()
