"""Serving with gunicorn (real traffic); the Flask dev server is only for ``ivr serve --dev``."""
from __future__ import annotations

import gc

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def run_gunicorn(app, host: str, port: int, workers: int, watch: bool = False) -> None:
    from ivr.hotline import reload

    db = app.extensions["ivr_db"]
    # The app is built before forking, then each worker opens its own database connections.
    db.dispose()
    if watch:   # the master publishes; workers (and other servers) follow through the database
        reload.start_watcher(app.extensions["ivr_hotline"].versions, after=db.dispose)
    # What was built before the fork (modules, the app, the menus) lives as long as the workers:
    # frozen, the collector's full passes skip it and its memory pages stay shared (Python's gc docs).
    gc.collect()
    gc.freeze()
    _Gunicorn(app, {"bind": f"{host}:{port}", "workers": workers, "worker_class": "sync",
                    "accesslog": None, "timeout": 30, "graceful_timeout": 5,
                    # no ~/.gunicorn/gunicorn.ctl: two servers would share (and remove) one socket
                    "control_socket_disable": True,
                    # SIGHUP: load the edited menu (then gunicorn restarts the workers gracefully)
                    "on_reload": lambda _arbiter: reload.publish_in_master(app, "SIGHUP"),
                    # a connection the master opened (a reload) is the master's, never a worker's
                    "post_fork": lambda _arbiter, _worker: db.engine.dispose(close=False)}).run()
