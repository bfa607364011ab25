"""The pytest plugin, as a user meets it: installed by entry point, in a fresh pytest run."""
import subprocess
import sys
import textwrap

USER_TESTS = textwrap.dedent('''
    import pytest
    from werkzeug.wrappers import Request, Response

    def my_app(environ, start_response):
        req = Request(environ)
        if req.path == "/voice":
            body = '<Response><Gather numDigits="1" action="/menu"><Say>Press 1 for hours.</Say></Gather></Response>'
        else:
            body = f"<Response><Say>Open nine to five, you pressed {req.form['Digits']}.</Say></Response>"
        return Response(body, content_type="text/xml")(environ, start_response)

    @pytest.fixture
    def phone_app():
        return my_app

    def test_hours(phone):
        call = phone.dial()
        call.expect("Press 1")
        call.press("1")
        call.expect("Open nine to five, you pressed 1")
        call.expect_hangup()

    def test_expectation_failure_shows_the_transcript(phone):
        call = phone.dial()
        call.press("1")
        call.expect("Closed on Sundays")
''')


def test_phone_fixture_in_a_user_suite(tmp_path):
    (tmp_path / "test_user.py").write_text(USER_TESTS, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    out = result.stdout
    assert "1 failed, 1 passed" in out, out
    assert "ExpectationFailed: expected a prompt matching 'Closed on Sundays'" in out
    assert "presses 1" in out  # the transcript in the failure
