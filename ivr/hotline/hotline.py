"""The hotline: menus.toml + prompts + flows + services, assembled once per app."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ivr.engine import Engine
from ivr.hotline.calls import CallStore
from ivr.hotline.flow_versions import FlowVersions
from ivr.engine.prompts import Catalogue


@dataclass
class Hotline:
    versions: FlowVersions   # the menu versions: the current one and those calls are pinned to
    db: Any
    services: Any
    calls: CallStore

    @classmethod
    def from_config(cls, config, db) -> "Hotline":
        from ivr.hotline import account_flow

        versions = FlowVersions(db, config)
        # Start-up: the files must pass the checks (MenuFileError lists every problem); no renders
        # here (``ivr prompts render`` does them), only on a reload.
        versions.publish("startup", strict=True, render=False)
        services = account_flow.make_services(config, db)
        return cls(versions, db, services, CallStore(async_commit=config.get("CALL_STATE_ASYNC_COMMIT", True)))

    @property
    def engine(self) -> Engine:
        """The current version's engine (what new calls get)."""
        return self.versions.current().engine

    @property
    def catalogue(self) -> Catalogue:
        return self.versions.current().catalogue

    @property
    def warnings(self) -> list[str]:
        return list(self.versions.current().warnings)

    @contextmanager
    def transaction(self):
        """One webhook's database work: committed together, or not at all."""
        with self.db.Session() as session:
            with session.begin():
                yield session
