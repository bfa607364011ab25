"""AccountService on SQLite and PostgreSQL: login, lockout, unknown IDs, caller limit,
balances, spending, password change and loss reports, including concurrent calls."""
from __future__ import annotations

import datetime as dt
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text

from ivr.accounts.models import Account, CallerFailure, UnknownIdFailure
from ivr.accounts.service import (LOGIN_BAD, LOGIN_CALLER_LIMITED, LOGIN_LOCKED, LOGIN_OK,
                                  AccountService)

from .conftest import FAST_HASH

ZHANG = "110101199003074573"   # initial password 074573, 3 spending records
LI = "310104198511122035"      # 246810
CHEN = "44010619881203118X"    # 135790
WANG = "440305197206150015"    # 150015 (initial), already reported lost
UNKNOWN = "110101199003070015"  # valid check digit, no account


def account_row(database, account_id) -> Account:
    with database.Session() as s:
        return s.get(Account, account_id)


def run_concurrently(n, fn):
    """Start n calls of fn(i) together (a barrier) and return their results in order."""
    barrier = threading.Barrier(n)

    def call(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(call, range(n)))


# --- logging in ----------------------------------------------------------------------------

def test_login_with_each_demo_password(service, demo):
    for number, password, initial in [(ZHANG, "074573", True), (LI, "246810", False),
                                      (CHEN, "135790", False), (WANG, "150015", True)]:
        result = service.verify(number, password)
        assert result.status == LOGIN_OK and result.ok
        assert result.account_id == demo[number]
        assert result.password_is_initial is initial


def test_x_id_number_keyed_with_star(service, demo):
    assert service.verify("44010619881203118*", "135790").account_id == demo[CHEN]
    assert service.verify("44010619881203118x", "135790").account_id == demo[CHEN]


def test_three_wrong_passwords_lock_for_lock_hours(service, demo, database, clock):
    first = service.verify(ZHANG, "111222")
    second = service.verify(ZHANG, "111223")
    third = service.verify(ZHANG, "111224")
    assert (first.status, first.attempts_left) == (LOGIN_BAD, 2)
    assert (second.status, second.attempts_left) == (LOGIN_BAD, 1)
    assert third.status == LOGIN_LOCKED and third.just_locked
    assert third.locked_until == clock() + dt.timedelta(hours=24)
    # Locked: even the right password is refused, and the lock is on the row.
    again = service.verify(ZHANG, "074573")
    assert again.status == LOGIN_LOCKED and not again.just_locked and again.account_id is None
    row = account_row(database, demo[ZHANG])
    assert row.failed_attempts == 3
    assert row.locked_until == clock() + dt.timedelta(hours=24)


def test_lock_survives_a_new_call_and_a_new_process(make_service, demo):
    first = make_service()
    for _ in range(3):
        first.verify(LI, "000001")
    # A new service object (another worker, or after a restart) sees the lock.
    assert make_service().verify(LI, "246810").status == LOGIN_LOCKED


def test_lock_ends_after_lock_hours(service, demo, clock):
    for _ in range(3):
        service.verify(LI, "999990")
    clock.advance(hours=23, minutes=59)
    assert service.verify(LI, "246810").status == LOGIN_LOCKED
    clock.advance(minutes=1)
    assert service.verify(LI, "246810").ok


def test_expired_lock_starts_a_new_count(service, demo, clock, database):
    for _ in range(3):
        service.verify(LI, "999990")
    clock.advance(hours=25)
    result = service.verify(LI, "999990")
    assert (result.status, result.attempts_left) == (LOGIN_BAD, 2)
    row = account_row(database, demo[LI])
    assert row.failed_attempts == 1 and row.locked_until is None


def test_configurable_lock(make_service, demo, clock):
    service = make_service(lock_hours=2, max_attempts=5)
    results = [service.verify(CHEN, "000111") for _ in range(5)]
    assert [r.attempts_left for r in results[:4]] == [4, 3, 2, 1]
    assert results[4].status == LOGIN_LOCKED
    assert results[4].locked_until == clock() + dt.timedelta(hours=2)


def test_success_resets_the_counter(service, demo, database):
    service.verify(ZHANG, "000111")
    service.verify(ZHANG, "000112")
    assert account_row(database, demo[ZHANG]).failed_attempts == 2
    assert service.verify(ZHANG, "074573").ok
    assert account_row(database, demo[ZHANG]).failed_attempts == 0
    # Two more wrong ones do not lock: the count started again.
    assert service.verify(ZHANG, "000113").attempts_left == 2
    assert service.verify(ZHANG, "000114").attempts_left == 1


