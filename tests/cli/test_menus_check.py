"""`ivr menus check` and the start-up check: every kind of problem, named by file, menu and key."""
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.engine.loader import MenuFileError
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def check(path: Path, prompts: Path = ROOT / "prompts"):
    result = CliRunner().invoke(main, ["menus", "check", str(path), "--prompts", str(prompts)])
    return result.exit_code, result.output


def broken(tmp_path: Path, old: str, new: str) -> Path:
    """The shipped menus.toml with one change."""
    text = (ROOT / "menus.toml").read_text("utf-8")
    assert old in text, f"fixture out of date: {old!r} not in menus.toml"
    path = tmp_path / "menus.toml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


def test_the_shipped_files_pass():
    code, out = check(ROOT / "menus.toml")
    assert code == 0, out
    assert "OK: 9 menus" in out and "warning" not in out


CASES = [
    ('menu = "apply",', 'menu = "aply",',
     'menus.toml: menu "main", option "2": unknown menu "aply"'),
    ('options."2" = { action = "play", prompt = "check_alipay" }',
     'options."2" = { action = "play", prompt = "check_alipy" }',
     'menus.toml: menu "check_ways", option "2": prompt "check_alipy" has no zh-CN text'),
    ('options."4" = { action = "play", prompt = "apply_care" }',
     'options."4" = { action = "play", prompt = "apply_care" }\noptions."6" = { action = "back" }',
     'menus.toml: menu "apply", option "6": key 6 is not mentioned in prompt "apply_menu"'),
    ('options."1" = { action = "collect", flow = "login",',
     'options."1" = { action = "collect", flow = "logon",',
     'menus.toml: menu "main", option "1": unknown flow "logon"'),
    ('op = "account.pension_balance"', 'op = "account.pension"',
     'menus.toml: menu "account", option "2": unknown operation "account.pension"'),
    ('options."3" = { action = "submenu", menu = "check_ways",',
     'options."3" = { action = "jump", menu = "check_ways",',
     'menus.toml: menu "main", option "3": unknown action "jump"'),
    ('options."3" = { action = "submenu", menu = "check_ways",',
     'options."3" = { action = "submenu",',
     'menus.toml: menu "main", option "3": action "submenu" needs menu = "..."'),
    ('options."3" = { action = "submenu", menu = "check_ways",',
     'options."3" = { action = "play", prompt = "check_menu",',
     'menus.toml: menu "check_ways": unreachable: no key, action or setting leads to it'),
    ('options."4" = { action = "submenu", menu = "law",',
     'options."x" = { action = "submenu", menu = "law",',
     'menus.toml: menu "main", option "x": a key must be one of 0 1 2 3 4 5 6 7 8 9 * #'),
    ('[menus.law]\nprompt = "law_menu"', '[menus.law]\npromt = "law_menu"',
     'menus.toml: menu "law": unknown field "promt"'),
    ('timeout = 6', 'timeout = "six"', 'menus.toml: [defaults]: "timeout" must be int, not "six"'),
    ('max_timeouts = 1            # silence', 'max_timeouts = 0            # silence',
     'menus.toml: menu "language": "max_timeouts" must be between 1 and 20, not 0'),
    ('mon = ["08:30-12:00"', 'mon = ["8.30-12:00"',
     'menus.toml: [agent] hours.mon: opening hours must look like "08:30-12:00", not "8.30-12:00"'),
    ('voicemail_menu = "voicemail"', 'voicemail_menu = "voice_mail"',
     'menus.toml: [agent]: voicemail_menu: unknown menu "voice_mail"'),
    ('start = "language"', 'start = "langauge"', 'menus.toml: [settings]: start: unknown menu "langauge"'),
    ('min_digits = 18, max_digits = 18', 'min_digits = 19, max_digits = 18',
     'menus.toml: flow "login", entry "id_number": min_digits 19 is more than max_digits 18'),
    ('entries.password = {', 'entries.pin = {', 'menus.toml: flow "login": missing entry "password"'),
]


@pytest.mark.parametrize("old,new,message", CASES, ids=[c[2].split(": ", 1)[1][:60] for c in CASES])
def test_each_kind_of_problem_is_named(tmp_path, old, new, message):
    code, out = check(broken(tmp_path, old, new))
    assert code == 1
    assert any(line.startswith(message) for line in out.splitlines()), out


def test_a_prompt_missing_in_one_language(tmp_path):
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts, ignore=shutil.ignore_patterns("recorded"))
    en = (prompts / "en-US.toml").read_text("utf-8")
    lines = [l for l in en.splitlines() if not l.startswith("check_wechat =")]
    (prompts / "en-US.toml").write_text("\n".join(lines), "utf-8")
    code, out = check(ROOT / "menus.toml", prompts)
    assert code == 1
    assert 'menus.toml: menu "check_ways", option "1": prompt "check_wechat" has no en-US text in en-US.toml' in out


