"""A webhook in flight holds at most one pooled database connection (issue 17 item 5): the account
service works on the webhook's own connection, so a lookup no longer holds two."""
import pytest
from sqlalchemy import event

from ivr.accounts.seed import seed_demo
from tests.twiml import Caller

ID1, PW1 = "110101199003074573", "074573"


@pytest.fixture
def held(app):
    """The largest number of pooled connections checked out at once while the test runs."""
    seed_demo(app.extensions["ivr_db"].Session)
    pool = app.extensions["ivr_db"].engine.pool
    state = {"now": 0, "most": 0}

    def checkout(*_):
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])

    def checkin(*_):
        state["now"] -= 1

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    yield state
    event.remove(pool, "checkout", checkout)
    event.remove(pool, "checkin", checkin)


def test_one_connection_per_webhook_through_login_and_lookups(app, held):
    caller = Caller(app.test_client())
    caller.keys("2", "1")
    caller.press(ID1)
    caller.press(PW1)                      # caller limit, login budget, password check, counters
    assert caller.press("1").speech[0][1].startswith("Your medical insurance personal account balance")
    caller.press("*")
    caller.press("3")                      # recent spending
    caller.keys("*", "1")
    caller.press("9999999")                # a wrong new password entry is refused on the same connection
    # Between webhooks the connection stays open for the next one (Database.connection).
    assert app.extensions["ivr_db"].kept_connections == 1
    assert held["most"] == 1 and held["now"] == 1


def test_a_failed_login_commits_its_counters(app, held):
    caller = Caller(app.test_client())
    caller.keys("2", "1")
    caller.press(ID1)
    caller.press("000000")
    assert held["most"] == 1
    from ivr.accounts.models import Account
    from sqlalchemy import select

    with app.extensions["ivr_db"].Session() as s:   # another connection: the counters were committed
        assert s.scalar(select(Account.failed_attempts).where(Account.id_number == ID1)) == 1
