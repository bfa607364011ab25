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

import functools
import io
from urllib.parse import unquote

from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected

FORM = "application/x-www-form-urlencoded"


def _quoted_name(text: str) -> bool:
    """Whether a pair's name holds a quote or a plus (a name to unquote before it can be
    matched): every ``%`` and ``+`` of the text (a Twilio form: its phone numbers' few) is looked
    at, with string searches, not a scan of every pair."""
    for mark in ("%", "+"):
        at = text.find(mark)
        while at != -1:
            if text.find("=", text.rfind("&", 0, at) + 1, at) == -1:
                return True   # no "=" between the pair's start and the mark: it is in the name
            after = text.find("&", at)
            at = -1 if after == -1 else text.find(mark, after)
    return False


def _find(text: str, key: str) -> str | None:
    """The value, as written, of the first pair named ``key`` ("" for a pair without "="), or None."""
    if "=" in key or "&" in key:   # no name holds them (a pair is split at its first "=")
        return None
    size, at = len(key), text.find(key)
    while at != -1:
        end = at + size
        if (at == 0 or text[at - 1] == "&") and (end == len(text) or text[end] in "=&"):
            if end == len(text) or text[end] == "&":
                return ""
            stop = text.find("&", end)
            return text[end + 1:] if stop == -1 else text[end + 1:stop]
        at = text.find(key, at + 1)
    return None


def _needs_unquote(text: str) -> bool:
    return "%" in text or "+" in text


def _unquote(text: str) -> str:
    """One name or value of a form, as ``parse_qsl(.., errors="werkzeug.url_quote")`` decodes it."""
    return _unquoted(text) if _needs_unquote(text) else text


@functools.lru_cache(maxsize=1024)
def _unquoted(text: str) -> str:
    # A call's webhooks repeat the same quoted values (its phone numbers, "*" as %2A): unquoting
    # with werkzeug's error handler cost 5 µs each, a twentieth of a navigation webhook's own work.
    return unquote(text.replace("+", " "), errors="werkzeug.url_quote")


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
    ``get`` and ``in`` find the one field asked for in the text (the first of a repeated name, as
    MultiDict's get) and unquote its value when it is read (a Twilio form's phone numbers all carry
    ``%2B``); splitting every pair of the form was a tenth of the lane's own work (issue 17). Any
    other use builds the MultiDict itself and answers from it. A form whose names need unquoting
    (never Twilio's) is that MultiDict from the start."""

    __slots__ = ("_text", "_read", "_full")

    def __init__(self, text: str):
        self._text = text
        self._read: dict[str, str | None] = {}
        self._full = None
        if _quoted_name(text):
            self._multi()

    def _raw(self, key: str) -> str | None:
        """The value of the first pair named ``key``, as written (None: no such pair)."""
        if key in self._read:
            return self._read[key]
        if not key:   # a pair with an empty name: only the MultiDict knows it
            found = self._multi().get(key)
        else:
            found = _find(self._text, key)
            if found:
                found = _unquote(found)
        self._read[key] = found
        return found

    def get(self, key, default=None, type=None):
        if self._full is not None:
            return self._full.get(key, default, type)
        value = self._raw(key) if isinstance(key, str) else self._multi().get(key)
        if value is None:
            return default
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def __contains__(self, key) -> bool:
        if self._full is not None or not isinstance(key, str):
            return key in self._multi()
        return self._raw(key) is not None

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