def test_all_problems_are_listed_not_just_the_first(tmp_path):
    path = broken(tmp_path, 'menu = "apply",', 'menu = "aply",')
    text = path.read_text("utf-8").replace('menu = "law",', 'menu = "lwa",')
    path.write_text(text, "utf-8")
    code, out = check(path)
    assert 'unknown menu "aply"' in out and 'unknown menu "lwa"' in out
    assert "problem(s)" in out


def test_duplicate_menu_ids(tmp_path):
    code, out = check(FIXTURES / "menus/duplicate_menu.toml", FIXTURES / "prompts")
    assert code == 1
    assert 'duplicate_menu.toml: line 9, column 11: duplicate menu "top"' in out


def test_syntax_errors_name_the_line():
    code, out = check(FIXTURES / "menus/syntax_error.toml", FIXTURES / "prompts")
    assert code == 1 and "syntax_error.toml: line 3" in out


def test_design_rules_are_warnings(tmp_path):
    code, out = check(FIXTURES / "menus/wide_and_deep.toml", FIXTURES / "prompts")
    assert code == 0, out
    assert 'warning: wide_and_deep.toml: menu "top": 6 options; callers remember at most 5' in out
    assert 'warning: wide_and_deep.toml: menu "four": 4 levels below the main menu (more than 3)' in out


def test_missing_file():
    code, out = check(Path("/nonexistent/menus.toml"))
    assert code == 1 and "file not found" in out


def test_the_app_refuses_to_start_with_the_same_messages(tmp_path):
    path = broken(tmp_path, 'menu = "apply",', 'menu = "aply",')
    with pytest.raises(MenuFileError) as info:
        make_app(tmp_path, MENUS_FILE=str(path))
    assert 'menus.toml: menu "main", option "2": unknown menu "aply"' in info.value.problems


def test_serve_prints_the_problems_and_exits(tmp_path, monkeypatch):
    path = broken(tmp_path, 'menu = "apply",', 'menu = "aply",')
    monkeypatch.setenv("IVR_MENUS_FILE", str(path))
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    result = CliRunner().invoke(main, ["serve", "--port", "5999"])
    assert result.exit_code == 2
    assert 'unknown menu "aply"' in result.output


# -- speech (issue 15) ---------------------------------------------------------------------------
SPEECH_CASES = [
    # two options of one menu share a phrase: saying it is always a tie (an error)
    ('say.zh-CN = ["社保卡办理",', 'say.zh-CN = ["医保余额", "社保卡办理",',
     'error', 'menus.toml: menu "main", option "2": phrase "医保余额" (zh-CN) is also said for option "1": '
              'saying it is always a tie'),
    # the same phrase written in another form (full-width, traditional) is the same phrase
    ('say.zh-CN = ["社保卡办理",', 'say.zh-CN = ["醫保餘額", "社保卡办理",',
     'error', 'phrase "醫保餘額" (zh-CN) is also said for option "1"'),
    # phrases in a language the menu has no prompt for
    ('say.en-US = ["apply for a card",', 'say.fr-FR = ["carte"], say.en-US = ["apply for a card",',
     'warning', 'menus.toml: menu "main", option "2": phrases in fr-FR, a language menu "main" has no prompt for'),
    # an option of a speech menu with no phrases
    ('options."4" = { action = "submenu", menu = "law", say.zh-CN = ["政策法规", "政策", "法规", "社会保险法"], ',
     'options."4" = { action = "submenu", menu = "law", ',
     'warning', 'menus.toml: menu "main", option "4": no zh-CN phrases in a speech menu: it can only be pressed'),
    # phrases on a menu that does not listen
    ('options."1" = { action = "play", prompt = "apply_bureau" }',
     'options."1" = { action = "play", prompt = "apply_bureau", say.zh-CN = ["社保局"] }',
     'warning', 'menus.toml: menu "apply": has phrases but input is not "dtmf speech"'),
    # structure: a bad input value and a bad say table (the loader names them)
    ('input = "dtmf speech"       # keys', 'input = "speech"       # keys',
     'error', 'menus.toml: menu "main": input must be "dtmf" or "dtmf speech" (keys always work), not "speech"'),
    ('say.en-US = ["medical balance",', 'say.en-US = "medical balance", sayx = [',
     'error', 'menus.toml: menu "account", option "1": say.en-US must be a list of phrases'),
]


@pytest.mark.parametrize("old,new,kind,message", SPEECH_CASES, ids=[c[3][:70] for c in SPEECH_CASES])
def test_speech_problems_are_named(tmp_path, old, new, kind, message):
    code, out = check(broken(tmp_path, old, new))
    assert message in out, out
    if kind == "error":
        assert code == 1, out
    else:
        assert code == 0 and "warning" in out, out


def test_speech_prompts_must_exist(tmp_path):
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    text = (prompts / "en-US.toml").read_text("utf-8")
    (prompts / "en-US.toml").write_text(text.replace("speech_confirm =", "speech_confrm ="), "utf-8")
    code, out = check(ROOT / "menus.toml", prompts)
    assert code == 1 and 'speech: prompt "speech_confirm" has no en-US text' in out, out
