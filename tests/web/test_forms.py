"""The webhook request class parses a url-encoded body exactly as werkzeug does (issue 17)."""
from __future__ import annotations

import io

from flask import Request
from hypothesis import given, settings, strategies as st

from ivr.web.forms import WebhookRequest


def _environ(body: bytes, **extra) -> dict:
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/voice/input", "SERVER_NAME": "x", "SERVER_PORT": "80",
           "wsgi.url_scheme": "http", "CONTENT_TYPE": "application/x-www-form-urlencoded",
           "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    env.update(extra)
    return env


def _form(cls, env: dict, limit=256 * 1024):
    env = dict(env, **{"wsgi.input": io.BytesIO(env["wsgi.input"].getvalue())})
    request = cls(env)
    request.max_content_length = limit
    try:
        return "ok", list(request.form.items(multi=True)), list(request.files.items())
    except Exception as exc:   # noqa: BLE001 - the same failure is what matters
        return "error", type(exc).__name__


pieces = st.sampled_from(["CallSid", "=", "&", "+", "%", "%2", "%20", "%E4%BD%A0", "%ZZ", ";", "Digits", "1",
                          "\u4f60", "%C3", "a b", "#", "*", "\n"])
bodies = st.one_of(st.lists(pieces, max_size=30).map(lambda p: "".join(p).encode("utf-8", "surrogatepass")),
                   st.binary(max_size=200))


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_same_form_as_werkzeug(body):
    env = _environ(body)
    assert _form(WebhookRequest, env) == _form(Request, env)


@given(bodies, st.sampled_from(["application/x-www-form-urlencoded; charset=UTF-8", "text/plain",
                                "multipart/form-data; boundary=x", "APPLICATION/X-WWW-FORM-URLENCODED"]))
@settings(max_examples=100, deadline=None)
def test_other_content_types_as_werkzeug(body, ctype):
    env = _environ(body, CONTENT_TYPE=ctype)
    assert _form(WebhookRequest, env) == _form(Request, env)


def test_limits_and_short_bodies_as_werkzeug():
    body = b"CallSid=CA1&Digits=1"
    for env, limit in [(_environ(body), 5), (_environ(body, CONTENT_LENGTH="100"), None),
                       (_environ(body, CONTENT_LENGTH=""), None), (_environ(body, REQUEST_METHOD="GET"), None),
                       (_environ(body, HTTP_TRANSFER_ENCODING="chunked"), None)]:
        assert _form(WebhookRequest, env, limit) == _form(Request, env, limit)


@settings(max_examples=400, deadline=None)
@given(bodies, st.lists(st.sampled_from(["CallSid", "Digits", "a b", "%", "", "From", "\u4f60", "1", "a=b", "1&",
                                                 "Digits\n"]), max_size=6))
def test_the_lanes_lazy_form_answers_as_werkzeugs_form(body, asked):
    """The webhook lane's form (unquoted as read) gives what werkzeug's MultiDict gives, for get
    (with a default and a type), in, and anything else (which builds the MultiDict)."""
    from werkzeug.datastructures import MultiDict

    from ivr.web.forms import LazyForm

    env = _environ(body)
    request = Request(dict(env, **{"wsgi.input": io.BytesIO(body)}))
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return   # the lane leaves a body that is not UTF-8 to Flask
    expected: MultiDict = request.form
    lazy = LazyForm(text)
    for key in asked:
        assert lazy.get(key) == expected.get(key)
        assert lazy.get(key, "-") == expected.get(key, "-")
        assert lazy.get(key, -1, type=int) == expected.get(key, -1, type=int)
        assert (key in lazy) == (key in expected)
        assert lazy.get(key) == expected.get(key)   # read twice: the same value
    assert list(LazyForm(text).items(multi=True)) == list(expected.items(multi=True))
    assert LazyForm(text).getlist("Digits") == expected.getlist("Digits")
    assert len(LazyForm(text)) == len(expected) and list(LazyForm(text)) == list(expected)


@given(st.one_of(st.lists(pieces, max_size=30).map("".join), st.text(alphabet="ab=&%+2B\n", max_size=40)))
def test_a_quoted_name_is_found_wherever_it_is(text):
    """``_quoted_name`` (one regular expression) against its definition: some pair's name, the
    text before the pair's first "=", holds a "%" or a "+"."""
    from ivr.web.forms import _quoted_name

    expected = any(("%" in name or "+" in name) for name in (p.partition("=")[0] for p in text.split("&")))
    assert _quoted_name(text) == expected