def test_wrong_format_counts_as_a_wrong_password(service, demo):
    assert service.verify(ZHANG, "").status == LOGIN_BAD
    assert service.verify(ZHANG, "07457").status == LOGIN_BAD
    assert service.verify(ZHANG, None).status == LOGIN_LOCKED


def sequence(service, number, clock):
    """What a caller observes over 3 wrong passwords, a new call, and the lock's end."""
    seen = []
    for pw in ("123123", "456456", "789789", "000000"):
        r = service.verify(number, pw)
        seen.append((r.status, r.attempts_left, r.just_locked,
                     r.locked_until - clock() if r.locked_until else None, r.account_id))
    clock.advance(hours=24)
    r = service.verify(number, "123123")
    seen.append((r.status, r.attempts_left))
    return seen


def test_unknown_id_is_indistinguishable_from_a_wrong_password(make_service, demo, clock):
    known = sequence(make_service(), LI, clock)
    unknown = sequence(make_service(), UNKNOWN, clock)
    assert unknown == known
    assert known[0] == (LOGIN_BAD, 2, False, None, None)
    assert known[2][0] == LOGIN_LOCKED


def test_unknown_id_lock_persists_across_calls(make_service, demo):
    for _ in range(3):
        make_service().verify(UNKNOWN, "123987")
    assert make_service().verify(UNKNOWN, "123987").status == LOGIN_LOCKED


def test_unknown_ids_are_stored_only_as_keyed_hashes(service, demo, database):
    service.verify(UNKNOWN, "123987")
    with database.Session() as s:
        rows = s.execute(select(UnknownIdFailure)).scalars().all()
        assert len(rows) == 1
        assert UNKNOWN not in rows[0].id_hash and len(rows[0].id_hash) == 64
        # Keyed: a plain SHA-256 of the number is not what is stored.
        import hashlib
        assert rows[0].id_hash != hashlib.sha256(UNKNOWN.encode()).hexdigest()
        assert s.scalar(select(Account.id).where(Account.id_number == UNKNOWN)) is None


def test_id_reference_is_opaque_and_signed(service, demo):
    ref = service.id_reference(ZHANG)
    assert ZHANG not in ref and ZHANG[-6:] not in ref
    assert service.verify_reference(ref, "074573").account_id == demo[ZHANG]
    unknown_ref = service.id_reference(UNKNOWN)
    assert UNKNOWN not in unknown_ref
    assert service.verify_reference(unknown_ref, "074573").status == LOGIN_BAD
    # A forged reference naming another account id is an unknown ID, not a way in.
    forged = f"a{demo[LI]}.{'0' * 32}"
    assert service.verify_reference(forged, "246810").status == LOGIN_BAD
    assert service.verify_reference("", "246810").status == LOGIN_BAD
    assert service.verify_reference("garbage", "246810").status == LOGIN_BAD


def test_reference_signed_with_another_secret_is_refused(make_service, demo):
    ref = make_service(secret="other").id_reference(LI)
    assert make_service().verify_reference(ref, "246810").status == LOGIN_BAD


# --- per-caller limit ----------------------------------------------------------------------

def test_caller_limit_across_calls_and_id_numbers(make_service, demo, clock, database):
    caller = "+8613800138000"
    service = make_service(caller_max_failures=4, caller_window=dt.timedelta(minutes=30))
    numbers = [UNKNOWN, LI, CHEN, "110101199003071130"]
    for n in numbers:
        assert make_service(caller_max_failures=4).verify(n, "111999", caller=caller).status \
            in (LOGIN_BAD, LOGIN_LOCKED)
    status = service.caller_status(caller)
    assert status.failures == 4 and status.blocked
    assert status.retry_at == clock() + dt.timedelta(minutes=30)
    # Blocked: even a right password from that number is refused, and not counted again.
    refused = service.verify(ZHANG, "074573", caller=caller)
    assert refused.status == LOGIN_CALLER_LIMITED and refused.locked_until == status.retry_at
    assert service.caller_status(caller).failures == 4
    # Another number is not affected; the account itself is not locked.
    assert service.verify(ZHANG, "074573", caller="+8613900139000").ok
    clock.advance(minutes=30)
    assert not service.caller_status(caller).blocked
    assert service.verify(ZHANG, "074573", caller=caller).ok
    with database.Session() as s:
        hashes = s.scalars(select(CallerFailure.caller_hash)).all()
    assert all(caller not in h and "13800138000" not in h for h in hashes)


