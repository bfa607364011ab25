"""A writable copy of the shipped menu files, and the edits the live-reload tests make to it."""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The main menu's keys 2 and 3 (their say phrases move with them, so the speech check still passes).
SWAP_FROM = ('options."2" = { action = "submenu", menu = "apply"', 'options."3" = { action = "submenu", menu = "check_ways"')
SWAP_TO = ('options."3" = { action = "submenu", menu = "apply"', 'options."2" = { action = "submenu", menu = "check_ways"')
BROKEN = 'options."4" = { action = "submenu", menu = "nowhere" }'
# What `ivr menus check` prints for BROKEN, word for word.
BROKEN_MESSAGE = 'menus.toml: menu "main", option "4": unknown menu "nowhere"'
NEW_WORDS = "This is the new menu."


def flow_copy(directory: Path) -> tuple[Path, Path]:
    """(menus.toml, prompts folder) copied under ``directory``: edit them freely."""
    directory.mkdir(parents=True, exist_ok=True)
    menus = directory / "menus.toml"
    shutil.copy(ROOT / "menus.toml", menus)
    prompts = directory / "prompts"
    shutil.copytree(ROOT / "prompts", prompts, ignore=shutil.ignore_patterns("recorded"))
    return menus, prompts


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def swap_keys_2_and_3(menus: Path, prompts: Path) -> None:
    """Main menu: 2 now leads to the other ways to check, 3 to applying for a card; the English
    main menu prompt starts with NEW_WORDS."""
    for old, new in zip(SWAP_FROM, SWAP_TO):
        _replace(menus, old, new)
    _replace(prompts / "en-US.toml", 'main_menu = "', f'main_menu = "{NEW_WORDS} ')


def break_main_menu(menus: Path) -> None:
    """Key 4 of the main menu points at a menu that does not exist."""
    text = menus.read_text(encoding="utf-8")
    old = 'options."4" = { action = "submenu", menu = "law"'
    assert old in text
    menus.write_text(text.replace(old, BROKEN.removesuffix(" }"), 1), encoding="utf-8")
