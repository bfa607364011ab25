"""Personal account services as engine flows and operations (main menu option 1).

The call state keeps only an account id (or an opaque reference for an unknown ID number) and a
masked ID: never the ID number or a password.
"""
from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ivr.tts import readout
from ivr.accounts import idnumber
from ivr.accounts.service import LOGIN_CALLER_LIMITED, AccountService
from ivr.engine.flows import Ask, Finish, FlowContext, Retry
from ivr.engine.model import Action

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
ID_PROMPTS = {
    idnumber.BAD_CHECK_DIGIT: "id_bad_check_digit",
    idnumber.BAD_DATE: "id_bad_date",
    idnumber.FUTURE_DATE: "id_bad_date",
    idnumber.TOO_OLD: "id_bad_date",
}
PASSWORD_PROMPTS = {
    "mismatch": "password_mismatch",
    "initial": "password_initial",
    "trivial": "password_trivial",
    "same": "password_same",
    "from_id": "password_from_id",
}


@dataclass
class Services:
    accounts: AccountService
    secret: bytes

    def on(self, conn) -> "Services":
        """These services on a webhook's connection (``AccountService.on``): one pooled
        connection per webhook in flight."""
        return Services(self.accounts.on(conn), self.secret) if conn is not None else self

    def seal(self, value: str) -> str:
        """A keyed digest: lets the next webhook compare an entry without storing it."""
        return hmac.digest(self.secret, value.encode(), "sha256").hex()


def make_services(config, db) -> Services:
    accounts = AccountService.from_config(config, db.Session)
    return Services(accounts=accounts, secret=str(config["SECRET_KEY"]).encode())


