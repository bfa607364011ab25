"""What the call log and the dashboard report, read from the calls they describe.

Pure SQLAlchemy over ``ivr.hotline.models`` and ``ivr.accounts.models`` (no Flask): each function
takes a session. Nothing unmasked leaves here: callers are masked by the webhooks
(``+86138****5678``), keys of ID numbers and passwords by the engine (``••••••``), and both are
masked again here in case a row was written by something else. Accounts show their masked ID
number only.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import func, or_, select

from ivr.accounts.idnumber import mask_id
from ivr.accounts.models import Account, CallerFailure, UnknownIdFailure
from ivr.hotline.calls import mask_phone
from ivr.hotline.models import Call

STATS_CALLS = 1000            # per-menu counts cover this many latest calls
OUTCOMES = ("success", "invalid", "timeout", "transfer",
            # speech menus (issue 15): options said and matched, said and not matched, and
            # low-confidence matches the caller was asked to confirm
            "speech_match", "speech_nomatch", "speech_confirm")
OUTCOME_LABELS = {
    None: "in progress", "completed": "completed", "agent": "agent", "voicemail": "voicemail",
    "timeout": "timeout hang-up", "error": "error", "loop_guard": "loop guard", "abandoned": "caller hung up",
    "busy": "busy", "failed": "failed", "no-answer": "no answer", "canceled": "canceled",
}
MASK = "•"


def mask_keys(keys) -> list[str]:
    """Keys as logged; anything longer than one key (an ID number, a password) as dots."""
    out = []
    for entry in keys or []:
        entry = str(entry)
        out.append(MASK * len(entry) if len(entry) > 1 and any(c.isdigit() for c in entry) else entry)
    return out


def mask_heard(heard) -> list[dict]:
    """What callers said, as the engine logged it (sensitive places already dots); a number read
    out is masked again here, in case a row was written by something else."""
    from ivr.engine.speech import reads_a_number

    out = []
    for entry in (heard or [])[:200]:
        if not isinstance(entry, dict):
            continue
        said = str(entry.get("said", ""))[:80]
        if reads_a_number(said):
            said = MASK * len(said)
        out.append({"menu": str(entry.get("menu", "")), "said": said, "result": str(entry.get("result", "")),
                    "confidence": entry.get("confidence") if isinstance(entry.get("confidence"), (int, float)) else None})
    return out


def _masked_id(value) -> str:
    value = str(value or "")
    return mask_id(value) if value else ""


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def call_row(call: Call) -> dict:
    """A call as the call log shows it: caller, keys, speech and ID number masked."""
    state = call.state or {}
    started, ended = _aware(call.started_at), _aware(call.ended_at)
    duration, measured = call.duration, "twilio"
    if duration is None and ended is not None and started is not None:
        duration, measured = max(0, round((ended - started).total_seconds())), "log"
    return {
        "call_sid": call.call_sid,
        "started_at": started.isoformat() if started else None,
        "ended_at": ended.isoformat() if ended else None,
        "caller": mask_phone(call.caller),
        "language": call.language,
        "path": [str(m) for m in state.get("path", [])],
        "keys": mask_keys(state.get("keys")),
        "said": mask_heard(state.get("heard")),
        "outcome": call.outcome,
        "outcome_label": OUTCOME_LABELS.get(call.outcome, call.outcome),
        "duration": duration,
        "duration_from": measured if duration is not None else None,
        "masked_id": _masked_id((state.get("data") or {}).get("masked_id")),
        "error_code": call.error_code,
        "steps": call.steps,
        "menu_version": call.menu_version or "",
    }


def recent_calls(session, limit: int) -> list[dict]:
    """The latest ``limit`` calls, newest first, as :func:`call_row` dicts."""
    rows = session.execute(select(Call).order_by(Call.started_at.desc(), Call.call_sid).limit(limit)).scalars()
    return [call_row(c) for c in rows]


def menu_counts(session, menus: list[str]) -> tuple[dict[str, dict[str, int]], int]:
    """Per-menu success/invalid/timeout/transfer totals over the latest STATS_CALLS calls."""
    totals = {m: dict.fromkeys(OUTCOMES, 0) for m in menus}
    states = session.execute(select(Call.state).order_by(Call.started_at.desc()).limit(STATS_CALLS)).scalars().all()
    for state in states:
        for menu, counts in ((state or {}).get("stats") or {}).items():
            row = totals.setdefault(str(menu), dict.fromkeys(OUTCOMES, 0))
            for name in OUTCOMES:
                value = (counts or {}).get(name, 0)
                row[name] += value if isinstance(value, int) else 0
    return totals, len(states)


def call_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Call)) or 0


def outcome_totals(session) -> Counter:
    rows = session.execute(select(Call.outcome, func.count()).group_by(Call.outcome)).all()
    return Counter({OUTCOME_LABELS.get(outcome, outcome): n for outcome, n in rows})


def account_security(session, now: dt.datetime, *, caller_window_minutes: float = 60,
                     caller_max_failures: int = 10) -> dict:
    """Accounts with wrong passwords or locked, unknown ID numbers tried, and calling numbers
    with wrong passwords in the window (``IVR_CALLER_WINDOW_MINUTES``; limited at
    ``IVR_CALLER_MAX_FAILURES``). ID numbers masked."""
    accounts = session.execute(
        select(Account.id_number, Account.failed_attempts, Account.locked_until, Account.card_status)
        .where(or_(Account.failed_attempts > 0, Account.locked_until > now))
        .order_by(Account.locked_until.desc().nulls_last(), Account.failed_attempts.desc())).all()
    listed = [{"masked_id": mask_id(r.id_number), "failed_attempts": r.failed_attempts,
               "locked_until": r.locked_until.isoformat() if r.locked_until and r.locked_until > now else None,
               "card_status": r.card_status} for r in accounts]
    unknown_failing = session.scalar(select(func.count()).select_from(UnknownIdFailure)
                                     .where(UnknownIdFailure.failed_attempts > 0)) or 0
    unknown_locked = session.scalar(select(func.count()).select_from(UnknownIdFailure)
                                    .where(UnknownIdFailure.locked_until > now)) or 0
    window = dt.timedelta(minutes=float(caller_window_minutes))
    limit = int(caller_max_failures)
    live = select(CallerFailure.failures).where(CallerFailure.window_start > now - window)
    failures = session.execute(live).scalars().all()
    return {
        "accounts": listed,
        "accounts_locked": sum(1 for a in listed if a["locked_until"]),
        "accounts_failing": len(listed),
        "unknown_ids_failing": unknown_failing,
        "unknown_ids_locked": unknown_locked,
        "callers_failing": len(failures),
        "callers_limited": sum(1 for f in failures if f >= limit),
        "caller_limit": limit,
        "caller_window_minutes": int(window.total_seconds() // 60),
    }
