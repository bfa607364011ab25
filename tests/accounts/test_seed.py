"""Seeding: the demo accounts exactly as issue 3 lists them, and deterministic bulk accounts."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from ivr.accounts.idnumber import check_id
from ivr.accounts.models import Account, SpendingRecord
from ivr.accounts.seed import (DEMO_ACCOUNTS, DEMO_ID_NUMBERS, count_accounts, seed_bulk,
                               seed_demo)
from ivr.accounts.service import AccountService

from .conftest import FAST_HASH

# The table in issue 3.
ISSUE_TABLE = {
    "110101199003074573": ("074573", True, 1234_56, 45678_90, 3, "active"),
    "310104198511122035": ("246810", False, 0, 102400_00, 0, "active"),
    "44010619881203118X": ("135790", False, 88_08, 9999_99, 0, "active"),
    "440305197206150015": ("150015", True, 560_00, 3000_00, 0, "reported_lost"),
}


def rows(database):
    with database.Session() as s:
        return {a.id_number: a for a in s.scalars(select(Account))}


def test_demo_accounts_match_the_issue(database, make_service):
    report = seed_demo(database.Session, hash_method=FAST_HASH)
    assert (report.inserted, report.skipped, report.spending) == (4, 0, 3)
    accounts = rows(database)
    assert set(accounts) == set(ISSUE_TABLE) == DEMO_ID_NUMBERS
    service = make_service()
    for number, (password, initial, medical, pension, spends, status) in ISSUE_TABLE.items():
        a = accounts[number]
        assert check_id(number).ok
        assert (a.medical_fen, a.pension_fen, a.card_status) == (medical, pension, status)
        assert a.password_is_initial is initial
        assert a.failed_attempts == 0 and a.locked_until is None
        assert len(a.card_number) == 9 and a.name and a.city
        assert password not in a.password_hash
        login = service.verify(number, password)
        assert login.ok and login.password_is_initial is initial
        assert len(service.recent_spending(login.account_id, limit=10)) == spends
    lost = accounts["440305197206150015"]
    assert lost.lost_reference == "261120004173" and lost.lost_reported_at is not None
    assert all(a.lost_reference is None for n, a in accounts.items() if n != lost.id_number)


def test_demo_spending_is_in_beijing(database, make_service):
    seed_demo(database.Session, hash_method=FAST_HASH)
    service = make_service()
    records = service.recent_spending(service.lookup("110101199003074573").id)
    assert all(("北京" in r.place_zh) or ("协和" in r.place_zh) for r in records)
    assert all(r.amount_fen > 0 for r in records)


def test_demo_seed_is_idempotent(database):
    seed_demo(database.Session, hash_method=FAST_HASH)
    again = seed_demo(database.Session, hash_method=FAST_HASH)
    assert (again.inserted, again.skipped, again.spending) == (0, 4, 0)
    with database.Session() as s:
        assert s.scalar(select(func.count()).select_from(Account)) == 4
        assert s.scalar(select(func.count()).select_from(SpendingRecord)) == 3


def test_demo_seed_keeps_changes_unless_reset(database, make_service):
    seed_demo(database.Session, hash_method=FAST_HASH)
    service = make_service()
    li = service.lookup("310104198511122035").id
    assert service.change_password(li, "583920", "583920").ok
    assert service.report_lost(li).code == "reported"
    seed_demo(database.Session, hash_method=FAST_HASH)
    assert service.verify("310104198511122035", "583920").ok
    report = seed_demo(database.Session, hash_method=FAST_HASH, reset=True)
    assert report.inserted == 4
    assert service.verify("310104198511122035", "246810").ok
    assert service.lookup("310104198511122035").card_status == "active"
    with database.Session() as s:
        assert s.scalar(select(func.count()).select_from(SpendingRecord)) == 3


def test_demo_uses_a_strong_hash_by_default(database):
    seed_demo(database.Session)
    assert all(a.password_hash.startswith("scrypt:") for a in rows(database).values())


def test_bulk_accounts(database, make_service):
    seed_demo(database.Session, hash_method=FAST_HASH)
    report = seed_bulk(database.Session, 500, 11, batch_size=64, hash_method=FAST_HASH)
    assert report.inserted == 500 and report.skipped == 0
    accounts = rows(database)
    bulk = {n: a for n, a in accounts.items() if n not in DEMO_ID_NUMBERS}
    assert len(bulk) == 500
    with database.Session() as s:
        assert s.scalar(select(func.count()).select_from(SpendingRecord)) == 3 + report.spending
        per_account = dict(s.execute(select(SpendingRecord.account_id, func.count())
                                     .group_by(SpendingRecord.account_id)).all())
    assert max(per_account.values()) <= 3
    service = make_service()
    for number, a in list(bulk.items())[:20]:
        assert check_id(number).ok
        assert a.password_is_initial and a.card_status == "active"
        assert a.password_hash.startswith(FAST_HASH + "$")
        assert 0 <= a.medical_fen and 0 <= a.pension_fen
        assert service.verify(number, service.initial_password_for(number)).ok
    sexes = {int(n[16]) % 2 for n in bulk}
    assert sexes == {0, 1}


def test_bulk_is_deterministic_and_idempotent(tmp_path):
    from ivr.hotline.db import Database
    from ivr.accounts.models import Base as AccountsBase

    def build(name, count, seed):
        db = Database(f"sqlite:///{tmp_path / name}")
        AccountsBase.metadata.create_all(db.engine)
        seed_bulk(db.Session, count, seed, batch_size=100, hash_method=FAST_HASH)
        with db.Session() as s:
            data = s.execute(select(Account.id_number, Account.name, Account.card_number,
                                    Account.city, Account.medical_fen, Account.pension_fen)
                             .order_by(Account.id)).all()
            spends = s.execute(select(SpendingRecord.spent_on, SpendingRecord.place_zh,
                                      SpendingRecord.amount_fen).order_by(SpendingRecord.id)).all()
        return db, data, spends

    now = dt.datetime.now(dt.timezone.utc)
    db_a, a, spends_a = build("a.sqlite3", 300, 5)
    _, b, spends_b = build("b.sqlite3", 300, 5)
    _, c, _ = build("c.sqlite3", 300, 6)
    assert a == b and spends_a == spends_b
    assert {r.id_number for r in a}.isdisjoint({r.id_number for r in c})
    rerun = seed_bulk(db_a.Session, 300, 5, batch_size=77, hash_method=FAST_HASH)
    assert (rerun.inserted, rerun.skipped, rerun.spending) == (0, 300, 0)
    grown = seed_bulk(db_a.Session, 350, 5, batch_size=77, hash_method=FAST_HASH)
    assert (grown.inserted, grown.skipped) == (50, 300)
    assert count_accounts(db_a.Session) == 350
    assert now  # (the clock only dates the spending window)


def test_bulk_without_spending_and_fixed_policy(database):
    report = seed_bulk(database.Session, 120, 3, spending=False, initial_password="802413",
                       hash_method=FAST_HASH)
    assert (report.inserted, report.spending) == (120, 0)
    service = AccountService(database.Session, initial_password="802413", hash_method=FAST_HASH)
    number = next(iter(rows(database)))
    assert service.verify(number, "802413").ok


def test_bulk_skips_demo_numbers_and_refuses_nonsense(database):
    seed_demo(database.Session, hash_method=FAST_HASH)
    seed_bulk(database.Session, 50, 1, hash_method=FAST_HASH)
    assert count_accounts(database.Session) == 54
    with pytest.raises(ValueError):
        seed_bulk(database.Session, -1, 1, hash_method=FAST_HASH)
    with pytest.raises(ValueError):
        seed_bulk(database.Session, 1, 1, batch_size=0, hash_method=FAST_HASH)
    with pytest.raises(ValueError):
        seed_bulk(database.Session, 1, 1, initial_password="12", hash_method=FAST_HASH)


def test_progress_is_reported_per_batch(database):
    seen = []
    seed_bulk(database.Session, 250, 2, batch_size=100, progress=lambda d, t: seen.append((d, t)), hash_method=FAST_HASH)
    assert seen == [(100, 250), (200, 250), (250, 250)]


# --- CLI -----------------------------------------------------------------------------------

def test_cli_is_registered():
    from ivr.cli import main
    assert set(main.commands["db"].commands) == {"init", "seed"}


def test_cli_init_and_seed(database):
    from ivr.cli.db import db_group

    runner = CliRunner()
    obj = {"db": database, "config": {"INITIAL_PASSWORD": "id_last6", "PASSWORD_HASH": FAST_HASH}}
    result = runner.invoke(db_group, ["init"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "schema ready" in result.output
    result = runner.invoke(db_group, ["seed"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "demo accounts: 4 added, 0 already there" in result.output
    result = runner.invoke(db_group, ["seed", "--accounts", "40", "--seed", "9"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "demo accounts: 0 added, 4 already there" in result.output
    assert "made-up accounts (seed 9): 40 added, 0 already there" in result.output
    assert "44 accounts in" in result.output
    result = runner.invoke(db_group, ["seed", "--accounts", "40", "--seed", "9"], obj=obj)
    assert "40 already there" in result.output
    assert count_accounts(database.Session) == 44
    assert "password" not in database.url.lower() or "***" in result.output


def test_cli_reset_demo_and_validation(database):
    from ivr.cli.db import db_group

    obj = {"db": database, "config": {"PASSWORD_HASH": FAST_HASH}}
    runner = CliRunner()
    runner.invoke(db_group, ["seed"], obj=obj)
    with database.Session() as s, s.begin():
        a = s.scalar(select(Account).where(Account.id_number == "310104198511122035"))
        a.medical_fen = 1
    result = runner.invoke(db_group, ["seed", "--reset-demo"], obj=obj)
    assert "demo accounts: 4 added" in result.output
    assert rows(database)["310104198511122035"].medical_fen == 0
    bad = runner.invoke(db_group, ["seed", "--accounts", "-5"], obj=obj)
    assert bad.exit_code == 2


def test_cli_never_prints_demo_passwords_or_full_ids(database):
    from ivr.cli.db import db_group

    result = CliRunner().invoke(db_group, ["seed", "--accounts", "5"],
                                obj={"db": database, "config": {"PASSWORD_HASH": FAST_HASH}})
    for number, (password, *_rest) in ISSUE_TABLE.items():
        assert number not in result.output and password not in result.output


def test_demo_table_documented_once():
    assert len(DEMO_ACCOUNTS) == 4 and len(DEMO_ID_NUMBERS) == 4


@pytest.mark.parametrize("method", ["pbkdf2:sha256:1", "pbkdf2:sha512:3", "pbkdf2:sha256:1000"])
def test_bulk_hasher_matches_werkzeug(method):
    from werkzeug.security import check_password_hash

    from ivr.accounts.seed import bulk_hasher

    hasher = bulk_hasher(method)
    hashes = {hasher("074573") for _ in range(50)}
    assert len(hashes) == 50                       # a fresh salt each time
    for h in hashes:
        assert h.startswith(method + "$")
        salt = h.split("$")[1]
        assert len(salt) == 16 and salt.isalnum()
        assert check_password_hash(h, "074573")
        assert not check_password_hash(h, "074574")


def test_bulk_hasher_other_methods_go_through_werkzeug():
    from werkzeug.security import check_password_hash

    from ivr.accounts.seed import bulk_hasher

    h = bulk_hasher("scrypt:1024:8:1")("246810")
    assert h.startswith("scrypt:1024:8:1$") and check_password_hash(h, "246810")


def test_bulk_rows_stored_exactly(database):
    """What each backend stores (PostgreSQL through COPY) is exactly what was generated."""
    from ivr.accounts.seed import _bulk_rows

    now = dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    seed_bulk(database.Session, 60, 4, batch_size=25, now=now, hash_method=FAST_HASH)
    expected = list(_bulk_rows(60, 4, "id_last6", now, dt.date(2026, 11, 25)))
    with database.Session() as s:
        stored = {a.id_number: a for a in s.scalars(select(Account))}
        spends = {}
        for r in s.scalars(select(SpendingRecord).order_by(SpendingRecord.id)):
            spends.setdefault(r.account_id, []).append(
                {"spent_on": r.spent_on, "place_zh": r.place_zh, "place_en": r.place_en,
                 "amount_fen": r.amount_fen})
        assert len(stored) == 60
        for row, row_spends in expected:
            a = stored[row["id_number"]]
            for key in ("card_number", "name", "city", "password_is_initial", "failed_attempts",
                        "locked_until", "card_status", "lost_reported_at", "lost_reference",
                        "medical_fen", "pension_fen"):
                assert getattr(a, key) == row[key], key
            assert a.updated_at == now          # an aware instant, stored as UTC
            assert a.password_hash.startswith(FAST_HASH + "$")
            assert spends.get(a.id, []) == row_spends


def test_every_generator_city_has_an_english_name():
    from ivr.accounts.idnumber import REGIONS
    from ivr.accounts.seed import _CITY_EN

    assert {city for _, city in REGIONS} <= set(_CITY_EN)


def test_cli_seed_tells_the_made_up_logins_and_they_log_in(database, tmp_path):
    import csv

    from ivr.cli.db import db_group
    from werkzeug.security import check_password_hash as check_password

    runner = CliRunner()
    obj = {"db": database, "config": {"INITIAL_PASSWORD": "id_last6"}}
    result = runner.invoke(db_group, ["seed", "--accounts", "3", "--seed", "1"], obj=obj)
    assert result.exit_code == 0, result.output
    shown = [line.split() for line in result.output.splitlines() if line.startswith("  ID number ")]
    assert len(shown) == 3
    out = tmp_path / "logins.csv"
    result = runner.invoke(db_group, ["seed", "--accounts", "12", "--seed", "1", "--out", str(out)], obj=obj)
    assert result.exit_code == 0 and "12 written to" in result.output
    assert "ID number" not in result.output and (out.stat().st_mode & 0o777) == 0o600
    with open(out, newline="", encoding="utf-8") as fh:
        rows_ = list(csv.DictReader(fh))
    assert len(rows_) == 12
    assert [(r["id_number"], r["password"]) for r in rows_[:3]] == [(s[2], s[4]) for s in shown]
    stored = rows(database)
    for r in rows_:      # every printed login is a real account whose password is the printed one
        assert check_password(stored[r["id_number"]].password_hash, r["password"])


def test_bulk_accounts_get_the_configured_cost_one_hash_per_distinct_password(database):
    """Issue 16: no cheap hash that answers faster than the dummy check of an unknown ID."""
    import sqlalchemy as sa

    from ivr.accounts.models import Account

    method = "pbkdf2:sha256:2000"
    seed_bulk(database.Session, 30, 8, initial_password="802413", hash_method=method, spending=False)
    seed_bulk(database.Session, 20, 9, hash_method=method, spending=False)   # id_last6: distinct ones
    with database.Session() as s:
        rows = s.execute(sa.select(Account.id_number, Account.password_hash)).all()
    assert all(h.startswith(method + "$") for _, h in rows)
    fixed = {h for n, h in rows if check_password_hash(h, "802413")}
    assert len(fixed) == 1                       # 30 accounts, one password, one hash
    service = AccountService(database.Session, hash_method=method)
    some = [n for n, h in rows if h not in fixed][:3]
    for number in some:
        assert service.verify(number, number[-6:].upper().replace("X", "0")).ok
