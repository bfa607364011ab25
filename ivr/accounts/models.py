"""Account tables, on a declarative base of their own (the package stands alone; its tests create
just these tables with ``Base.metadata.create_all``).

Money is integer fen (1 yuan = 100 fen) in BIGINT columns. Times are stored as naive UTC in
plain ``DateTime`` columns (SQLite has no time zone type) and come back as aware UTC datetimes
through :class:`UTCDateTime`, on SQLite and PostgreSQL alike.

Only this module's ``accounts`` table holds full ID numbers. The two throttling tables hold keyed
hashes (HMAC-SHA-256) of ID numbers and caller numbers, never the numbers themselves.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index,
                        Integer, String, TypeDecorator)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

CARD_ACTIVE = "active"
CARD_REPORTED_LOST = "reported_lost"


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, stored as naive UTC, aware UTC out. Naive values are refused."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(f"card_status IN ('{CARD_ACTIVE}', '{CARD_REPORTED_LOST}')",
                        name="ck_accounts_card_status"),
        CheckConstraint("failed_attempts >= 0", name="ck_accounts_failed_attempts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # 18 characters, upper-case X; the social security number (Social Insurance Law art. 58).
    id_number: Mapped[str] = mapped_column(String(18), unique=True, index=True)
    # The card's own number: 9 characters, assigned by the issuer, no public check algorithm.
    card_number: Mapped[str] = mapped_column(String(9))
    name: Mapped[str] = mapped_column(String(64))
    city: Mapped[str] = mapped_column(String(64))
    # werkzeug "method$salt$hash" string (scrypt by default); never the password itself.
    password_hash: Mapped[str] = mapped_column(String(255))
    password_is_initial: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    card_status: Mapped[str] = mapped_column(String(16), default=CARD_ACTIVE)
    lost_reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lost_reference: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    medical_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    pension_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    spending: Mapped[list["SpendingRecord"]] = relationship(
        back_populates="account", cascade="all, delete-orphan", passive_deletes=True)

    def __repr__(self) -> str:  # never the full ID number
        from ivr.accounts.idnumber import mask_id

        return f"<Account {self.id} {mask_id(self.id_number or '')}>"


class SpendingRecord(Base):
    """A payment from the medical-insurance personal account at a designated hospital/pharmacy."""

    __tablename__ = "spending_records"
    __table_args__ = (Index("ix_spending_account_date", "account_id", "spent_on", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    spent_on: Mapped[dt.date] = mapped_column(Date)
    place_zh: Mapped[str] = mapped_column(String(128))
    place_en: Mapped[str] = mapped_column(String(160))
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    account: Mapped[Account] = relationship(back_populates="spending")


class UnknownIdFailure(Base):
    """Wrong-password counters for ID numbers that have no account.

    They make an unknown ID behave exactly like a real one (wrong, wrong, locked; still locked in
    the next call), so the password step reveals nothing about which numbers have accounts.
    """

    __tablename__ = "unknown_id_failures"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CallerFailure(Base):
    """Wrong passwords per calling number across calls, in a fixed window (issue 7)."""

    __tablename__ = "caller_password_failures"

    caller_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LoginBudget(Base):
    """Login attempts not (yet) known to have succeeded, across all callers, per fixed window
    (``window`` = epoch seconds // window length): the global failed-login budget (issue 16)."""

    __tablename__ = "login_failure_budget"

    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
