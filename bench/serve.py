"""Serve a benchmark app exactly as ``ivr serve`` serves the hotline (``ivr.web.server``: the same
server, the same workers, no access log), or under a candidate server (bench/servers.py).

    serve.py --port P [--workers 2] [--server NAME] ceiling      bench/ceiling.py
    serve.py --port P [--workers 2] [--server NAME] stateless    bench/stateless.py
    serve.py --port P [--workers 2] [--server NAME] hotline      the hotline (ivr.create_app(), as ivr serve)
    serve.py --port P [--workers 2] ladder:STEP                  bench/ladder.py: the hotline cut down to STEP
    serve.py --port P [--workers 2] cheap-hash                   the hotline, accounts hashed with one-round pbkdf2
                                                                 (bench/hotline_setup.py: memory run)
Servers: those of ``ivr serve --server`` (ivr.web.server.SERVERS) and the candidates measured but not
offered there (CANDIDATES below). The hotline settings come from IVR_* variables, as for ``ivr serve``.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def build(name: str):
    if name == "ceiling":
        from ceiling import app

        return app
    if name == "stateless":
        from stateless import app

        return app
    if name == "hotline":
        from ivr.cli.core import build_app

        return build_app()
    if name.startswith("ladder:"):
        from ladder import ladder_app

        return ladder_app(name.split(":", 1)[1])
    if name == "cheap-hash":
        from hotline_setup import cheap_hash_app

        return cheap_hash_app()
    raise SystemExit(f"unknown app {name!r}")


# -- candidates measured by bench/servers.py that ivr serve does not offer (see docs/benchmarks.md) --

def run_granian(app, host: str, port: int, workers: int, blocking_threads: int | None = None) -> None:
    """granian (Rust HTTP, WSGI interface), ``workers`` processes forked from this one; its default
    WSGI thread pool unless ``blocking_threads`` says otherwise."""
    from granian.constants import Interfaces
    from granian.server import Server

    from ivr.web.server import prepare_fork

    prepare_fork(app)
    options = {"blocking_threads": blocking_threads} if blocking_threads else {}
    server = Server("bench:app", address=host, port=port, interface=Interfaces.WSGI, workers=workers,
                    log_access=False, **options)
    server.serve(target_loader=lambda: app, wrap_loader=False)


def run_bjoern(app, host: str, port: int, workers: int) -> None:
    """bjoern (libev, C), one process per worker sharing one listening socket, as gunicorn's workers
    do; bjoern has no master of its own, so this process is a minimal one (stops them on SIGTERM)."""
    import bjoern

    from ivr.web.server import prepare_fork

    bjoern.listen(app, host, port)
    prepare_fork(app)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                bjoern.run()
            finally:
                os._exit(0)
        children.append(pid)

    def stop(_signum, _frame):
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        while True:
            try:
                os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break


CANDIDATES = {
    "granian": lambda app, h, p, w: run_granian(app, h, p, w),
    "granian-1thread": lambda app, h, p, w: run_granian(app, h, p, w, blocking_threads=1),
    "bjoern": run_bjoern,
}


def serve(application, host: str, port: int, workers: int, server: str) -> None:
    from ivr.web import server as servers

    if server in servers.SERVERS:
        servers.run(application, host, port, workers, server=server)
    elif server in CANDIDATES:
        CANDIDATES[server](application, host, port, workers)
    else:
        raise SystemExit(f"unknown server {server!r} (known: {', '.join([*servers.SERVERS, *CANDIDATES])})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", default="gunicorn")
    parser.add_argument("app")
    args = parser.parse_args()
    application = build(args.app)
    sys.argv = sys.argv[:1]   # gunicorn reads sys.argv too
    serve(application, args.host, args.port, args.workers, args.server)
