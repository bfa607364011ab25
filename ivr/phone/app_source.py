"""What the phone calls in-process: an ``AppSource`` says how to build the app and what its
number's settings are. ``ivr call --app MODULE:FACTORY`` makes one from a spec; a project can
hand the phone's commands its own as the default (this project does, with its hotline)."""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager

from ivr.phone.app_loader import load_app


@contextmanager
def app_logs(verbose: bool = False, path: str | None = None):
    """Within: an app's log records (those reaching the root logger) go to stderr with
    ``verbose``, appended to ``path`` if given; otherwise logging is left as the app set it."""
    if not verbose and not path:
        yield
        return
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = root.level
    root.addHandler(handler)
    root.setLevel(min(saved, logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
        handler.close()


@dataclass(frozen=True)
class AppSource:
    """``build(config)``: the app for one call. ``build_fresh(config, scratch)``: the app for a
    scenario run, on state of its own kept in the folder ``scratch`` (default: ``build``).
    ``number(app)``: its number's default settings (e.g. its own status callback URL).
    ``logs(verbose, path)``: a context manager routing the app's log lines. ``configurable``:
    whether ``config`` (``-c``, scenario ``[config]``) reaches the app. ``about``: how scenario
    runs get it, for ``ivr test --help``."""

    name: str
    build: Callable[[dict], object]
    build_fresh: Callable[[dict, Path], object] | None = None
    number: Callable[[object], dict] | None = None
    logs: Callable[[bool, str | None], ContextManager] = field(default=app_logs)
    configurable: bool = True
    about: str = ""

    def fresh(self, config: dict, scratch: Path):
        return (self.build_fresh or (lambda c, _: self.build(c)))(config, scratch)


def spec_source(spec: str) -> AppSource:
    """The app ``spec`` names (``module:create_app``...), built by its own factory, which takes
    no config. A factory is called for every build: once per ``ivr call``, once per ``ivr test``."""
    return AppSource(name=spec, build=lambda config: load_app(spec), configurable=False)
