"""Business hours: is an agent available now?"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ivr.engine.model import Hours


def local_now(hours: Hours, now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return now.astimezone(ZoneInfo(hours.timezone))


def is_open(hours: Hours, now: dt.datetime) -> bool:
    local = local_now(hours, now)
    day = local.date()
    if day in hours.holidays:
        return False
    weekday = local.weekday()
    if day in hours.workdays:
        # A make-up working day (调休) keeps the hours of an ordinary weekday.
        weekday = 0
    t = local.time().replace(tzinfo=None)
    return any(start <= t < end for start, end in hours.weekly.get(weekday, ()))