def test_caller_success_does_not_reset_the_caller_count(service, demo):
    caller = "+8613800138001"
    service.verify(UNKNOWN, "111999", caller=caller)
    service.verify(ZHANG, "074573", caller=caller)
    assert service.caller_status(caller).failures == 1


def test_new_window_after_the_old_one(service, demo, clock):
    caller = "+8613800138002"
    service.verify(UNKNOWN, "111999", caller=caller)
    clock.advance(hours=1)
    status = service.record_caller_failure(caller)
    assert status.failures == 1 and status.retry_at == clock() + dt.timedelta(hours=1)


def test_purge_expired(service, demo, clock, database):
    service.verify(UNKNOWN, "111999", caller="+1")
    service.verify("110101199003071130", "111999")
    assert service.purge_expired() == 0
    clock.advance(hours=25)
    assert service.purge_expired() == 4   # + the global budget window (issue 16)
    with database.Session() as s:
        assert s.scalars(select(UnknownIdFailure)).all() == []


# --- hashing -------------------------------------------------------------------------------

def test_passwords_are_salted_hashes(database, demo):
    with database.Session() as s:
        hashes = s.scalars(select(Account.password_hash)).all()
    assert len(set(hashes)) == 4
    for h in hashes:
        assert not any(pw in h for pw in ["074573", "246810", "135790", "150015"])
        method, salt, digest = h.split("$")
        assert method.startswith("pbkdf2") and len(salt) >= 16


def test_cheap_hash_upgraded_on_login(database, demo, clock):
    strong = AccountService(database.Session, now=clock)   # scrypt, the default
    assert strong.verify(LI, "246810").ok
    with database.Session() as s:
        h = s.scalar(select(Account.password_hash).where(Account.id_number == LI))
    assert h.startswith("scrypt:")
    assert strong.verify(LI, "246810").ok
    assert strong.verify(LI, "246811").status == LOGIN_BAD


def test_malformed_stored_hash_never_logs_in(service, demo, database):
    with database.Session() as s, s.begin():
        s.get(Account, demo[LI]).password_hash = "not-a-hash"
    assert service.verify(LI, "246810").status == LOGIN_BAD


# --- reading -------------------------------------------------------------------------------

def test_balances_of_each_demo_account(service, demo):
    expected = {ZHANG: (123456, 4567890), LI: (0, 10240000), CHEN: (8808, 999999),
                WANG: (56000, 300000)}
    for number, (medical, pension) in expected.items():
        b = service.balances(demo[number])
        assert (b.medical_fen, b.pension_fen) == (medical, pension)
        assert b.account_id == demo[number] and b.as_of.tzinfo is not None
    assert service.balances(999_999) is None


def test_recent_spending_newest_first(service, demo, database):
    records = service.recent_spending(demo[ZHANG])
    assert [r.spent_on for r in records] == [dt.date(2026, 11, 18), dt.date(2026, 11, 9),
                                             dt.date(2026, 10, 27)]
    assert [r.amount_fen for r in records] == [8650, 2380, 15800]
    assert records[0].place("zh-CN") == "北京协和医院"
    assert records[0].place("en-US") == "Peking Union Medical College Hospital"
    assert len(service.recent_spending(demo[ZHANG], limit=2)) == 2
    assert service.recent_spending(demo[LI]) == []


def test_recent_spending_takes_the_latest_three(service, demo, database):
    from ivr.accounts.models import SpendingRecord
    with database.Session() as s, s.begin():
        for day in (1, 20, 3, 25):
            s.add(SpendingRecord(account_id=demo[ZHANG], spent_on=dt.date(2026, 11, day),
                                 place_zh="某药店", place_en="A pharmacy", amount_fen=day))
    records = service.recent_spending(demo[ZHANG])
    assert [r.spent_on.day for r in records] == [25, 20, 18]


def test_lookup_and_get(service, demo):
    info = service.lookup("44010619881203118*")
    assert info.id == demo[CHEN] and info.masked_id == "4401**********118X"
    assert info.name == "陈静" and info.city == "广州市" and len(info.card_number) == 9
    assert service.lookup(UNKNOWN) is None
    lost = service.get(demo[WANG])
    assert lost.card_status == "reported_lost" and lost.lost_reference == "261120004173"
    assert service.get(123456789) is None
    assert "440305197206150015" not in repr(account_row_any(service))


