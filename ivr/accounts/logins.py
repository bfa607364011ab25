"""The logins of the made-up accounts (``ivr db seed --accounts N``): ID numbers and initial
passwords, so that somebody can call in with them. Demo data, made from the seed: printed or
written to a file for the person who asked, never logged."""
from __future__ import annotations

import csv
import os
from pathlib import Path

from ivr.accounts.idnumber import generate_ids
from ivr.accounts.seed import DEMO_ID_NUMBERS
from ivr.accounts.service import initial_password_for, normalise_policy

SHOWN = 10   # printed on the terminal; --out FILE gets them all


def made_up_logins(count: int, seed: int, policy) -> list[tuple[str, str, str]]:
    """(ID number, initial password, city) of the made-up accounts of ``seed``, in seeding order."""
    policy = normalise_policy(policy)
    return [(number, initial_password_for(number, policy), city)
            for number, city in generate_ids(count, seed, exclude=DEMO_ID_NUMBERS)]


def write_logins(path: str | os.PathLike, logins) -> None:
    """A CSV file (id_number,password,city) only its owner can read."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id_number", "password", "city"])
        writer.writerows(logins)