def _local(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(LOCAL_TZ)


def _count(n: int, language: str) -> str:
    return readout.number_zh(n) if language.startswith("zh") else str(n)


def _account_id(ctx: FlowContext) -> int:
    account_id = ctx.data.get("account_id")
    if not isinstance(account_id, int):
        raise PermissionError("account operation without a verified caller")
    return account_id


def _caller(ctx: FlowContext) -> str:
    """The calling number the per-caller limit counts against; calls without one share a count."""
    return (ctx.env.caller or "").strip() or "anonymous"


def _caller_limited(ctx: FlowContext, until: dt.datetime):
    text = readout.datetime_text(_local(until), ctx.language)
    return Finish([ctx.say("caller_limited", until=text)], Action("top"), outcome="caller_limited")


class LoginFlow:
    entries = ("id_number", "password")

    def begin(self, ctx: FlowContext):
        ctx.data.pop("account_id", None)
        ctx.data.pop("login", None)
        status = ctx.services.accounts.caller_status(_caller(ctx))
        if status.blocked:   # say so before the caller keys an ID number that cannot log in
            return _caller_limited(ctx, status.retry_at)
        return Ask("id_number")

    def on_entry(self, ctx: FlowContext, entry: str, value: str):
        accounts: AccountService = ctx.services.accounts
        if entry == "id_number":
            check = idnumber.check_id(value, today=_local(ctx.now).date())
            if not check.ok:
                return Retry([ctx.say(ID_PROMPTS.get(check.code, "id_bad_check_digit"))])
            ctx.data["login"] = {"ref": accounts.id_reference(check.number), "masked": check.masked}
            return Ask("password")
        login = ctx.data.get("login") or {}
        result = accounts.verify_reference(login.get("ref", ""), value, caller=_caller(ctx))
        if result.ok:
            ctx.data.pop("login", None)
            ctx.data["account_id"] = result.account_id
            ctx.data["masked_id"] = login.get("masked", "")
            return Finish(action=ctx.flow.on_success, outcome="login")
        if result.status == LOGIN_CALLER_LIMITED:
            # One number trying many ID numbers: refuse it for a while, whatever the ID.
            ctx.data.pop("login", None)
            return _caller_limited(ctx, result.locked_until)
        if result.locked_until is not None:
            until = readout.datetime_text(_local(result.locked_until), ctx.language)
            ctx.data.pop("login", None)
            return Finish([ctx.say("account_locked", until=until)], Action("top"), outcome="locked")
        return Retry([ctx.say("login_failed")])


class ChangePasswordFlow:
    entries = ("new_password", "confirm_password")

    def begin(self, ctx: FlowContext):
        _account_id(ctx)
        return Ask("new_password")

    def on_entry(self, ctx: FlowContext, entry: str, value: str):
        accounts: AccountService = ctx.services.accounts
        account_id = _account_id(ctx)
        if entry == "new_password":
            problem = accounts.new_password_problem(account_id, value)
            if problem:
                return Retry([ctx.say(PASSWORD_PROMPTS.get(problem, "password_trivial"))])
            ctx.data["new_password"] = ctx.services.seal(value)
            return Ask("confirm_password")
        sealed = ctx.data.pop("new_password", None)
        if sealed is None or not hmac.compare_digest(sealed, ctx.services.seal(value)):
            return Retry([ctx.say("password_mismatch")], entry="new_password")
        result = accounts.change_password(account_id, value, value)
        if not result.ok:
            return Retry([ctx.say(PASSWORD_PROMPTS.get(result.code, "password_trivial"))],
                         entry="new_password")
        # Committed by the service before this confirmation is spoken.
        return Finish([ctx.say("password_changed")], outcome="password_changed")


def medical_balance(ctx: FlowContext, action: Action):
    b = ctx.services.accounts.balances(_account_id(ctx))
    return Finish([ctx.say("medical_balance", amount=readout.money(b.medical_fen, ctx.language))],
                  outcome="balance")


def pension_balance(ctx: FlowContext, action: Action):
    b = ctx.services.accounts.balances(_account_id(ctx))
    return Finish([ctx.say("pension_balance", amount=readout.money(b.pension_fen, ctx.language))],
                  outcome="balance")


def recent_spending(ctx: FlowContext, action: Action):
    records = ctx.services.accounts.recent_spending(_account_id(ctx), limit=3)
    if not records:
        return Finish([ctx.say("spending_none")], outcome="spending")
    speech = [ctx.say("spending_intro", count=_count(len(records), ctx.language))]
    for r in records:
        speech.append(ctx.say("spending_item", date=readout.date_text(r.spent_on, ctx.language),
                              place=r.place(ctx.language),
                              amount=readout.money(r.amount_fen, ctx.language)))
    return Finish(speech, outcome="spending")


def _already(ctx: FlowContext, reference: str, when: dt.datetime):
    return ctx.say("lost_already", date=readout.date_text(_local(when).date(), ctx.language),
                   reference=readout.digits_text(reference, ctx.language))


def report_lost(ctx: FlowContext, action: Action):
    """Key 5: say it is already reported, or ask for confirmation in the menu the file names."""
    info = ctx.services.accounts.get(_account_id(ctx))
    if info.lost_reference:
        return Finish([_already(ctx, info.lost_reference, info.lost_reported_at)], outcome="lost_already")
    return Finish(action=Action("submenu", menu=action.menu or "report_lost"), outcome="lost_confirm")


def confirm_lost(ctx: FlowContext, action: Action):
    result = ctx.services.accounts.report_lost(_account_id(ctx))
    if result.code == "reported":
        # Stored (committed) before the reference is read back.
        speech = [ctx.say("lost_done", reference=readout.digits_text(result.reference, ctx.language))]
        return Finish(speech, Action("back"), outcome="lost_reported")
    return Finish([_already(ctx, result.reference, result.reported_at)], Action("back"),
                  outcome="lost_already")


FLOWS = {"login": LoginFlow(), "change_password": ChangePasswordFlow()}
OPS = {
    "account.medical_balance": medical_balance,
    "account.pension_balance": pension_balance,
    "account.recent_spending": recent_spending,
    "account.report_lost": report_lost,
    "account.confirm_lost": confirm_lost,
}
