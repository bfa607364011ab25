"""Demo accounts (issue 3) and deterministic made-up accounts in bulk.

Bulk accounts and password hashing (issue 16): every stored hash has the configured cost
(``IVR_PASSWORD_HASH``, scrypt by default), because a cheaper one answers a wrong password faster
than the dummy check of an unknown ID number and so tells which ID numbers have accounts. To stay
fast, bulk seeding hashes each *distinct* password once and gives that hash (salt included) to
every account with that password, hashing a batch's new passwords on all cores. With a fixed
``IVR_INITIAL_PASSWORD`` that is one hash for any number of accounts; with ``id_last6`` it is one
per distinct last-six-digits (at most ~310,000, so a million accounts take a while once; a rerun
is skipped row by row). Shared salts reveal only that two synthetic accounts share an initial
password, which the policy makes public anyway.

Inserts are batched executemany INSERT .. ON CONFLICT (id_number) DO NOTHING, one transaction
per batch, so a rerun with the same ``--seed`` skips what is already there.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import random
import re
import time
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.accounts.idnumber import generate_ids
from ivr.accounts.models import (CARD_ACTIVE, CARD_REPORTED_LOST, Account, SpendingRecord)
from ivr.accounts.service import (DEFAULT_HASH_METHOD, ID_LAST6, _insert_for, hash_password,
                                  initial_password_for, normalise_policy)

# Before issue 16 bulk accounts had a one-iteration hash; the name stays for callers that import it.
BULK_HASH_METHOD = DEFAULT_HASH_METHOD
_PARALLEL_FROM = 8          # new distinct passwords in a batch before hashing them in processes
_BJ = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class DemoSpending:
    spent_on: dt.date
    place_zh: str
    place_en: str
    amount_fen: int


@dataclass(frozen=True)
class DemoAccount:
    id_number: str
    password: str | None        # None: the initial password under the configured policy
    medical_fen: int
    pension_fen: int
    name: str
    city: str
    card_number: str
    spending: tuple[DemoSpending, ...] = ()
    lost_reported_at: dt.datetime | None = None
    lost_reference: str | None = None

    @property
    def password_is_initial(self) -> bool:
        return self.password is None


# The four accounts of issue 3 (README lists them). Passwords marked "(initial)" there are the
# initial password under the default id_last6 policy: 074573 and 150015.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "110101199003074573", None, 1_234_56, 45_678_90, "张伟", "北京市", "110300457",
        spending=(
            DemoSpending(dt.date(2026, 11, 18), "北京协和医院",
                         "Peking Union Medical College Hospital", 86_50),
            DemoSpending(dt.date(2026, 11, 9), "北京同仁堂王府井药店",
                         "Beijing Tongrentang Pharmacy, Wangfujing", 23_80),
            DemoSpending(dt.date(2026, 10, 27), "北京金象大药房东四店",
                         "Golden Elephant Pharmacy, Dongsi", 158_00),
        )),
    DemoAccount("310104198511122035", "246810", 0, 102_400_00, "李强", "上海市", "310452203"),
    DemoAccount("44010619881203118X", "135790", 88_08, 9_999_99, "陈静", "广州市", "440611811"),
    DemoAccount("440305197206150015", None, 560_00, 3_000_00, "王建国", "深圳市", "440350015",
                lost_reported_at=dt.datetime(2026, 11, 20, 9, 15, tzinfo=_BJ),
                lost_reference="261120004173"),
)
DEMO_ID_NUMBERS = frozenset(d.id_number for d in DEMO_ACCOUNTS)


@dataclass(frozen=True)
class SeedReport:
    inserted: int
    skipped: int          # already present (same ID number)
    spending: int         # spending records inserted
    seconds: float


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def seed_demo(session_factory: sessionmaker[Session], *, initial_password: object = ID_LAST6,
              reset: bool = False, hash_method: str = DEFAULT_HASH_METHOD,
              now: dt.datetime | None = None) -> SeedReport:
    """Add the demo accounts that are missing (idempotent). ``reset`` first deletes them, so
    they return to their documented state (balances, password, loss report, spending)."""
    started = time.perf_counter()
    policy = normalise_policy(initial_password)
    now = now or _utcnow()
    inserted = skipped = spent = 0
    with session_factory() as s, s.begin():
        if reset:
            ids = select(Account.id).where(Account.id_number.in_(DEMO_ID_NUMBERS))
            s.execute(delete(SpendingRecord).where(SpendingRecord.account_id.in_(ids)))
            s.execute(delete(Account).where(Account.id_number.in_(DEMO_ID_NUMBERS)))
        existing = set(s.scalars(select(Account.id_number)
                                 .where(Account.id_number.in_(DEMO_ID_NUMBERS))))
        for demo in DEMO_ACCOUNTS:
            if demo.id_number in existing:
                skipped += 1
                continue
            password = demo.password or initial_password_for(demo.id_number, policy)
            account = Account(
                id_number=demo.id_number, card_number=demo.card_number, name=demo.name,
                city=demo.city, password_hash=hash_password(password, hash_method),
                password_is_initial=demo.password_is_initial, failed_attempts=0,
                locked_until=None,
                card_status=CARD_REPORTED_LOST if demo.lost_reference else CARD_ACTIVE,
                lost_reported_at=demo.lost_reported_at, lost_reference=demo.lost_reference,
                medical_fen=demo.medical_fen, pension_fen=demo.pension_fen, updated_at=now)
            account.spending = [SpendingRecord(spent_on=x.spent_on, place_zh=x.place_zh,
                                               place_en=x.place_en, amount_fen=x.amount_fen)
                                for x in demo.spending]
            s.add(account)
            inserted += 1
            spent += len(demo.spending)
    return SeedReport(inserted, skipped, spent, time.perf_counter() - started)


# --- bulk --------------------------------------------------------------------------------------

_CITY_EN = {
    "北京市": "Beijing", "天津市": "Tianjin", "石家庄市": "Shijiazhuang", "太原市": "Taiyuan",
    "沈阳市": "Shenyang", "长春市": "Changchun", "哈尔滨市": "Harbin", "上海市": "Shanghai",
    "南京市": "Nanjing", "苏州市": "Suzhou", "杭州市": "Hangzhou", "合肥市": "Hefei",
    "福州市": "Fuzhou", "南昌市": "Nanchang", "济南市": "Jinan", "青岛市": "Qingdao",
    "郑州市": "Zhengzhou", "武汉市": "Wuhan", "长沙市": "Changsha", "广州市": "Guangzhou",
    "深圳市": "Shenzhen", "南宁市": "Nanning", "海口市": "Haikou", "重庆市": "Chongqing",
    "成都市": "Chengdu", "贵阳市": "Guiyang", "昆明市": "Kunming", "西安市": "Xi'an",
    "兰州市": "Lanzhou", "乌鲁木齐市": "Urumqi",
}

# Designated medical institutions, as templates per city.
_PLACES = (
    ("{zh}第一人民医院", "{en} First People's Hospital"),
    ("{zh}中医医院", "{en} Hospital of Traditional Chinese Medicine"),
    ("{zh}妇幼保健院", "{en} Maternal and Child Health Hospital"),
    ("老百姓大药房（{zh}店）", "LBX Pharmacy, {en}"),
    ("国大药房（{zh}店）", "Guoda Pharmacy, {en}"),
    ("{zh}社区卫生服务中心", "{en} Community Health Service Centre"),
)
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
              "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
              "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国志"
_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英婷雪慧红琳晶燕佳倩颖琪梅莉兰萍月瑶欣怡"


def bulk_hasher(method: str):
    """A function password -> werkzeug-format hash for ``method``.

    For ``pbkdf2:<hash>:<iterations>`` it builds the same string werkzeug's
    ``generate_password_hash`` would (``check_password_hash`` verifies it), but draws the salt
    from one ``os.urandom`` call instead of 16 ``secrets.choice`` calls: with one iteration the
    salt was most of the cost. Any other method goes through werkzeug.
    """
    m = re.fullmatch(r"pbkdf2:(\w+):(\d+)", method)
    if not m:
        return lambda password: hash_password(password, method)
    name, iterations = m[1], int(m[2])
    prefix = f"pbkdf2:{name}:{iterations}$"

    def fast(password: str) -> str:
        # 12 random bytes -> 16 characters, letters and digits only (like werkzeug's salts).
        salt = base64.b64encode(os.urandom(12), altchars=b"Az").decode()
        digest = hashlib.pbkdf2_hmac(name, password.encode(), salt.encode(), iterations).hex()
        return f"{prefix}{salt}${digest}"

    return fast


class SharedHashes:
    """One hash per distinct password (see the module docstring), computed in batches."""

    def __init__(self, method: str):
        self.method = method
        self.hasher = bulk_hasher(method)
        self.known: dict[str, str] = {}

    def fill(self, rows: list[dict]) -> None:
        """Replace each row's ``_password`` with its ``password_hash``."""
        new = sorted({r["_password"] for r in rows} - self.known.keys())
        if len(new) >= _PARALLEL_FROM and (os.cpu_count() or 1) > 1 and not self.method.endswith(":1"):
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(os.cpu_count(), mp_context=multiprocessing.get_context("fork")) as pool:
                self.known.update(zip(new, pool.map(hash_password, new, [self.method] * len(new),
                                                    chunksize=max(1, len(new) // (4 * os.cpu_count())))))
        else:
            self.known.update((p, self.hasher(p)) for p in new)
        for r in rows:
            r["password_hash"] = self.known[r.pop("_password")]


def _bulk_rows(count: int, seed: int, policy: str, now: dt.datetime, spending_until: dt.date):
    """Yield (account row, [spending rows]) for the made-up accounts of ``seed``; each row holds
    its password as ``_password`` until :class:`SharedHashes` hashes it."""
    rng = random.Random(f"ivr-bulk-accounts:{seed}")
    for id_number, city in generate_ids(count, seed, exclude=DEMO_ID_NUMBERS):
        male = int(id_number[16]) % 2 == 1
        given = _MALE if male else _FEMALE
        name = rng.choice(_SURNAMES) + "".join(rng.choice(given)
                                               for _ in range(rng.choice((1, 2))))
        born_year = int(id_number[6:10])
        working_years = max(0, min(spending_until.year - born_year - 20, 40))
        row = {
            "id_number": id_number,
            "card_number": f"{rng.randrange(10 ** 9):09d}",
            "name": name,
            "city": city,
            "_password": initial_password_for(id_number, policy),
            "password_is_initial": True,
            "failed_attempts": 0,
            "locked_until": None,
            "card_status": CARD_ACTIVE,
            "lost_reported_at": None,
            "lost_reference": None,
            "medical_fen": rng.randrange(0, 2_000_000),
            "pension_fen": working_years * rng.randrange(200_000, 900_000),
            "updated_at": now,
        }
        spends = []
        city_en = _CITY_EN[city]
        for _ in range(rng.choice((0, 1, 2, 3, 3))):
            zh, en = rng.choice(_PLACES)
            spends.append({
                "spent_on": spending_until - dt.timedelta(days=rng.randrange(180)),
                "place_zh": zh.format(zh=city), "place_en": en.format(en=city_en),
                "amount_fen": rng.randrange(500, 80_000),
            })
        yield row, spends


def seed_bulk(session_factory: sessionmaker[Session], count: int, seed: int, *,
              initial_password: object = ID_LAST6, hash_method: str = DEFAULT_HASH_METHOD,
              batch_size: int = 5000, spending: bool = True, now: dt.datetime | None = None,
              progress=None) -> SeedReport:
    """Insert ``count`` made-up accounts (valid check digits) deterministic in ``seed``.

    Each account has the initial password (flagged initial), balances and 0-3 spending records
    over the previous 180 days. Accounts whose ID number already exists are skipped (so a rerun
    is idempotent). ``progress(done, count)`` is called after each batch.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    started = time.perf_counter()
    policy = normalise_policy(initial_password)
    now = now or _utcnow()
    until = now.astimezone(_BJ).date()
    inserted = spent = done = 0
    accounts = Account.__table__
    records = SpendingRecord.__table__
    batch: list[tuple[dict, list[dict]]] = []

    hashes = SharedHashes(hash_method)

    def flush() -> None:
        nonlocal inserted, spent
        hashes.fill([row for row, _ in batch])
        with session_factory() as s, s.begin():
            if s.get_bind().dialect.name == "postgresql":
                new_ids = _copy_accounts(s, [row for row, _ in batch])
            else:
                insert = _insert_for(s)
                stmt = insert(accounts).on_conflict_do_nothing(index_elements=["id_number"])
                # RETURNING gives the ids of the rows actually inserted (a skipped duplicate
                # returns nothing); executemany rowcount is not reliable across drivers.
                new_ids = dict((r.id_number, r.id) for r in s.execute(
                    stmt.returning(accounts.c.id, accounts.c.id_number),
                    [row for row, _ in batch]))
            inserted += len(new_ids)
            if spending:
                spend_rows = [dict(x, account_id=new_ids[row["id_number"]])
                              for row, spends in batch if row["id_number"] in new_ids
                              for x in spends]
                if spend_rows:
                    if s.get_bind().dialect.name == "postgresql":
                        _copy_rows(s, records.name, _SPENDING_COLUMNS, spend_rows)
                    else:
                        s.execute(records.insert(), spend_rows)
                    spent += len(spend_rows)
        batch.clear()

    for item in _bulk_rows(count, seed, policy, now, until):
        batch.append(item)
        done += 1
        if len(batch) >= batch_size:
            flush()
            if progress:
                progress(done, count)
    if batch:
        flush()
        if progress:
            progress(done, count)
    return SeedReport(inserted, count - inserted, spent, time.perf_counter() - started)


_ACCOUNT_COLUMNS = ("id_number", "card_number", "name", "city", "password_hash",
                    "password_is_initial", "failed_attempts", "locked_until", "card_status",
                    "lost_reported_at", "lost_reference", "medical_fen", "pension_fen",
                    "updated_at")
_SPENDING_COLUMNS = ("account_id", "spent_on", "place_zh", "place_en", "amount_fen")


def _naive_utc(value):
    """What UTCDateTime stores; COPY bypasses SQLAlchemy's type processing."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _copy_rows(session: Session, table: str, columns: Sequence[str], rows: list[dict]) -> None:
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_naive_utc(row[c]) for c in columns])


def _copy_accounts(session: Session, rows: list[dict]) -> dict[str, int]:
    """PostgreSQL: COPY into a temporary table, then INSERT .. SELECT .. ON CONFLICT DO NOTHING
    RETURNING. Several times faster than multi-row INSERTs (whose 14,000-placeholder
    statements psycopg spends most of its time parsing)."""
    cols = ", ".join(_ACCOUNT_COLUMNS)
    conn = session.connection()
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE seed_accounts ON COMMIT DROP AS "
                         f"SELECT {cols} FROM accounts WITH NO DATA")
    _copy_rows(session, "seed_accounts", _ACCOUNT_COLUMNS, rows)
    result = conn.exec_driver_sql(
        f"INSERT INTO accounts ({cols}) SELECT {cols} FROM seed_accounts "
        f"ON CONFLICT (id_number) DO NOTHING RETURNING id, id_number")
    return {number: account_id for account_id, number in result}


def count_accounts(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(Account)) or 0
