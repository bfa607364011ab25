"""Serving real traffic (``ivr serve``); the Flask dev server is only for ``ivr serve --dev``.

Every server offered here keeps what the hotline relies on in production:

- a request timeout: a worker stuck in one request for ``TIMEOUT`` seconds is killed and replaced;
- graceful restart: SIGHUP loads the edited menu in the master (``reload.publish_in_master``), then
  the workers are replaced one by one, finishing the requests they have;
- worker recycling: dead or killed workers are replaced, and ``max_requests`` (0: off) replaces a
  worker after that many requests.

The servers (``ivr serve --server NAME``); bench/servers.py measures them against each other:

- ``gunicorn``: gunicorn's sync workers, one request at a time per process (the default);
- ``gunicorn-gthread``: gunicorn's threaded workers (``threads`` per process, keep-alive), with the
  request timeout kept (gunicorn's own gthread worker keeps beating while a request hangs).
"""
from __future__ import annotations

import gc
import os
import threading
import time

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

SERVERS = {
    "gunicorn": "gunicorn, sync workers: one request at a time per process",
    "gunicorn-gthread": "gunicorn, threaded workers (--threads per process, keep-alive)",
}
DEFAULT_SERVER = "gunicorn"
TIMEOUT = 30            # seconds one request may take before its worker is killed and replaced
GRACEFUL_TIMEOUT = 5    # seconds a worker has to finish its requests on restart or shutdown
DEFAULT_THREADS = 4     # per process, gunicorn-gthread


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


class TimedThreadWorker(ThreadWorker):
    """gunicorn's gthread worker with the sync worker's request timeout.

    gunicorn kills a worker whose heartbeat is older than ``timeout``. A sync worker beats between
    requests, so a hung request stops its heartbeat; a gthread worker beats from its main loop while
    the request threads work, so a hung request is never killed. Here the heartbeat is dated back
    to the start of the oldest request in flight: a request running longer than ``timeout`` gets its
    worker killed and replaced, as with sync workers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._in_flight: dict[int, float] = {}

    def handle_request(self, req, conn):
        me = threading.get_ident()
        self._in_flight[me] = time.monotonic()
        try:
            return super().handle_request(req, conn)
        finally:
            self._in_flight.pop(me, None)

    def notify(self) -> None:
        oldest = min(self._in_flight.values(), default=None)
        if oldest is None:
            super().notify()
        else:   # WorkerTmp.notify stamps time.monotonic(); the arbiter compares against it
            os.utime(self.tmp.fileno(), (oldest, oldest))


def run(app, host: str, port: int, workers: int, *, server: str = DEFAULT_SERVER, watch: bool = False,
        threads: int | None = None, max_requests: int = 0) -> None:
    """Serve ``app`` with ``server`` (a name of SERVERS) until the server is stopped."""
    if server == "gunicorn":
        run_gunicorn(app, host, port, workers, watch=watch, max_requests=max_requests)
    elif server == "gunicorn-gthread":
        run_gunicorn(app, host, port, workers, watch=watch, max_requests=max_requests,
                     worker_class="ivr.web.server.TimedThreadWorker", threads=threads or DEFAULT_THREADS)
    else:
        raise ValueError(f"unknown server {server!r} (known: {', '.join(SERVERS)})")


def lean_log_records() -> None:
    """Log records without what no formatter here prints (ivr.logs; gunicorn's prints the pid,
    so that stays): where the call was made from, the thread and the process name, looked up for
    every line, one line per webhook. The switches the logging HOWTO's "Optimization" section
    names; set in the serving process only."""
    import logging

    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False


def prepare_fork(app, watch: bool = False) -> None:
    """What every server does in its master before forking workers: close the database connections
    (each worker opens its own), start the file watcher (--watch) and freeze what was built."""
    from ivr.hotline import reload

    lean_log_records()

    db = app.extensions["ivr_db"]
    # The app is built before forking, then each worker opens its own database connections.
    db.dispose()
    audio = app.extensions.get("ivr_audio")
    if audio is not None:   # loaded once here, not by each worker's first call (~0.5 s each)
        audio.warm()
    if watch:   # the master publishes; workers (and other servers) follow through the database
        reload.start_watcher(app.extensions["ivr_hotline"].versions, after=db.dispose)
    # What was built before the fork (modules, the app, the menus) lives as long as the workers:
    # frozen, the collector's full passes skip it and its memory pages stay shared (Python's gc docs).
    gc.collect()
    gc.freeze()


def run_gunicorn(app, host: str, port: int, workers: int, watch: bool = False, *, worker_class: str = "sync",
                 threads: int = 1, max_requests: int = 0, timeout: int = TIMEOUT) -> None:
    from ivr.hotline import reload

    db = app.extensions["ivr_db"]
    prepare_fork(app, watch)
    _Gunicorn(app, {"bind": f"{host}:{port}", "workers": workers, "worker_class": worker_class,
                    "threads": threads, "accesslog": None, "timeout": timeout, "graceful_timeout": GRACEFUL_TIMEOUT,
                    "max_requests": max_requests, "max_requests_jitter": max_requests // 10,
                    # no ~/.gunicorn/gunicorn.ctl: two servers would share (and remove) one socket
                    "control_socket_disable": True,
                    # SIGHUP: load the edited menu (then gunicorn restarts the workers gracefully)
                    "on_reload": lambda _arbiter: reload.publish_in_master(app, "SIGHUP"),
                    # a connection the master opened (a reload) is the master's, never a worker's
                    "post_fork": lambda _arbiter, _worker: db.forget_connections()}).run()