def account_row_any(service):
    with service.Session() as s:
        return s.scalars(select(Account)).first()


# --- password change -----------------------------------------------------------------------

@pytest.mark.parametrize("new,confirm,code", [
    ("246813", "246814", "mismatch"),
    ("24681", "24681", "format"), ("2468133", "2468133", "format"), ("24681a", "24681a", "format"),
    ("", "", "format"), ("２４６８１３", "２４６８１３", "format"),
    ("074573", "074573", "initial"),
    ("900307", "900307", "from_id"),            # birth date YYMMDD
    ("000000", "000000", "trivial"), ("123456", "123456", "trivial"),
    ("111111", "111111", "trivial"), ("654321", "654321", "trivial"),
    ("999999", "999999", "trivial"), ("345678", "345678", "trivial"),
    ("987654", "987654", "trivial"), ("890123", "890123", "trivial"),
    ("121212", "121212", "trivial"), ("123123", "123123", "trivial"),
    ("147258", "147258", "trivial"),
])
def test_change_password_refusals(service, demo, database, new, confirm, code):
    before = account_row(database, demo[ZHANG]).password_hash
    result = service.change_password(demo[ZHANG], new, confirm)
    assert result.code == code and not result.ok
    assert account_row(database, demo[ZHANG]).password_hash == before
    assert service.verify(ZHANG, "074573").ok


def test_change_password_refuses_the_current_one(service, demo):
    assert service.change_password(demo[LI], "246810", "246810").code == "same"
    assert service.new_password_problem(demo[LI], "246810") == "same"


def test_change_password_commits(make_service, demo, database):
    service = make_service()
    result = service.change_password(demo[ZHANG], "583920", "583920")
    assert result.ok and result.code == "changed"
    # Visible at once to a new service (another worker).
    other = make_service()
    assert other.verify(ZHANG, "074573").status == LOGIN_BAD
    assert other.verify(ZHANG, "583920").ok
    row = account_row(database, demo[ZHANG])
    assert row.password_is_initial is False
    assert "583920" not in row.password_hash
    assert other.get(demo[ZHANG]).password_is_initial is False


def test_new_password_problem_before_the_second_entry(service, demo):
    assert service.new_password_problem(demo[ZHANG], "123456") == "trivial"
    assert service.new_password_problem(demo[ZHANG], "074573") == "initial"
    assert service.new_password_problem(demo[ZHANG], "583920") is None
    assert service.new_password_problem(424242, "583920") == "no_account"
    assert service.change_password(424242, "583920", "583920").code == "no_account"


def test_fixed_initial_password_policy(make_service, database):
    from ivr.accounts.seed import seed_demo
    seed_demo(database.Session, initial_password="802413", hash_method=FAST_HASH)
    service = make_service(initial_password=802413)     # as IVR_INITIAL_PASSWORD=802413 parses
    zhang = service.verify(ZHANG, "802413")
    assert zhang.ok and zhang.password_is_initial
    assert service.verify(LI, "246810").ok                # explicit demo passwords stay
    assert service.change_password(zhang.account_id, "802413", "802413").code == "initial"
    assert service.new_password_problem(zhang.account_id, "802413") == "initial"
    # Under a fixed policy the last 6 of the ID are still refused (guessable).
    assert service.change_password(zhang.account_id, "074573", "074573").code == "from_id"


@pytest.mark.parametrize("policy", ["12345", "abcdef", "", None, 12345, "id_last8", True])
def test_bad_initial_password_policy(database, policy):
    with pytest.raises(ValueError):
        AccountService(database.Session, initial_password=policy, hash_method=FAST_HASH)


def test_x_id_initial_password_reads_x_as_zero(service):
    assert service.initial_password_for("44010619881203118X") == "031180"
    assert service.initial_password_for("44010619881203118*") == "031180"


# --- loss reports --------------------------------------------------------------------------

def test_report_lost_stores_time_and_reference(make_service, demo, clock, database):
    service = make_service()
    result = service.report_lost(demo[LI])
    assert result.code == "reported" and result.ok
    assert result.reported_at == clock()
    assert len(result.reference) == 12 and result.reference.isdigit()
    assert result.reference.startswith("261125")       # Beijing date of the report
    row = account_row(database, demo[LI])
    assert row.card_status == "reported_lost"
    assert row.lost_reference == result.reference and row.lost_reported_at == clock()
    clock.advance(hours=3)
    again = make_service().report_lost(demo[LI])
    assert again.code == "already_reported" and again.ok
    assert again.reference == result.reference
    assert again.reported_at == result.reported_at


