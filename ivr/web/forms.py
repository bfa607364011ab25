"""The request class: werkzeug's, with a short path for the one body every webhook carries.

Twilio POSTs a small url-encoded form with a Content-Length. werkzeug parses it as
``parse_qsl(stream.read().decode(), keep_blank_values=True, errors="werkzeug.url_quote")`` after
building a form parser, parsing the Content-Type header and wrapping the input in a limited stream:
about three times the parse itself (issue 17). For exactly that case (POST, url-encoded, a length
within ``max_content_length``, no chunked body) this reads the body and parses it the same way;
everything else (multipart, chunked, over the limit, a GET's query) goes through werkzeug as before.
Servers that end the input themselves (gunicorn sets ``wsgi.input_terminated``) took werkzeug's
general path until issue 17's second round: every webhook served by ``ivr serve`` paid for it.
The result is the same MultiDict (tests/web/test_forms.py compares the two): a body that is not
UTF-8 gives an empty form, and one shorter than its Content-Length fails, as in werkzeug.
"""
from __future__ import annotations

import io
from urllib.parse import unquote

from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected

FORM = "application/x-www-form-urlencoded"


def _needs_unquote(text: str) -> bool:
    return "%" in text or "+" in text


def _unquote(text: str) -> str:
    """One name or value of a form, as ``parse_qsl(.., errors="werkzeug.url_quote")`` decodes it."""
    return unquote(text.replace("+", " "), errors="werkzeug.url_quote") if _needs_unquote(text) else text


def parse_form(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")``, as werkzeug
    parses a form, without unquoting what has nothing to unquote (most of a Twilio form)."""
    items = []
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        items.append((_unquote(name), _unquote(value)))
    return items


class LazyForm:
    """``MultiDict(parse_form(text))`` for a webhook that reads a few of Twilio's twenty-odd fields:
    a value is unquoted when it is read (a Twilio form's phone numbers all carry ``%2B``). ``get``
    and ``in`` answer from the raw pairs (the first of a repeated name, as MultiDict's get); any
    other use builds the MultiDict itself and answers from it. A form whose names need unquoting
    (never Twilio's) is that MultiDict from the start."""

    __slots__ = ("_text", "_raw", "_read", "_full")

    def __init__(self, text: str):
        self._text = text
        self._read: dict[str, str] = {}
        self._full = None
        raw: dict[str, str] = {}
        for pair in text.split("&"):
            name, _, value = pair.partition("=")
            if _needs_unquote(name):
                self._multi()
                break
            if pair and name not in raw:
                raw[name] = value
        self._raw = raw

    def get(self, key, default=None, type=None):
        if self._full is not None:
            return self._full.get(key, default, type)
        value = self._read.get(key)
        if value is None:
            value = self._raw.get(key)
            if value is None:
                return default
            value = self._read[key] = _unquote(value)
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def __contains__(self, key) -> bool:
        return key in self._full if self._full is not None else key in self._raw

    def _multi(self) -> MultiDict:
        if self._full is None:
            self._full = MultiDict(parse_form(self._text))
        return self._full

    def __getattr__(self, name):   # everything else: the MultiDict's own answer
        return getattr(self._multi(), name)

    def __getitem__(self, key):
        return self._multi()[key]

    def __iter__(self):
        return iter(self._multi())

    def __len__(self) -> int:
        return len(self._multi())


def plain_form_size(environ, limit: int | None) -> int | None:
    """The body's size when ``environ`` is what Twilio sends (a POST of a url-encoded form with a
    Content-Length within ``limit``, no chunked body), else None."""
    length = environ.get("CONTENT_LENGTH", "")
    if (environ.get("REQUEST_METHOD") == "POST" and length.isdigit() and length.isascii()
            and "HTTP_TRANSFER_ENCODING" not in environ
            and environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() == FORM):
        size = int(length)
        if limit is None or size <= limit:
            return size
    return None


class WebhookRequest(Request):
    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        env = self.environ
        size = plain_form_size(env, self.max_content_length)
        if size is not None:
            data = env["wsgi.input"].read(size) if size else b""
            # A server that ends the input itself (gunicorn: wsgi.input_terminated) gets what came
            # parsed, as werkzeug reads it to its end; otherwise werkzeug's limited stream raises.
            if len(data) != size and not env.get("wsgi.input_terminated"):
                raise ClientDisconnected()
            try:
                items = parse_form(data.decode())
            except ValueError:   # not UTF-8: werkzeug's parser is silent, the form empty
                items = ()
            d = self.__dict__
            d["stream"], d["form"], d["files"] = io.BytesIO(), self.parameter_storage_class(items), \
                self.parameter_storage_class()
            return
        super()._load_form_data()


def init_app(app) -> None:
    app.request_class = WebhookRequest
