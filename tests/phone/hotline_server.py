"""The hotline's /voice webhook on ``ivr serve`` in a subprocess, on a seeded database, for HTTP tests."""
from __future__ import annotations

from pathlib import Path

from ivr.testing import seeded_hotline_app
from tests.servers import ServeProcess, ivr_env

ROOT = Path(__file__).resolve().parents[2]


class HotlineServer(ServeProcess):
    """One worker, on its own SQLite database in ``directory``; ``url`` is the /voice webhook."""

    def __init__(self, config: dict, directory: Path):
        self.config = config
        settings = {**config, "DATABASE_URL": f"sqlite:///{directory / 'hotline.sqlite3'}"}
        seeded_hotline_app(settings).extensions["ivr_db"].dispose()   # schema + demo accounts
        super().__init__(directory, ivr_env(settings))
        self.url += "/voice"
