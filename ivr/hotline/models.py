"""The hotline's tables: calls (live state by CallSid, and the call log), voice messages, menu
versions, request limits and the softphone's calls. The account tables are ``ivr.accounts.models``'
(a package of their own); ``ivr.hotline.tables`` registers both."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Call(Base):
    """One call: its engine state (JSON) plus the columns the call log and dashboard read."""
    __tablename__ = "calls"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict] = mapped_column(JSON)
    menu: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    caller: Mapped[str] = mapped_column(String(32), default="")        # masked, e.g. +86138****5678
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration: Mapped[int | None] = mapped_column(Integer, nullable=True)   # seconds, from Twilio
    error_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The menu version the call started on (ivr.hotline.flow_versions); it finishes on it.
    menu_version: Mapped[str] = mapped_column(String(16), default="", server_default="", index=True)


class Voicemail(Base):
    __tablename__ = "voicemails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    recording_url: Mapped[str] = mapped_column(Text)
    duration: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FlowVersion(Base):
    """One version of the call flow: its content hash, when and how it was loaded, its texts."""
    __tablename__ = "flow_versions"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)      # content hash
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(24), default="")         # startup | watch | SIGHUP | ivr reload
    menus_name: Mapped[str] = mapped_column(String(128), default="menus.toml")
    files: Mapped[dict | None] = mapped_column(JSON, nullable=True)     # None once pruned
    recordings: Mapped[dict] = mapped_column(JSON, default=dict)        # "zh-CN/x.wav" -> sha256 prefix
    summary: Mapped[str] = mapped_column(String(200), default="")
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pruned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FlowCurrent(Base):
    """The version new calls get (a single row, id 1)."""
    __tablename__ = "flow_current"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RequestLimit(Base):
    __tablename__ = "request_limits"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[float] = mapped_column(Float)      # epoch seconds
    hits: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)


class PhoneCall(Base):
    """A browser call between requests: the saved phone call (``ivr.phone.snapshot``)."""
    __tablename__ = "phone_calls"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    snapshot: Mapped[dict] = mapped_column(JSON)
    ended: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    lock: Mapped[str | None] = mapped_column(String(32), nullable=True)
    locked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    dialled_at: Mapped[float] = mapped_column(Float)        # epoch seconds
    updated_at: Mapped[float] = mapped_column(Float, index=True)
    # Keyed hash of the dialling client's address: its concurrent-call cap counts these (issue 16).
    client: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