def test_demo_card_already_reported(service, demo):
    result = service.report_lost(demo[WANG])
    assert result.code == "already_reported"
    assert result.reference == "261120004173"
    assert result.reported_at == dt.datetime(2026, 11, 20, 1, 15, tzinfo=dt.timezone.utc)


def test_report_lost_unknown_account(service, demo):
    assert service.report_lost(987654).code == "no_account"


def test_reference_collision_draws_again(make_service, demo, database):
    class Repeating(random.Random):
        """Draws 4173 twice (taken by the demo card on 261120), then 5555."""
        def __init__(self):
            super().__init__()
            self.values = [4173, 4173, 5555]

        def randrange(self, *a, **k):
            return self.values.pop(0)

    clock = lambda: dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc)  # noqa: E731
    service = make_service(rng=Repeating(), now=clock)
    result = service.report_lost(demo[LI])
    assert result.reference == "261120005555"


# --- concurrency ---------------------------------------------------------------------------

def test_concurrent_loss_reports_end_with_one_reference(make_service, demo, database):
    services = [make_service() for _ in range(6)]
    results = run_concurrently(6, lambda i: services[i].report_lost(demo[CHEN]))
    assert sorted(r.code for r in results) == ["already_reported"] * 5 + ["reported"]
    assert len({r.reference for r in results}) == 1
    assert account_row(database, demo[CHEN]).lost_reference == results[0].reference


def test_concurrent_wrong_passwords_count_exactly(make_service, demo, database):
    services = [make_service() for _ in range(6)]
    results = run_concurrently(6, lambda i: services[i].verify(CHEN, f"00011{i}"))
    statuses = sorted((r.status, r.attempts_left, r.just_locked) for r in results)
    assert statuses == [(LOGIN_BAD, 1, False), (LOGIN_BAD, 2, False),
                        (LOGIN_LOCKED, None, False), (LOGIN_LOCKED, None, False),
                        (LOGIN_LOCKED, None, False), (LOGIN_LOCKED, None, True)]
    row = account_row(database, demo[CHEN])
    assert row.failed_attempts == 3 and row.locked_until is not None


def test_concurrent_unknown_id_attempts_count_exactly(make_service, demo, database):
    services = [make_service() for _ in range(5)]
    results = run_concurrently(5, lambda i: services[i].verify(UNKNOWN, f"00011{i}"))
    assert sum(r.just_locked for r in results) == 1
    assert sorted(r.attempts_left for r in results if r.status == LOGIN_BAD) == [1, 2]


def test_concurrent_caller_failures_count_exactly(make_service, demo):
    services = [make_service() for _ in range(8)]
    run_concurrently(8, lambda i: services[i].record_caller_failure("+8613700000000"))
    assert services[0].caller_status("+8613700000000").failures == 8


def test_concurrent_password_changes_leave_one_consistent_password(make_service, demo, database):
    services = [make_service() for _ in range(2)]
    choices = ["583920", "731046"]
    results = run_concurrently(2, lambda i: services[i].change_password(demo[LI], choices[i],
                                                                        choices[i]))
    assert all(r.ok for r in results)
    works = [services[0].verify(LI, pw).ok for pw in choices]
    assert works.count(True) == 1
    assert account_row(database, demo[LI]).password_is_initial is False


def test_login_and_lock_race_for_one_account(make_service, demo, database):
    # Three wrong attempts and one right one at once. In whatever order they ran, the record
    # agrees with what the callers were told: locked exactly when one attempt was told it
    # locked the account, and then the count is 3.
    services = [make_service() for _ in range(4)]
    passwords = ["000111", "000112", "000113", "246810"]
    results = run_concurrently(4, lambda i: services[i].verify(LI, passwords[i]))
    row = account_row(database, demo[LI])
    locked = row.locked_until is not None
    assert sum(r.just_locked for r in results) == (1 if locked else 0)
    assert (row.failed_attempts == 3) == locked
    told = sorted(("lock" if r.just_locked else r.attempts_left for r in results[:3]), key=str)
    if results[3].ok:
        # The success reset the count: k wrong ones ran after it (the row's count), 3-k before.
        k = row.failed_attempts
        assert told == sorted([2, 1][:3 - k] + [2, 1, "lock"][:k], key=str)
    else:
        # It came after all three, which had locked the account.
        assert results[3].status == LOGIN_LOCKED and locked
        assert told == sorted([2, 1, "lock"], key=str)


