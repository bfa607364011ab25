"""The last line of fault tolerance: what a request gets when something failed.

- A routed ``/voice`` webhook never answers with a 4xx/5xx page: a request that cannot be read
  (too large, broken encoding) or an error escaping a view gets an apology in TwiML and
  ``<Hangup/>``, status 200, logged with the route (``ivr.web.reply.last_resort_apology``).
- An unrouted ``/voice`` path keeps its HTTP error (404, 405), so a misconfigured URL shows in
  Twilio's debugger.
- Every other route: errors answered as JSON (:func:`json_error`), never an HTML 500 page; 503
  when the database is down (issue 16).
"""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from ivr.logs import log_webhook
from ivr.web.reply import describe_error, last_resort_apology, printable
from ivr.web.security.webhooks import is_webhook_path

DB_DOWN = "the database is unavailable right now; nothing was changed, try again shortly"


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def json_error(status: int, message: str, retry_after=None) -> Response:
    """``{"error": message}`` with ``status``, never cached; ``Retry-After`` when given."""
    response = jsonify(error=message)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _is_routed_webhook() -> bool:
    rule = request.url_rule
    return rule is not None and is_webhook_path(rule.rule)


def _http_error(exc: HTTPException):
    """4xx raised inside a routed webhook (e.g. 413 for an oversized form): apologise in TwiML.
    Unrouted paths (404, 405) keep their HTTP error so a misconfigured URL shows in Twilio's
    debugger."""
    if exc.code is None or exc.code < 400:
        return exc
    if not _is_routed_webhook():
        if is_webhook_path(request.path):
            return exc   # unrouted /voice path: the HTTP error shows in Twilio's debugger
        return json_error(exc.code, exc.description or exc.name, getattr(exc, "retry_after", None))
    log_webhook(logging.ERROR, "webhook request unreadable", call="-", route=request.path,
                error=f"{exc.code} {exc.name}")
    return last_resort_apology()


def _unexpected_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if not _is_routed_webhook():
        return _non_webhook_error(exc)
    log_webhook(logging.ERROR, "webhook failed outside its handler", call="-", route=request.path,
                error=describe_error(exc))
    return last_resort_apology()


def _non_webhook_error(exc: Exception) -> Response:
    """Any other route: JSON, never an HTML 500 page; 503 when the database is what failed (the
    pool reconnects on the next request once it is back, so nothing needs a restart)."""
    down = isinstance(exc, (OperationalError, DBAPIError)) and (
        isinstance(exc, OperationalError) or getattr(exc, "connection_invalidated", False))
    logging.getLogger("ivr.web").error("%s %s failed: %s", request.method, printable(request.path, 100),
                                       describe_error(exc))
    if down:
        return json_error(503, DB_DOWN, 5)
    return json_error(500, "internal error; it has been logged")
