"""The library line, called as Twilio would call it: keys pressed, what the caller hears, who hangs up."""
from examples.flask_menu.app import ADDRESS, HOURS, MENU


def test_opening_hours(phone):
    call = phone.dial()
    call.expect("Thank you for calling the Riverside Library.")
    call.expect("For opening hours, press 1.")
    call.press("1")
    call.expect(HOURS)
    call.expect("Goodbye.")
    call.expect_hangup()
    assert call.ended_by == "app" and not call.errors and not call.warnings


def test_address(phone):
    call = phone.run(["2"])
    assert call.heard[-2:] == [ADDRESS, "Thank you for calling. Goodbye."]
    assert [e["digits"] for e in call.events if e["verb"] == "Gather"] == ["2"]


def test_a_wrong_key_hears_why_and_the_menu_again(phone):
    call = phone.dial()
    call.press("7")
    call.expect("Sorry, 7 is not on the menu.")
    call.expect(MENU)
    call.press("2")
    call.expect(ADDRESS)
    call.expect_hangup()
    # The retry is the app's own redirect, counting the attempts.
    redirects = [e["url"] for e in call.events if e["verb"] == "Redirect"]
    assert [url.split("/")[-1] for url in redirects] == ["menu?attempt=1", "menu?attempt=2"]


def test_nine_repeats_the_menu(phone):
    call = phone.run(["9", "1"])
    assert call.heard.count(MENU) == 2 and HOURS in call.heard


def test_three_misses_end_the_call_politely(phone):
    call = phone.run(["5", "_", "#"])  # a wrong key, silence, another wrong key
    assert call.heard.count(MENU) == 3
    assert "We did not receive your choice." in call.heard
    assert call.heard[-1] == "Please call again later. Goodbye."
    assert call.ended_by == "app" and call.status == "completed"