# --- config --------------------------------------------------------------------------------

def test_from_config(database):
    config = {"LOCK_HOURS": 12, "MAX_PASSWORD_ATTEMPTS": 4, "INITIAL_PASSWORD": "id_last6",
              "SECRET_KEY": "s", "NOW": "2026-11-25T10:00:00+08:00"}
    service = AccountService.from_config(config, database.Session, hash_method=FAST_HASH)
    assert service.lock == dt.timedelta(hours=12) and service.max_attempts == 4
    assert service.now() == dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.timezone.utc)
    naive = AccountService.from_config(dict(config, NOW="2026-11-25T10:00:00"),
                                       database.Session, hash_method=FAST_HASH)
    assert naive.now() == service.now()      # a naive NOW is Beijing time
    live = AccountService.from_config(dict(config, NOW=None), database.Session,
                                      hash_method=FAST_HASH)
    assert abs(live.now() - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)


def test_clock_must_be_aware(database):
    service = AccountService(database.Session, hash_method=FAST_HASH,
                             now=lambda: dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        service.verify(ZHANG, "074573")


def test_timestamps_are_stored_as_utc_whatever_the_session_time_zone(database, demo, clock):
    from ivr.hotline.db import Database

    url = database.url
    if database.engine.dialect.name == "postgresql":
        url += "%20-ctimezone%3DAmerica%2FNew_York"   # a session in another time zone
    other = Database(url)
    try:
        service = AccountService(other.Session, now=clock, hash_method=FAST_HASH)
        result = service.report_lost(demo[LI])
        assert result.reported_at == clock()
        with other.engine.connect() as conn:
            if database.engine.dialect.name == "postgresql":
                assert conn.exec_driver_sql("SHOW TIME ZONE").scalar() == "America/New_York"
            raw = conn.execute(text("SELECT lost_reported_at FROM accounts WHERE id = :i"),
                               {"i": demo[LI]}).scalar()
        # 2026-11-25 02:00 UTC, stored without a zone.
        assert str(raw).startswith("2026-11-25 02:00:00")
        assert AccountService(database.Session, hash_method=FAST_HASH).get(demo[LI]) \
            .lost_reported_at == clock()
    finally:
        other.dispose()


def test_a_login_is_two_transactions_and_a_success_gives_back_its_reservation(service, demo, database):
    """The attempt is counted (per number and globally) in one transaction before the hash check;
    a success resets the account's counter and gives both counts back in one more (issue 17)."""
    from sqlalchemy import event

    from ivr.accounts.models import LoginBudget

    commits = []

    def count(conn):
        commits.append(1)

    caller = "+8613800138009"
    event.listen(database.engine, "commit", count)
    try:
        assert service.verify(ZHANG, "074573", caller=caller).ok
        assert len(commits) == 2
        assert service.verify(ZHANG, "111999", caller=caller).status == LOGIN_BAD
    finally:
        event.remove(database.engine, "commit", count)
    with database.Session() as s:
        assert s.scalars(select(LoginBudget.failures)).all() == [1]   # the success's count given back
    assert service.caller_status(caller).failures == 1


def test_concurrent_logins_from_one_number_neither_deadlock_nor_miscount(make_service, demo, database):
    """Reservations and give-backs of one number and one budget window, all at once: every login
    answers (no deadlock between a reservation and a give-back), and what stays counted is the
    wrong passwords alone."""
    from ivr.accounts.models import LoginBudget

    caller = "+8613800138077"
    services = [make_service(caller_max_failures=100) for _ in range(8)]
    logins = [(LI, "246810"), (UNKNOWN, "111999")] * 4   # 4 right, 4 unknown IDs
    for _ in range(3):
        results = run_concurrently(8, lambda i: services[i].verify(logins[i][0], logins[i][1], caller=caller))
        assert [r.ok for r in results] == [True, False] * 4
        assert {r.status for r in results[1::2]} <= {LOGIN_BAD, LOGIN_LOCKED}   # the unknown ID locks
    assert services[0].caller_status(caller).failures == 12
    with database.Session() as s:
        assert s.scalars(select(LoginBudget.failures)).all() == [12]
