"""Gather's completion rules against a model of Twilio's documented behaviour, for many inputs."""
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.phone import Phone

from .apps import ScriptedApp, twiml


def twilio_rule(keys: str, num_digits: int | None, finish: str) -> str | None:
    """Digits Twilio submits, or None when the Gather falls through (no input)."""
    digits = ""
    for key in keys:
        if finish and key == finish:
            return digits or None
        digits += key
        if num_digits and len(digits) >= num_digits:
            return digits
    return digits or None  # the timeout submits whatever was collected


@settings(max_examples=80, deadline=None)
@given(keys=st.text(alphabet="0123456789*#", min_size=1, max_size=8),
       num_digits=st.one_of(st.none(), st.integers(1, 5)),
       finish=st.sampled_from(["#", "*", "", "0"]))
def test_submitted_digits_follow_twilios_rules(keys, num_digits, finish):
    attrs = f'finishOnKey="{finish}"' + (f' numDigits="{num_digits}"' if num_digits else "")
    app = ScriptedApp({"/voice": twiml(f'<Gather {attrs} action="/got"><Say>Go</Say></Gather><Say>none</Say>'),
                       "/got": lambda req: twiml(f"<Say>got {req.form['Digits']}</Say>")})
    call = Phone(app=app).run([keys])
    expected = twilio_rule(keys, num_digits, finish)
    if expected is None:
        assert app.paths() == ["/voice"] and call.heard[-1] == "none"
    else:
        assert app.seen[1].form["Digits"] == expected and call.heard[-1] == f"got {expected}"
