"""Per-client request limits kept in the database, so every server process sees the same count.

Two kinds, both one atomic ``INSERT .. ON CONFLICT DO UPDATE .. RETURNING`` per request (no read
before the write, so SQLite never fails a snapshot upgrade and PostgreSQL re-checks the row):

- :func:`hit`: a fixed window of ``window`` seconds in which ``limit`` requests pass (softphone
  dials and keys);
- :func:`fail` / :func:`wait_left` / :func:`clear`: failures with a doubling back-off once more
  than ``free`` have happened (dashboard sign-ins).

Rows hold an HMAC of the client address (keyed with SECRET_KEY), never the address.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from flask import current_app, request
from sqlalchemy import case, delete, select

from ivr.hotline.models import RequestLimit

BACKOFF_MAX_SECONDS = 3600.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: float      # seconds until a request would pass again (0 when allowed)


def client_key(kind: str, client: str | None = None) -> str:
    """HMAC of the kind and the client address (the request's, after ProxyFix when trusted)."""
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    who = client if client is not None else (request.remote_addr or "-")
    return hmac.new(secret, f"limit:{kind}:{who}".encode(), hashlib.sha256).hexdigest()


def _engine():
    return current_app.extensions["ivr_db"].engine


def _insert(conn):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def hit(key: str, limit: int, window: float, now: float | None = None) -> Verdict:
    """Count one request in ``key``'s current window; allowed while the count is within ``limit``."""
    now = time.time() if now is None else now
    t = RequestLimit
    expired = t.window_start <= now - window
    with _engine().begin() as conn:
        stmt = _insert(conn)(t).values(key=key, window_start=now, hits=1, blocked_until=0.0)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.key],
            set_={"hits": case((expired, 1), else_=t.hits + 1),
                  "window_start": case((expired, now), else_=t.window_start)},
        ).returning(t.hits, t.window_start)
        row = conn.execute(stmt).one()
    allowed = row.hits <= limit
    return Verdict(allowed, row.hits, 0.0 if allowed else max(0.0, row.window_start + window - now))


def backoff(failures: int, free: int, base: float) -> float:
    """Seconds to wait after ``failures`` failures: none up to ``free``, then base, 2*base, 4*base..."""
    if failures <= free:
        return 0.0
    return min(BACKOFF_MAX_SECONDS, base * 2 ** min(failures - free - 1, 30))


def wait_left(key: str, now: float | None = None) -> float:
    """Seconds this key must still wait before its next try (0 when it may try now)."""
    now = time.time() if now is None else now
    with _engine().connect() as conn:
        until = conn.execute(select(RequestLimit.blocked_until).where(RequestLimit.key == key)).scalar()
    return max(0.0, (until or 0.0) - now)


def fail(key: str, free: int, base: float, now: float | None = None) -> Verdict:
    """Count one failure; past ``free`` failures the key waits :func:`backoff` before the next."""
    now = time.time() if now is None else now
    t = RequestLimit
    with _engine().begin() as conn:
        stmt = _insert(conn)(t).values(key=key, window_start=now, hits=1,
                                       blocked_until=now + backoff(1, free, base))
        stmt = stmt.on_conflict_do_update(index_elements=[t.key], set_={"hits": t.hits + 1}
                                          ).returning(t.hits)
        hits = conn.execute(stmt).scalar_one()
        wait = backoff(hits, free, base)
        conn.execute(RequestLimit.__table__.update().where(t.key == key).values(blocked_until=now + wait))
    return Verdict(hits <= free, hits, wait)


def clear(key: str) -> None:
    with _engine().begin() as conn:
        conn.execute(delete(RequestLimit).where(RequestLimit.key == key))
