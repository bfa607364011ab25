"""The hotline: menus.toml + prompts + flows + services, assembled once per app."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.hotline.calls import CallStore
from ivr.engine import Engine, MenuFile
from ivr.engine.check import check_menu_file
from ivr.engine.loader import MenuFileError, read_menu_file
from ivr.engine.model import q
from ivr.hotline.flow_versions import FlowVersions
from ivr.engine.prompts import Catalogue


def plugins() -> tuple[dict, dict]:
    """The Python flows and operations menus.toml may name."""
    from ivr.hotline import account_flow

    return dict(account_flow.FLOWS), dict(account_flow.OPS)


def load_menus(path: str | Path, catalogue: Catalogue, text: str | None = None) -> tuple[MenuFile, list[str]]:
    """Read and check a menu file (its ``text`` when given); raise MenuFileError with every problem."""
    flows, ops = plugins()
    model, problems = read_menu_file(path, text)
    if model is None:
        raise MenuFileError(problems)
    errors, warnings = check_menu_file(model, catalogue, set(ops))
    name = Path(path).name
    for flow_id in model.flows:
        if flow_id not in flows:
            errors.append(f"{name}: flow {q(flow_id)}: no Python handler (known: {', '.join(sorted(flows))})")
        else:
            missing = set(getattr(flows[flow_id], "entries", ())) - set(model.flows[flow_id].entries)
            for entry in sorted(missing):
                errors.append(f"{name}: flow {q(flow_id)}: missing entry {q(entry)}")
    if problems or errors:
        raise MenuFileError(problems + errors, warnings)
    return model, warnings


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
        return cls(versions, db, services, CallStore())

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
