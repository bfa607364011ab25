"""Serve a benchmark app exactly as ``ivr serve`` serves the hotline (``ivr.web.server.run_gunicorn``:
sync workers, no access log).

    serve.py --port P [--workers 2] ceiling              bench/ceiling.py
    serve.py --port P [--workers 2] ladder:STEP          bench/ladder.py: the hotline cut down to STEP
    serve.py --port P [--workers 2] cheap-hash           the hotline, accounts hashed with one-round pbkdf2
                                                         (bench/hotline_setup.py: memory run)
The hotline settings come from IVR_* variables, as for ``ivr serve``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def build(name: str):
    if name == "ceiling":
        from ceiling import app

        return app
    if name.startswith("ladder:"):
        from ladder import ladder_app

        return ladder_app(name.split(":", 1)[1])
    if name == "cheap-hash":
        from hotline_setup import cheap_hash_app

        return cheap_hash_app()
    raise SystemExit(f"unknown app {name!r}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("app")
    args = parser.parse_args()
    application = build(args.app)
    sys.argv = sys.argv[:1]   # gunicorn reads sys.argv too
    from ivr.web.server import run_gunicorn

    run_gunicorn(application, args.host, args.port, args.workers)
