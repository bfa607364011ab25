"""Account operations the account-menu call flow calls: log in, balances, spending, password, loss.

Everything here works on integer account ids; the call flow keeps ``LoginResult.account_id`` in
call state, never an ID number. Every public method has committed its writes before it returns, so
a confirmation spoken afterwards is always true.

Connections. On its own a service takes a pooled connection per short transaction. A webhook uses
``service.on(conn)``: the same service on the webhook's own connection, so a webhook in flight holds
one pooled connection, never two (issue 17). There, reads run inside the webhook's transaction, and
each write commits the webhook's transaction so far (only the call state's read precedes it: the
flows call the service before the state is saved), as the service's own transaction did before.

Concurrency. Each write is one conditional ``UPDATE`` (or an ``INSERT .. ON CONFLICT DO UPDATE``)
whose ``WHERE`` carries the precondition, so it is atomic on both databases: PostgreSQL re-checks
the ``WHERE`` of a row another transaction changed, and SQLite runs one writer at a time. No
transaction reads before it writes. That matters on SQLite: ``SELECT .. FOR UPDATE`` does not
exist there, and a WAL transaction that read a snapshot and then tries to write after another
writer committed fails at once with SQLITE_BUSY instead of waiting. Expensive password hashing
always happens outside any transaction.
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from sqlalchemy import and_, bindparam, case, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.accounts.idnumber import BEIJING, mask_id, normalise
from ivr.accounts.callers import caller_key
from ivr.accounts.sql import commit_open, execute, rollback_open
from ivr.accounts.models import (CARD_ACTIVE, CARD_REPORTED_LOST, Account, CallerFailure, LoginBudget,
                                 SpendingRecord, UnknownIdFailure, UTCDateTime)

log = logging.getLogger("ivr.accounts")

DEFAULT_HASH_METHOD = "scrypt"          # werkzeug's default: scrypt n=2**15, r=8, p=1
ID_LAST6 = "id_last6"

# LoginResult.status
LOGIN_OK = "ok"
LOGIN_BAD = "bad"                        # wrong password or unknown ID number (indistinguishable)
LOGIN_LOCKED = "locked"                  # too many wrong passwords; see locked_until
LOGIN_CALLER_LIMITED = "caller_limited"  # this calling number made too many wrong attempts

# PasswordChangeResult.code
PW_CHANGED = "changed"
PW_FORMAT = "format"                     # not exactly 6 digits
PW_INITIAL = "initial"                   # the initial password
PW_FROM_ID = "from_id"                   # last 6 digits of the ID number, or the birth date YYMMDD
PW_TRIVIAL = "trivial"                   # 000000, 123456, 111111, 654321, 121212, ...
PW_MISMATCH = "mismatch"                 # the two entries differ
PW_SAME = "same"                         # the current password
PW_NO_ACCOUNT = "no_account"

# LossReportResult.code
LOSS_REPORTED = "reported"
LOSS_ALREADY = "already_reported"
LOSS_NO_ACCOUNT = "no_account"


@dataclass(frozen=True)
class LoginResult:
    """Outcome of :meth:`AccountService.verify`.

    - ``ok``: ``account_id`` set; ``password_is_initial`` says whether to suggest a change.
    - ``bad``: ``attempts_left`` before the lock (an unknown ID number counts down the same way).
    - ``locked``: ``locked_until`` (aware UTC); ``just_locked`` if this attempt caused it.
    - ``caller_limited``: this calling number is refused until ``locked_until``.
    """

    status: str
    account_id: int | None = None
    attempts_left: int | None = None
    locked_until: dt.datetime | None = None
    just_locked: bool = False
    password_is_initial: bool = False

    @property
    def ok(self) -> bool:
        return self.status == LOGIN_OK


@dataclass(frozen=True)
class AccountInfo:
    id: int
    masked_id: str
    card_number: str
    name: str
    city: str
    card_status: str
    lost_reference: str | None
    lost_reported_at: dt.datetime | None
    password_is_initial: bool
    failed_attempts: int
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class Balances:
    account_id: int
    medical_fen: int
    pension_fen: int
    as_of: dt.datetime          # when the account row last changed


@dataclass(frozen=True)
class Spending:
    spent_on: dt.date
    place_zh: str
    place_en: str
    amount_fen: int

    def place(self, lang: str) -> str:
        return self.place_zh if lang.lower().startswith("zh") else self.place_en


@dataclass(frozen=True)
class PasswordChangeResult:
    code: str

    @property
    def ok(self) -> bool:
        return self.code == PW_CHANGED


@dataclass(frozen=True)
class LossReportResult:
    """``reported`` (now) or ``already_reported`` (earlier): both carry reference and time."""

    code: str
    reference: str | None = None
    reported_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.code in (LOSS_REPORTED, LOSS_ALREADY)


@dataclass(frozen=True)
class CallerStatus:
    failures: int
    limit: int
    blocked: bool
    retry_at: dt.datetime | None     # end of the current window (None when no window is open)


# --- password rules (pure) ---------------------------------------------------------------------

_SIX_DIGITS = re.compile(r"[0-9]{6}")
# Well-known patterns that the run/repeat rules below do not already catch.
_COMMON = frozenset({"112233", "123321", "147258", "258369", "369258", "147852", "159753",
                     "159357", "789456", "456123", "520131", "201314", "135246"})


def is_password_format(password: str) -> bool:
    """Exactly six ASCII digits."""
    return isinstance(password, str) and bool(_SIX_DIGITS.fullmatch(password))


def is_trivial_password(password: str) -> bool:
    """All one digit, a run up or down (012345, 654321, 890123 wrap round), a repeated pair or
    triple (121212, 123123), or a well-known keypad pattern (147258, 112233, ...)."""
    d = [int(c) for c in password]
    steps = {(b - a) % 10 for a, b in zip(d, d[1:])}
    if len(steps) == 1 and steps <= {0, 1, 9}:
        return True
    if password[:2] * 3 == password or password[:3] * 2 == password:
        return True
    return password in _COMMON


def initial_password_for(id_number: str, policy: str) -> str:
    """The initial password under ``policy``: ``id_last6`` (last 6 characters of the ID number,
    a final X keyed as 0 -- the X->0 convention some cities use) or a fixed 6-digit value."""
    if policy == ID_LAST6:
        return id_number[-6:].upper().replace("X", "0")
    return policy


def password_problem(new: str, confirm: str | None, *, id_number: str, policy: str) -> str | None:
    """Why ``new`` may not become the password (a ``PW_*`` code), or None. ``confirm=None``
    checks the first entry alone (so a flow can refuse it before asking for it again)."""
    if not is_password_format(new):
        return PW_FORMAT
    if new == initial_password_for(id_number, policy):
        return PW_INITIAL
    if new == initial_password_for(id_number, ID_LAST6) or new == id_number[8:14]:
        return PW_FROM_ID
    if is_trivial_password(new):
        return PW_TRIVIAL
    if confirm is not None and confirm != new:
        return PW_MISMATCH
    return None


def normalise_policy(policy: object) -> str:
    """Check the INITIAL_PASSWORD setting: ``id_last6`` or six digits (an int from JSON-parsed
    environment variables is accepted when it has six digits)."""
    if isinstance(policy, int) and not isinstance(policy, bool) and 100000 <= policy <= 999999:
        policy = str(policy)
    if policy == ID_LAST6 or (isinstance(policy, str) and is_password_format(policy)):
        return policy
    raise ValueError(f"INITIAL_PASSWORD must be \"id_last6\" or 6 digits, not {policy!r}")


def hash_password(password: str, method: str = DEFAULT_HASH_METHOD) -> str:
    """Salted hash (werkzeug format ``method$salt$hash``)."""
    return generate_password_hash(password, method=method)


def _check_password(pwhash: str, password: str) -> bool:
    try:
        return check_password_hash(pwhash, password)
    except (ValueError, TypeError):   # a malformed stored hash never logs anyone in
        return False


def _ts(value: dt.datetime):
    """A datetime bound through UTCDateTime (never the driver's own time-zone conversion)."""
    return literal(value, UTCDateTime())


def _insert_for(session):
    """The dialect's insert (with ``on_conflict_do_update``) for a Session or a Connection."""
    name = (session.dialect if hasattr(session, "dialect") else session.get_bind().dialect).name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the project supports SQLite and PostgreSQL
        raise NotImplementedError(f"upserts are written for sqlite and postgresql, not {name}")
    return insert


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _not_locked(col, now):
    """``col`` (a lock's end) is empty or over at ``now``."""
    return or_(col.is_(None), col <= now)


# Built once: SQLAlchemy then reuses their compiled SQL from the engine's cache.
_ACCOUNT_BY_ID_NUMBER = select(Account.id).where(Account.id_number == bindparam("id_number"))
_LOGIN_ROW = (select(Account.id, Account.password_hash, Account.locked_until, Account.password_is_initial)
              .where(Account.id == bindparam("account_id")))
_UNKNOWN_LOCK = select(UnknownIdFailure.locked_until).where(UnknownIdFailure.id_hash == bindparam("id_hash"))
# A successful login resets the counter, unless the account got locked or its password changed
# since it was read (then the caller's attempt is looked at again).
_LOGIN_OK = (update(Account)
             .where(Account.id == bindparam("account_id"), Account.password_hash == bindparam("old_hash"),
                    _not_locked(Account.locked_until, bindparam("now")))
             .values(failed_attempts=0, locked_until=None))
_LOGIN_OK_REHASH = _LOGIN_OK.values(password_hash=bindparam("new_hash"))
_CALLER_START = select(CallerFailure.window_start).where(CallerFailure.caller_hash == bindparam("caller_hash"))
_CALLER_WINDOW = (select(CallerFailure.failures, CallerFailure.window_start)
                  .where(CallerFailure.caller_hash == bindparam("caller_hash")))
_BALANCES = (select(Account.medical_fen, Account.pension_fen, Account.updated_at)
             .where(Account.id == bindparam("account_id")))
_SPENDING = (select(SpendingRecord.spent_on, SpendingRecord.place_zh, SpendingRecord.place_en,
                    SpendingRecord.amount_fen)
             .where(SpendingRecord.account_id == bindparam("account_id"))
             .order_by(SpendingRecord.spent_on.desc(), SpendingRecord.id.desc())
             .limit(bindparam("limit")))


# The login's counters, built once (per dialect for the upserts): building them per login was a
# sixth of a local call's cost (SQLAlchemy coercion and cache keys, issue 17).
_REFUND_BUDGET = (update(LoginBudget).where(LoginBudget.window == bindparam("budget_window"), LoginBudget.failures > 0)
                  .values(failures=LoginBudget.failures - 1))
_REFUND_CALLER = (update(CallerFailure)
                  .where(CallerFailure.caller_hash == bindparam("refund_hash"),
                         CallerFailure.window_start == bindparam("refund_start"), CallerFailure.failures > 0)
                  .values(failures=CallerFailure.failures - 1))


class _LoginStatements:
    def __init__(self, dialect_name: str):
        if dialect_name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect_name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - the project supports SQLite and PostgreSQL
            raise NotImplementedError(f"upserts are written for sqlite and postgresql, not {dialect_name}")
        t = CallerFailure
        now = bindparam("now", type_=UTCDateTime())
        expired = t.window_start <= bindparam("cutoff", type_=UTCDateTime())
        self.reserve_caller = insert(t).values(caller_hash=bindparam("reserve_hash"), failures=1,
                                               window_start=now).on_conflict_do_update(
            index_elements=[t.caller_hash],
            set_={"failures": case((expired, 1), else_=t.failures + 1),
                  "window_start": case((expired, now), else_=t.window_start)},
            where=or_(expired, t.failures < bindparam("max_failures")),
        ).returning(t.window_start)
        b = LoginBudget
        self.reserve_budget = insert(b).values(window=bindparam("budget_window"), failures=1).on_conflict_do_update(
            index_elements=[b.window], set_={"failures": b.failures + 1}).returning(b.failures)


_LOGIN_STATEMENTS: dict[str, _LoginStatements] = {}


def _login_statements(dialect) -> _LoginStatements:
    made = _LOGIN_STATEMENTS.get(dialect.name)
    if made is None:
        made = _LOGIN_STATEMENTS[dialect.name] = _LoginStatements(dialect.name)
    return made


class _Borrowed:
    """``with`` over a connection someone else owns: left open; with ``commit``, the transaction
    is committed when the block succeeds and rolled back when it raises."""

    __slots__ = ("conn", "commit")

    def __init__(self, conn, commit: bool):
        self.conn, self.commit = conn, commit

    def __enter__(self):
        return self.conn

    def __exit__(self, kind, exc, tb):
        if self.commit:
            _end_transaction(self.conn, commit=kind is None)
        return False


def _end_transaction(conn, commit: bool) -> None:
    """Commit (or roll back) what is open on a borrowed connection: SQLAlchemy's transaction or the
    driver's own (statements on the cursor); SQLAlchemy's is begun again, so the owner's next
    statements are in a transaction again, as before."""
    began = conn.in_transaction()
    (commit_open if commit else rollback_open)(conn)
    if began:
        conn.begin()


class AccountService:
    """The data layer of the account menu.

    ``session_factory``: a SQLAlchemy ``sessionmaker`` (``Database.Session``).
    ``lock_hours`` / ``max_attempts``: lock an account after that many consecutive wrong
    passwords (across calls) for that long. ``initial_password``: ``"id_last6"`` or 6 digits.
    ``now``: returns the current aware datetime (tests and demos pass a fixed clock).
    ``secret``: key of the HMAC that hashes unknown ID numbers and caller numbers (pass the app's
    SECRET_KEY). ``caller_max_failures`` wrong passwords from one calling number within
    ``caller_window`` block that number until the window ends (issue 7).
    ``hash_method``: werkzeug method for new password hashes; weaker stored hashes (bulk seed
    accounts) are upgraded to it on the next successful login.
    """

    def __init__(self, session_factory: sessionmaker[Session], *, lock_hours: float = 24,
                 max_attempts: int = 3, initial_password: object = ID_LAST6,
                 now: Callable[[], dt.datetime] = _utcnow, secret: str | bytes = b"",
                 caller_max_failures: int = 10,
                 caller_window: dt.timedelta = dt.timedelta(hours=1),
                 hash_method: str = DEFAULT_HASH_METHOD, rng: random.Random | None = None,
                 caller_region: str = "CN", login_budget: int = 200,
                 login_budget_window: dt.timedelta = dt.timedelta(minutes=10),
                 login_budget_delay: float = 2.0, sleep: Callable[[float], None] = time.sleep):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if lock_hours <= 0:
            raise ValueError("lock_hours must be positive")
        if caller_max_failures < 1:
            raise ValueError("caller_max_failures must be at least 1")
        self.Session = session_factory
        self.lock = dt.timedelta(hours=lock_hours)
        self.max_attempts = int(max_attempts)
        self.initial_policy = normalise_policy(initial_password)
        self._now_fn = now
        self._secret = secret.encode() if isinstance(secret, str) else bytes(secret)
        self.caller_max_failures = int(caller_max_failures)
        self.caller_window = caller_window
        self.hash_method = hash_method
        self.caller_region = caller_region
        self.login_budget = int(login_budget)
        self.login_budget_window = max(1, int(login_budget_window.total_seconds()))
        self.login_budget_delay = float(login_budget_delay)
        self._sleep = sleep
        self._rng = rng or random.SystemRandom()
        # A hash to check against when the ID number is unknown: the same work as a real check.
        self._dummy_hash = hash_password("000000", hash_method)
        self._hash_prefix = self._dummy_hash.split("$", 1)[0]

    @classmethod
    def from_config(cls, config, session_factory, **kwargs) -> "AccountService":
        """Build from a Flask config: LOCK_HOURS, MAX_PASSWORD_ATTEMPTS, INITIAL_PASSWORD,
        SECRET_KEY (HMAC key), CALLER_MAX_FAILURES and CALLER_WINDOW_MINUTES (per-number limit), and NOW (an ISO date-time that stands in for the clock; naive
        means Beijing time). Keyword arguments override."""
        fixed = config.get("NOW")
        if fixed and "now" not in kwargs:
            moment = (fixed if isinstance(fixed, dt.datetime)
                      else dt.datetime.fromisoformat(str(fixed)))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=BEIJING)
            kwargs["now"] = lambda: moment
        kwargs.setdefault("caller_max_failures", int(config.get("CALLER_MAX_FAILURES", 10)))
        kwargs.setdefault("caller_window",
                          dt.timedelta(minutes=float(config.get("CALLER_WINDOW_MINUTES", 60))))
        kwargs.setdefault("hash_method", str(config.get("PASSWORD_HASH") or DEFAULT_HASH_METHOD))
        kwargs.setdefault("caller_region", str(config.get("CALLER_REGION") or "CN"))
        kwargs.setdefault("login_budget", int(config.get("LOGIN_BUDGET", 200)))
        kwargs.setdefault("login_budget_window",
                          dt.timedelta(minutes=float(config.get("LOGIN_BUDGET_WINDOW_MINUTES", 10))))
        kwargs.setdefault("login_budget_delay", float(config.get("LOGIN_BUDGET_DELAY_SECONDS", 2.0)))
        return cls(session_factory, lock_hours=config["LOCK_HOURS"],
                   max_attempts=config["MAX_PASSWORD_ATTEMPTS"],
                   initial_password=config["INITIAL_PASSWORD"],
                   secret=config.get("SECRET_KEY") or b"", **kwargs)

    # -- helpers --------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        value = self._now_fn()
        if value.tzinfo is None:
            raise ValueError("the clock must return aware datetimes")
        return value.astimezone(dt.timezone.utc)

    def _keyed_hash(self, kind: str, value: str) -> str:
        return hmac.digest(self._secret, f"{kind}:{value}".encode(), "sha256").hex()

    def _caller_hash(self, caller: str) -> str:
        """Every spelling of one number (and every non-number) gives one key (ivr.accounts.callers)."""
        return self._keyed_hash("caller", caller_key(caller, self.caller_region))

    def initial_password_for(self, id_number: str) -> str:
        return initial_password_for(normalise(id_number), self.initial_policy)

    # -- reading --------------------------------------------------------------------------------

    def _info(self, where) -> AccountInfo | None:
        with self._connect() as s:
            a = s.execute(select(*Account.__table__.columns).where(where)).first()
            if a is None:
                return None
            return AccountInfo(
                id=a.id, masked_id=mask_id(a.id_number), card_number=a.card_number, name=a.name,
                city=a.city, card_status=a.card_status, lost_reference=a.lost_reference,
                lost_reported_at=a.lost_reported_at, password_is_initial=a.password_is_initial,
                failed_attempts=a.failed_attempts, locked_until=a.locked_until)

    def lookup(self, id_number: str) -> AccountInfo | None:
        """The account with this ID number, or None. Not for the call flow before login: it
        would tell a caller which ID numbers have accounts (use :meth:`verify`)."""
        return self._info(Account.id_number == normalise(id_number))

    def get(self, account_id: int) -> AccountInfo | None:
        return self._info(Account.id == account_id)

    # The call flow's queries (login, balances, spending) run on Core connections: a Session around
    # each of them cost several times the query itself (docs/benchmarks.md). Bound to a webhook's
    # connection (``on``), they run on that one.
    _conn = None

    def on(self, conn) -> "AccountService":
        """This service working on ``conn`` (a Core Connection, the webhook's) instead of taking
        pooled connections of its own; ``conn`` stays open, its transaction the caller's."""
        bound = object.__new__(type(self))
        bound.__dict__.update(self.__dict__)
        bound._conn = conn
        return bound

    def _connect(self):
        if self._conn is not None:
            return _Borrowed(self._conn, commit=False)
        return self.Session.kw["bind"].connect()

    def _begin(self):
        """A transaction for a write, committed (or rolled back) at the end of the block."""
        if self._conn is not None:
            return _Borrowed(self._conn, commit=True)
        return self.Session.kw["bind"].begin()

    def _end_read(self) -> None:
        """On a borrowed connection: end the reads' transaction (before a slow password check)."""
        if self._conn is not None:
            _end_transaction(self._conn, commit=True)

    def _read(self, stmt, **params) -> list[tuple]:
        """Rows (named tuples, in the statement's column order) of a prebuilt Core ``stmt``
        (``ivr.accounts.sql``: compiled once per dialect, run on the DB-API cursor)."""
        with self._connect() as conn:
            return execute(conn, stmt, params).all()

    def balances(self, account_id: int) -> Balances | None:
        rows = self._read(_BALANCES, account_id=account_id)
        if not rows:
            return None
        medical, pension, updated = rows[0]
        return Balances(account_id, medical, pension, updated)

    def recent_spending(self, account_id: int, limit: int = 3) -> list[Spending]:
        """The latest ``limit`` medical-account payments, newest first."""
        rows = self._read(_SPENDING, account_id=account_id, limit=int(limit))
        return [Spending(*r) for r in rows]

    # -- logging in -----------------------------------------------------------------------------

    def id_reference(self, id_number: str) -> str:
        """An opaque, signed reference to the ID number a caller keyed, for the call state to
        carry from the ID-number step to the password step instead of the number itself.

        Pass it to :meth:`verify_reference`. It holds an account id or, for a number without an
        account, a keyed hash of it; the call state is server side, and the caller hears the same
        either way.
        """
        number = normalise(id_number)
        with self._connect() as s:
            account_id = execute(s, _ACCOUNT_BY_ID_NUMBER, {"id_number": number}).scalar_one_or_none()
        if account_id is not None:
            payload = f"a{account_id}"
        else:
            payload = f"u{self._keyed_hash('id', number)}"
        return f"{payload}.{self._keyed_hash('ref', payload)[:32]}"

    def _resolve(self, reference: str) -> tuple[str, object]:
        """("a", account id) or ("u", unknown-ID key); a forged or garbled reference is an
        unknown ID of its own."""
        payload, _, sig = (reference or "").rpartition(".")
        if payload and hmac.compare_digest(sig, self._keyed_hash("ref", payload)[:32]):
            if payload[0] == "a" and payload[1:].isdigit():
                return "a", int(payload[1:])
            if payload[0] == "u":
                return "u", payload[1:]
        return "u", self._keyed_hash("bad-ref", reference or "")

    def verify(self, id_number: str, password: str, caller: str | None = None) -> LoginResult:
        """Check an ID number and password (see :meth:`verify_reference`)."""
        return self.verify_reference(self.id_reference(id_number), password, caller=caller)

    def verify_reference(self, reference: str, password: str, caller: str | None = None
                         ) -> LoginResult:
        """Check a password against the ID number behind ``reference`` (:meth:`id_reference`).

        An unknown ID number and a wrong password give the same result, with the same countdown
        and the same lock (kept in ``unknown_id_failures``), and cost the same hash check.
        ``max_attempts`` consecutive wrong passwords, across calls, lock the account for
        ``lock_hours``; a locked account refuses even the right password until then. Success
        resets the counter. With ``caller`` (the calling number), wrong attempts also count
        against that number, and a blocked number is refused before any check.
        """
        now = self.now()
        # Reserve the attempt before the slow hash, atomically: concurrent tries from one number
        # cannot all pass a check made before any of them is counted.
        reserved, window, before = self._reserve(self._caller_hash(caller) if caller else None, now)
        if isinstance(reserved, dt.datetime):
            log.info("login refused: caller over limit")
            return LoginResult(LOGIN_CALLER_LIMITED, locked_until=reserved)
        if before >= self.login_budget and self.login_budget_delay > 0:
            log.warning("global failed-login budget spent (%d in this window): slowing logins", before)
            self._sleep(self.login_budget_delay)
        kind, key = self._resolve(reference)
        password = password if isinstance(password, str) else ""
        for _ in range(5):
            # a success gives back what was reserved for a failure, in its own transaction
            result = self._verify_once(kind, key, password, now, (window, reserved))
            if result is not None:
                break
        else:  # the password hash kept changing under us: count a failed attempt
            result = (self._account_failure(key, now) if kind == "a"
                      else self._unknown_failure(key, now))
        log.info("login %s (%s)", result.status,
                 f"account {key}" if kind == "a" else "no such account")
        return result

    def _verify_once(self, kind: str, key, password: str, now: dt.datetime, reserved: tuple
                     ) -> LoginResult | None:
        row = phantom = None
        with self._connect() as s:
            if kind == "a":
                row = execute(s, _LOGIN_ROW, {"account_id": key}).first()
                if row is None:   # deleted since the reference was made
                    kind, key = "u", self._keyed_hash("gone", str(key))
            if kind == "u":
                phantom = execute(s, _UNKNOWN_LOCK, {"id_hash": key}).first()
        self._end_read()   # no transaction stays open through the hash check
        if row is None:
            if phantom is not None and phantom.locked_until and phantom.locked_until > now:
                return LoginResult(LOGIN_LOCKED, locked_until=phantom.locked_until)
            _check_password(self._dummy_hash, password)
            return self._unknown_failure(key, now)
        if row.locked_until is not None and row.locked_until > now:
            return LoginResult(LOGIN_LOCKED, locked_until=row.locked_until)
        if _check_password(row.password_hash, password):
            return self._success(row, password, now, reserved)
        return self._account_failure(row.id, now)

    def _success(self, row, password: str, now: dt.datetime, reserved: tuple) -> LoginResult | None:
        """Reset the account's counter and give back the reservation (``_reserve``'s window and
        caller), in one transaction; None when the account changed since ``row`` was read."""
        params = {"account_id": row.id, "old_hash": row.password_hash, "now": now}
        stmt = _LOGIN_OK
        if row.password_hash.split("$", 1)[0] != self._hash_prefix:   # upgrade a weaker hash
            stmt, params["new_hash"] = _LOGIN_OK_REHASH, hash_password(password, self.hash_method)
        with self._begin() as s:
            res = execute(s, stmt, params)
            if res.rowcount == 1:
                self._refund(s, *reserved)
        if res.rowcount != 1:
            return None   # locked or password changed meanwhile: look again
        return LoginResult(LOGIN_OK, account_id=row.id,
                           password_is_initial=bool(row.password_is_initial))

    def _failure_values(self, table, now: dt.datetime) -> dict:
        """New counter and lock for one more wrong password, as SQL on the row's old values:
        an expired lock starts the count again at 1."""
        expired = and_(table.locked_until.is_not(None), table.locked_until <= now)
        count = case((expired, 1), else_=table.failed_attempts + 1)
        lock = case((count >= self.max_attempts, _ts(now + self.lock)),
                    else_=literal(None, UTCDateTime()))
        return {"failed_attempts": count, "locked_until": lock}

    def _failed(self, count: int, locked_until) -> LoginResult:
        if locked_until is not None:
            return LoginResult(LOGIN_LOCKED, locked_until=locked_until, just_locked=True)
        return LoginResult(LOGIN_BAD, attempts_left=self.max_attempts - count)

    def _account_failure(self, account_id: int, now: dt.datetime) -> LoginResult:
        with self._begin() as s:
            row = s.execute(update(Account)
                            .where(Account.id == account_id,
                                   _not_locked(Account.locked_until, now))
                            .values(**self._failure_values(Account, now))
                            .returning(Account.failed_attempts, Account.locked_until)
                            .execution_options(synchronize_session=False)).first()
            if row is None:   # someone else's attempt locked it a moment ago
                until = s.execute(select(Account.locked_until)
                                  .where(Account.id == account_id)).scalar_one()
                return LoginResult(LOGIN_LOCKED, locked_until=until)
        return self._failed(row.failed_attempts, row.locked_until)

    def _unknown_failure(self, key: str, now: dt.datetime) -> LoginResult:
        t = UnknownIdFailure
        with self._begin() as s:
            insert = _insert_for(s)
            first_lock = now + self.lock if self.max_attempts <= 1 else None
            stmt = insert(t).values(id_hash=key, failed_attempts=1, locked_until=first_lock,
                                    updated_at=now)
            set_ = self._failure_values(t, now)
            set_["updated_at"] = _ts(now)
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.id_hash], set_=set_,
                where=_not_locked(t.locked_until, now),
            ).returning(t.failed_attempts, t.locked_until)
            row = s.execute(stmt).first()
            if row is None:
                until = s.execute(select(t.locked_until).where(t.id_hash == key)).scalar_one()
                return LoginResult(LOGIN_LOCKED, locked_until=until)
        return self._failed(row.failed_attempts, row.locked_until)

    # -- per-caller limit (issue 7) --------------------------------------------------------------

    def _reserve(self, caller_hash: str | None, now: dt.datetime) -> tuple:
        """Count an attempt against the calling number (unless it is at its limit) and in the
        global window, in one transaction: (reserved, window, attempts counted in the window
        before this one). ``reserved`` is the (hash, window start) counted, None without a caller,
        or the end of the number's window (a datetime) when it is blocked (then nothing is
        counted)."""
        window = int(now.timestamp()) // self.login_budget_window
        with self._begin() as s:
            statements = _login_statements(s.dialect)
            reserved = None
            if caller_hash is not None:
                row = execute(s, statements.reserve_caller,
                              {"reserve_hash": caller_hash, "now": now, "cutoff": now - self.caller_window,
                               "max_failures": self.caller_max_failures}).first()
                if row is None:
                    start = execute(s, _CALLER_START, {"caller_hash": caller_hash}).scalar_one()
                    return start + self.caller_window, window, 0
                reserved = caller_hash, row.window_start
            count = execute(s, statements.reserve_budget, {"budget_window": window}).scalar_one()
        return reserved, window, count - 1

    @staticmethod
    def _refund(s, window: int, reserved) -> None:
        # The caller's row before the budget's, as _reserve takes them: two logins from one number
        # (one reserving, one giving back) never wait for each other's row (no deadlock).
        if reserved:
            caller_hash, start = reserved
            execute(s, _REFUND_CALLER, {"refund_hash": caller_hash, "refund_start": start})
        execute(s, _REFUND_BUDGET, {"budget_window": window})

    def caller_status(self, caller: str, *, _now: dt.datetime | None = None) -> CallerStatus:
        """Wrong passwords from this calling number in the current window."""
        now = _now or self.now()
        with self._connect() as s:
            row = execute(s, _CALLER_WINDOW, {"caller_hash": self._caller_hash(caller)}).first()
        if row is None or row.window_start + self.caller_window <= now:
            return CallerStatus(0, self.caller_max_failures, False, None)
        return CallerStatus(row.failures, self.caller_max_failures,
                            row.failures >= self.caller_max_failures,
                            row.window_start + self.caller_window)

    def record_caller_failure(self, caller: str, *, _now: dt.datetime | None = None
                              ) -> CallerStatus:
        """Count one wrong password against a calling number (a window opens at the first)."""
        now = _now or self.now()
        t = CallerFailure
        with self._begin() as s:
            insert = _insert_for(s)
            expired = t.window_start <= now - self.caller_window
            stmt = insert(t).values(caller_hash=self._caller_hash(caller), failures=1,
                                    window_start=now)
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.caller_hash],
                set_={"failures": case((expired, 1), else_=t.failures + 1),
                      "window_start": case((expired, _ts(now)), else_=t.window_start)},
            ).returning(t.failures, t.window_start)
            row = s.execute(stmt).one()
        return CallerStatus(row.failures, self.caller_max_failures,
                            row.failures >= self.caller_max_failures,
                            row.window_start + self.caller_window)

    def purge_expired(self) -> int:
        """Delete lapsed unknown-ID counters and caller windows; returns rows deleted."""
        from sqlalchemy import delete

        now = self.now()
        with self.Session() as s, s.begin():
            a = s.execute(delete(UnknownIdFailure).where(
                or_(UnknownIdFailure.locked_until <= now,
                    and_(UnknownIdFailure.locked_until.is_(None),
                         UnknownIdFailure.updated_at <= now - self.lock))))
            b = s.execute(delete(CallerFailure).where(
                CallerFailure.window_start <= now - self.caller_window))
            c = s.execute(delete(LoginBudget).where(
                LoginBudget.window < int(now.timestamp()) // self.login_budget_window))
        return a.rowcount + b.rowcount + c.rowcount

    # -- changing things ------------------------------------------------------------------------

    def new_password_problem(self, account_id: int, new: str) -> str | None:
        """Pre-check a first entry (before asking for it again): a ``PW_*`` code or None.
        Same rules as :meth:`change_password` except ``mismatch``."""
        with self._connect() as s:
            row = s.execute(select(Account.id_number, Account.password_hash)
                            .where(Account.id == account_id)).first()
        self._end_read()
        if row is None:
            return PW_NO_ACCOUNT
        problem = password_problem(new, None, id_number=row.id_number, policy=self.initial_policy)
        if problem is None and _check_password(row.password_hash, new):
            problem = PW_SAME
        return problem

    def change_password(self, account_id: int, new: str, confirm: str) -> PasswordChangeResult:
        """Set a new 6-digit password; committed before this returns.

        Refused (nothing changes): ``format``, ``initial``, ``from_id``, ``trivial``,
        ``mismatch``, ``same``, ``no_account``. The hash and the "initial" flag change
        in one UPDATE, so two calls changing the same password at once leave one of the two
        passwords, consistently hashed and flagged.
        """
        with self._connect() as s:
            row = s.execute(select(Account.id_number, Account.password_hash)
                            .where(Account.id == account_id)).first()
        self._end_read()
        if row is None:
            return PasswordChangeResult(PW_NO_ACCOUNT)
        problem = password_problem(new, confirm, id_number=row.id_number,
                                   policy=self.initial_policy)
        if problem is None and _check_password(row.password_hash, new):
            problem = PW_SAME
        if problem:
            log.info("password change refused (%s) for account %s", problem, account_id)
            return PasswordChangeResult(problem)
        new_hash = hash_password(new, self.hash_method)
        with self._begin() as s:
            res = s.execute(update(Account).where(Account.id == account_id)
                            .values(password_hash=new_hash, password_is_initial=False,
                                    updated_at=self.now())
                            .execution_options(synchronize_session=False))
        if res.rowcount != 1:
            return PasswordChangeResult(PW_NO_ACCOUNT)
        log.info("password changed for account %s", account_id)
        return PasswordChangeResult(PW_CHANGED)

    def _new_reference(self, now: dt.datetime) -> str:
        """12 digits: the Beijing date YYMMDD, then 6 random digits."""
        return f"{now.astimezone(BEIJING):%y%m%d}{self._rng.randrange(10 ** 6):06d}"

    def report_lost(self, account_id: int) -> LossReportResult:
        """Temporary loss report (临时挂失) of the card's social-security function.

        Stores the time and a new 12-digit reference number and commits before returning. A card
        already reported gives ``already_reported`` with the stored reference and time; of two
        simultaneous reports exactly one stores a reference and the other gets that one back.
        """
        for _ in range(20):
            now = self.now()
            reference = self._new_reference(now)
            try:
                with self._begin() as s:
                    res = s.execute(update(Account)
                                    .where(Account.id == account_id,
                                           Account.card_status == CARD_ACTIVE)
                                    .values(card_status=CARD_REPORTED_LOST,
                                            lost_reported_at=now, lost_reference=reference,
                                            updated_at=now)
                                    .execution_options(synchronize_session=False))
                    if res.rowcount == 1:
                        log.info("card reported lost for account %s", account_id)
                        return LossReportResult(LOSS_REPORTED, reference, now)
                    row = s.execute(select(Account.card_status, Account.lost_reference,
                                           Account.lost_reported_at)
                                    .where(Account.id == account_id)).first()
                if row is None:
                    return LossReportResult(LOSS_NO_ACCOUNT)
                return LossReportResult(LOSS_ALREADY, row.lost_reference, row.lost_reported_at)
            except IntegrityError:
                continue   # reference already used by another card: draw another
        raise RuntimeError("could not draw an unused loss-report reference")

    def account_ids(self, id_numbers: Sequence[str]) -> dict[str, int]:
        """Map ID numbers to account ids (for tests and tools, not the call flow)."""
        keys = [normalise(n) for n in id_numbers]
        with self.Session() as s:
            rows = s.execute(select(Account.id_number, Account.id)
                             .where(Account.id_number.in_(keys))).all()
        return {r.id_number: r.id for r in rows}
