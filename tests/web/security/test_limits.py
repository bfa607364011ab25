"""Per-client limits in the database (ivr.web.security.limits, issue 16): fixed windows and back-off."""
from __future__ import annotations

from ivr.web.security import limits
from tests.conftest import make_app


def test_a_window_lets_the_limit_through_then_refuses_until_it_ends(tmp_path, database_url):
    app = make_app(tmp_path, DATABASE_URL=database_url)
    with app.test_request_context("/phone/calls", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        key = limits.client_key("dials")
        assert "10.1.2.3" not in key and key != limits.client_key("dials", "10.1.2.4")
        got = [limits.hit(key, 3, 60, now=1000.0 + i) for i in range(5)]
        assert [v.allowed for v in got] == [True, True, True, False, False]
        assert got[3].retry_after == 57.0             # the window opened at 1000
        assert limits.hit(key, 3, 60, now=1060.0).allowed          # a new window


def test_failures_back_off_doubling_and_a_success_clears_them(tmp_path, database_url):
    app = make_app(tmp_path, DATABASE_URL=database_url)
    assert [limits.backoff(n, 2, 1.5) for n in range(1, 7)] == [0, 0, 1.5, 3.0, 6.0, 12.0]
    assert limits.backoff(200, 2, 1.5) == limits.BACKOFF_MAX_SECONDS
    with app.test_request_context("/dashboard/login"):
        key = limits.client_key("admin-login")
        for n in range(2):
            assert limits.fail(key, 2, 1.5, now=100.0).allowed and limits.wait_left(key, now=100.0) == 0
        assert not limits.fail(key, 2, 1.5, now=100.0).allowed
        assert limits.wait_left(key, now=100.0) == 1.5
        assert limits.wait_left(key, now=102.0) == 0
        limits.clear(key)
        assert limits.wait_left(key, now=100.0) == 0
