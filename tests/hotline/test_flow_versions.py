"""Menu versions in one process and across apps sharing a database: a call in progress keeps the
version it started on, new calls get the new one, a broken edit changes nothing and says why."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from ivr.hotline import flow_versions
from ivr.hotline.flow_versions import FlowCurrent, FlowVersion
from ivr.hotline.models import Call
from tests.conftest import make_app
from tests.hotline.edits import (BROKEN_MESSAGE, NEW_WORDS, break_main_menu, flow_copy,
                                swap_keys_2_and_3)
from tests.twiml import Caller

OLD_APPLY = "Applying for a social security card."
CHECK_WAYS = "Other ways to check your balance."


def _app(tmp_path, database_url, menus, prompts, **extra):
    return make_app(tmp_path, DATABASE_URL=database_url, MENUS_FILE=str(menus), PROMPTS_DIR=str(prompts),
                    RELOAD_CHECK_SECONDS=0, **extra)


def _english_main(client) -> Caller:
    caller = Caller(client)
    caller.dial()
    caller.press("2")          # English -> main menu
    return caller


def test_call_in_progress_keeps_its_version_new_calls_get_the_new_one(tmp_path, database_url):
    menus, prompts = flow_copy(tmp_path / "flow")
    app = _app(tmp_path, database_url, menus, prompts)
    versions = app.extensions["ivr_hotline"].versions
    old = versions.current().id
    client = app.test_client()
    before = _english_main(client)
    assert NEW_WORDS not in before.doc.heard

    swap_keys_2_and_3(menus, prompts)
    result = versions.publish("test")
    assert result.ok and result.changed and result.version != old

    # the call that started before the edit: the old main menu, the old key 2
    assert NEW_WORDS not in before.press("9").heard          # 9 repeats the main menu
    assert OLD_APPLY in before.press("2").heard
    # a call that starts now: the new prompt and the new key 2
    after = _english_main(client)
    assert NEW_WORDS in after.doc.heard
    assert CHECK_WAYS in after.press("2").heard

    with app.extensions["ivr_db"].Session() as session:
        pinned = dict(session.execute(sa.select(Call.call_sid, Call.menu_version)).all())
        assert pinned == {before.sid: old, after.sid: result.version}
        assert session.get(FlowCurrent, 1).version == result.version
        stored = session.get(FlowVersion, old)
        assert stored.files["menus"] and stored.retired_at is not None


def test_a_broken_edit_changes_nothing_and_logs_the_check_message(tmp_path, database_url, caplog):
    menus, prompts = flow_copy(tmp_path / "flow")
    app = _app(tmp_path, database_url, menus, prompts)
    versions = app.extensions["ivr_hotline"].versions
    old = versions.current().id
    break_main_menu(menus)
    with caplog.at_level(logging.INFO, logger="ivr"):
        result = versions.publish("test")
        again = versions.publish("test")        # the same broken file: not logged twice
    assert not result.ok and BROKEN_MESSAGE in result.problems and not again.ok
    lines = [r.getMessage() for r in caplog.records]
    assert lines.count(f"menu problem: {BROKEN_MESSAGE}") == 1
    assert "menu reload refused: the old menu keeps serving" in lines
    assert versions.current().id == old
    caller = _english_main(app.test_client())
    assert "policy" in caller.press("4").heard.lower()     # key 4 still leads to the law menu
    with app.extensions["ivr_db"].Session() as session:
        assert session.get(FlowCurrent, 1).version == old
        assert session.scalar(sa.select(sa.func.count()).select_from(FlowVersion)) == 1


def test_the_same_message_as_menus_check(tmp_path):
    from click.testing import CliRunner

    from ivr.cli import main

    menus, prompts = flow_copy(tmp_path / "flow")
    break_main_menu(menus)
    out = CliRunner().invoke(main, ["menus", "check", str(menus), "--prompts", str(prompts)])
    assert out.exit_code == 1 and BROKEN_MESSAGE in out.output.splitlines()


def test_another_app_on_the_database_follows_and_keeps_pinned_calls(tmp_path, database_url):
    menus, prompts = flow_copy(tmp_path / "flow")
    one = _app(tmp_path / "one", database_url, menus, prompts)
    two = _app(tmp_path / "two", database_url, menus, prompts)
    started = _english_main(one.test_client())
    swap_keys_2_and_3(menus, prompts)
    new = one.extensions["ivr_hotline"].versions.publish("test").version
    # the other app never read the edited files: it builds the version from the database
    assert two.extensions["ivr_hotline"].versions.current().id == new
    started.client = two.test_client()               # the call's next webhook lands on app two
    assert OLD_APPLY in started.press("2").heard
    fresh = _english_main(two.test_client())
    assert NEW_WORDS in fresh.doc.heard


def test_versions_no_call_uses_are_pruned(tmp_path, database_url):
    menus, prompts = flow_copy(tmp_path / "flow")
    app = _app(tmp_path, database_url, menus, prompts)
    versions = app.extensions["ivr_hotline"].versions
    first = versions.current().id
    in_progress = _english_main(app.test_client())
    swap_keys_2_and_3(menus, prompts)
    second = versions.publish("test").version
    db = app.extensions["ivr_db"]
    long_ago = flow_versions.utcnow() - flow_versions.RETIRED_GRACE * 2
    with db.Session() as session, session.begin():
        session.execute(sa.update(FlowVersion).where(FlowVersion.id == first).values(retired_at=long_ago))
    versions.prune()
    with db.Session() as session:
        assert session.get(FlowVersion, first).files is not None     # a call still runs on it
    in_progress.press("0")                                          # (any key) then it ends:
    with db.Session() as session, session.begin():
        session.execute(sa.update(Call).values(outcome="completed", ended_at=flow_versions.utcnow()))
    (prompts / "en-US.toml").write_text((prompts / "en-US.toml").read_text() + '\nextra_prompt = "x"\n')
    versions.publish("test")
    with db.Session() as session:
        assert session.get(FlowVersion, first).files is None
        assert session.get(FlowVersion, first).pruned_at is not None
        assert session.get(FlowVersion, second).files is not None  # replaced just now: kept
    with db.Session() as session:
        rows = flow_versions.version_rows(session, versions.current().id)
    assert {r["id"]: r["calls"] for r in rows}[first] == 1


def test_an_old_calls_table_gets_the_version_column(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE calls (call_sid VARCHAR(64) PRIMARY KEY, state JSON, menu VARCHAR(64),"
                             " language VARCHAR(8), caller VARCHAR(32), outcome VARCHAR(24), steps INTEGER,"
                             " started_at DATETIME, updated_at DATETIME, ended_at DATETIME, duration INTEGER,"
                             " error_code VARCHAR(16))")
        conn.exec_driver_sql("INSERT INTO calls (call_sid, state, menu, steps) VALUES ('CAold', '{}', 'main', 1)")
    engine.dispose()
    app = make_app(tmp_path, DATABASE_URL=url)
    caller = Caller(app.test_client())
    caller.dial()
    with app.extensions["ivr_db"].Session() as session:
        rows = dict(session.execute(sa.select(Call.call_sid, Call.menu_version)).all())
    assert rows["CAold"] in ("", None) and rows[caller.sid] == app.extensions["ivr_hotline"].versions.current().id


def test_the_dashboard_shows_versions_and_which_calls_ran_on_which(tmp_path, database_url):
    menus, prompts = flow_copy(tmp_path / "flow")
    app = _app(tmp_path, database_url, menus, prompts, ADMIN_TOKEN="admin-token-0123456789")
    versions = app.extensions["ivr_hotline"].versions
    old = versions.current().id
    client = app.test_client()
    first = _english_main(client)
    auth = {"Authorization": "Bearer admin-token-0123456789"}
    svg_before = client.get("/dashboard/menu.svg", headers=auth).get_data(as_text=True)
    swap_keys_2_and_3(menus, prompts)
    new = versions.publish("test").version
    second = _english_main(client)
    third = _english_main(client)
    data = client.get("/dashboard/calls.json", headers=auth).get_json()
    assert {c["call_sid"]: c["menu_version"] for c in data["calls"]} == {
        first.sid: old, second.sid: new, third.sid: new}
    rows = {v["id"]: v for v in data["versions"]}
    assert rows[new]["current"] and not rows[old]["current"]
    assert (rows[old]["calls"], rows[old]["in_progress"], rows[new]["calls"]) == (1, 1, 2)
    assert rows[old]["source"] == "startup" and rows[new]["source"] == "test"
    page = client.get("/dashboard", headers=auth).get_data(as_text=True)
    assert f'<tr data-version="{new}"><td><code>{new}</code>' in page and "kept for its calls" in page
    # the call flow diagram is of the current version: key 2 now leads to the other ways to check
    svg = client.get("/dashboard/menu.svg", headers=auth).get_data(as_text=True)
    assert "<svg" in svg and svg != svg_before


def test_play_mode_renders_the_changed_prompts_before_the_switch(tmp_path):
    import json
    from urllib.parse import unquote

    from ivr.hotline.flow_versions import render_prompts

    menus, prompts = flow_copy(tmp_path / "flow")
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'ivr.sqlite3'}", menus, prompts, VOICE_MODE="play")
    versions = app.extensions["ivr_hotline"].versions
    rendered, failures = render_prompts(app.config, versions.current().catalogue)   # `ivr prompts render`
    assert failures == [] and rendered > 100
    swap_keys_2_and_3(menus, prompts)
    result = versions.publish("test")
    assert result.ok and result.rendered == 1          # only the English main menu changed
    manifest = json.loads((tmp_path / "audio" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["static"]["en-US/main_menu"]["text"].startswith(NEW_WORDS)
    client = app.test_client()
    caller = _english_main(client)
    plays = [el.text for el in caller.doc.root.iter("Play")]
    assert plays and not list(caller.doc.root.iter("Say"))
    assert "/audio/en-US/main_menu.wav" in plays
    audio = client.get("/audio/en-US/main_menu.wav")
    assert audio.status_code == 200 and unquote(audio.headers["X-Prompt-Text"]).startswith(NEW_WORDS)
