"""``ivr db init`` and ``ivr db seed``.

Both open the configured database (``ivr.config.read_config``); tests, and tools that already
hold a database, pass ``obj={"db": Database, "config": mapping}`` to click instead.
"""
from __future__ import annotations

import click

from ivr.accounts.seed import (DEMO_ACCOUNTS, count_accounts, seed_bulk,
                               seed_demo)
from ivr.accounts.service import DEFAULT_HASH_METHOD


def _database(ctx: click.Context):
    """(Database, config) from ``ctx.obj`` if given, else from the app."""
    obj = ctx.find_object(dict)
    if obj and "db" in obj:
        return obj["db"], obj.get("config", {})
    from ivr.config import read_config
    from ivr.hotline.db import Database

    config = read_config()
    return Database.from_config(config), config


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group("db")
def db_group() -> None:
    """Create and fill the database."""


@db_group.command("init")
@click.pass_context
def init_cmd(ctx: click.Context) -> None:
    """Create the schema (tables that already exist are left alone)."""
    db, _ = _database(ctx)
    db.create_all()
    click.echo(f"schema ready in {_safe_url(db.url)}")


@db_group.command("seed")
@click.option("--accounts", "count", type=click.IntRange(min=0), default=0, show_default=True,
              help="also add N made-up accounts with valid ID numbers")
@click.option("--seed", "seed", type=int, default=1, show_default=True,
              help="the made-up accounts are a function of this number")
@click.option("--batch-size", type=click.IntRange(min=1), default=5000, show_default=True)
@click.option("--strong-hash", is_flag=True, hidden=True,
              help="no effect: every hash now has the configured cost (IVR_PASSWORD_HASH)")
@click.option("--no-spending", is_flag=True, help="made-up accounts get no spending records")
@click.option("--reset-demo", is_flag=True,
              help="put the demo accounts back to their documented state")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True),
              help="write every made-up login (ID number, initial password, city) to this CSV file")
@click.pass_context
def seed_cmd(ctx: click.Context, count: int, seed: int, batch_size: int, strong_hash: bool,
             no_spending: bool, reset_demo: bool, out: str | None) -> None:
    """Add the demo accounts (idempotent) and, with --accounts N, N made-up ones."""
    db, config = _database(ctx)
    db.create_all()
    policy = config.get("INITIAL_PASSWORD", "id_last6")
    method = str(config.get("PASSWORD_HASH") or DEFAULT_HASH_METHOD)
    demo = seed_demo(db.Session, initial_password=policy, reset=reset_demo, hash_method=method)
    click.echo(f"demo accounts: {demo.inserted} added, {demo.skipped} already there"
               f" ({len(DEMO_ACCOUNTS)} in all; see the README for their passwords)")
    if count:
        shown = [0]

        def progress(done: int, total: int) -> None:
            tenth = done * 10 // total
            if total >= 50_000 and tenth > shown[0]:
                shown[0] = tenth
                click.echo(f"  {done:,}/{total:,}", err=True)

        report = seed_bulk(db.Session, count, seed, initial_password=policy,
                           hash_method=method,   # one hash per distinct password
                           batch_size=batch_size, spending=not no_spending, progress=progress)
        rate = report.inserted / report.seconds if report.seconds else 0
        click.echo(f"made-up accounts (seed {seed}): {report.inserted:,} added, "
                   f"{report.skipped:,} already there, {report.spending:,} spending records, "
                   f"{report.seconds:.1f} s ({rate:,.0f} accounts/s)")
        _show_logins(count, seed, policy, out)
    click.echo(f"{count_accounts(db.Session):,} accounts in {_safe_url(db.url)}")


def _show_logins(count: int, seed: int, policy, out: str | None) -> None:
    """The made-up logins, for whoever asked (never the log): the first few, or all in ``out``."""
    from ivr.accounts.logins import SHOWN, made_up_logins, write_logins

    logins = made_up_logins(count, seed, policy)
    if out:
        write_logins(out, logins)
        click.echo(f"made-up logins: {len(logins):,} written to {out} (id_number,password,city)")
        return
    click.echo("made-up logins (initial passwords; a caller who changed one has another):")
    for number, password, city in logins[:SHOWN]:
        click.echo(f"  ID number {number}  password {password}  ({city})")
    if len(logins) > SHOWN:
        click.echo(f"  ... and {len(logins) - SHOWN:,} more: add --out FILE to have them all")


commands = [db_group]
