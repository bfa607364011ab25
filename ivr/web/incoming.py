"""The request a voice webhook answers: the one the webhook lane read (``ivr.web.webhook_lane``,
no Flask request context, only an app context), else Flask's. Code that runs inside a webhook
asks here instead of using ``flask.request``, so the same views serve both ways in."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request

_lane_request: ContextVar = ContextVar("ivr_lane_request", default=None)


def current_request():
    req = _lane_request.get()
    return request if req is None else req


def has_incoming_request() -> bool:
    """Whether a webhook (either way in) is being answered."""
    return _lane_request.get() is not None or has_request_context()


@contextmanager
def answering(req):
    """The lane answers ``req``: ``current_request()`` is it inside the block."""
    token = _lane_request.set(req)
    try:
        yield req
    finally:
        _lane_request.reset(token)
