"""What makes a running hotline load an edited menu: file watching, SIGHUP, ``ivr reload``.

Each one calls ``FlowVersions.publish`` (checks, renders, stores, switches; see ivr.hotline.flow_versions).
The other workers and servers on the same database follow within RELOAD_CHECK_SECONDS.
"""
from __future__ import annotations

import logging
import signal
import threading
from typing import Callable

from ivr.hotline.flow_versions import is_source, watched_paths

log = logging.getLogger("ivr")


def watch_files(menus_file, prompts_dir, on_change: Callable[[], None],
                stop: threading.Event | None = None, debounce_ms: int = 300) -> None:
    """Call ``on_change()`` after every save of menus.toml, a prompt file or a recording (blocks).
    watchfiles (inotify) watches the folders without recursion: the project folder holds .venv."""
    from watchfiles import watch

    paths = watched_paths(menus_file, prompts_dir)
    for _changes in watch(*paths, watch_filter=lambda _c, p: is_source(p, menus_file, prompts_dir),
                          recursive=False, debounce=debounce_ms, stop_event=stop, raise_interrupt=False):
        on_change()


def start_watcher(versions, source: str = "watch", after: Callable[[], None] | None = None) -> threading.Event:
    """A daemon thread publishing on every save; returns the event that stops it."""
    stop = threading.Event()
    config = versions.config

    def publish() -> None:
        try:
            versions.publish(source)
        except Exception:  # noqa: BLE001 - the watcher must outlive any one bad edit
            log.exception("menu reload failed")
        finally:
            if after is not None:
                after()

    def run() -> None:
        try:
            watch_files(config["MENUS_FILE"], config["PROMPTS_DIR"], publish, stop)
        except Exception:  # noqa: BLE001
            log.exception("menu file watcher stopped")

    threading.Thread(target=run, name="ivr-menu-watcher", daemon=True).start()
    log.info("watching the menu files", extra={"fields": {
        "paths": ",".join(str(p) for p in watched_paths(config["MENUS_FILE"], config["PROMPTS_DIR"]))}})
    return stop


def on_sighup(versions) -> None:
    """``kill -HUP`` reloads (the dev server: one process; gunicorn has its own, see ivr.web.server)."""
    def handler(_signum, _frame) -> None:
        threading.Thread(target=versions.publish, args=("SIGHUP",), daemon=True).start()

    signal.signal(signal.SIGHUP, handler)


def publish_in_master(app, source: str) -> None:
    """A reload in gunicorn's master; the connections it opened are closed, so none is handed to
    a worker forked later."""
    try:
        app.extensions["ivr_hotline"].versions.publish(source)
    except Exception:  # noqa: BLE001 - the master must keep running
        log.exception("menu reload failed")
    finally:
        app.extensions["ivr_db"].dispose()
