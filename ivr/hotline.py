"""The hotline: menus.toml + prompts + flows + services, assembled once per app."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.calls import CallStore
from ivr.engine import Engine, MenuFile
from ivr.engine.check import check_menu_file
from ivr.engine.loader import MenuFileError, read_menu_file
from ivr.engine.model import q
from ivr.prompts import Catalogue, PromptError


def plugins() -> tuple[dict, dict]:
    """The Python flows and operations menus.toml may name."""
    from ivr import account_flow

    return dict(account_flow.FLOWS), dict(account_flow.OPS)


def load_menus(path: str | Path, catalogue: Catalogue) -> tuple[MenuFile, list[str]]:
    """Read and check a menu file; raise MenuFileError with every problem."""
    flows, ops = plugins()
    model, problems = read_menu_file(path)
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


def speech_confidence(config) -> float:
    """IVR_SPEECH_CONFIDENCE: below it a spoken menu choice is confirmed first (0 never asks)."""
    value = config.get("SPEECH_CONFIDENCE", 0.5)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"IVR_SPEECH_CONFIDENCE must be a number from 0 to 1, not {value!r}")
    return float(value)


@dataclass
class Hotline:
    engine: Engine
    catalogue: Catalogue
    db: Any
    services: Any
    calls: CallStore
    warnings: list[str]

    @classmethod
    def from_config(cls, config, db) -> "Hotline":
        try:
            catalogue = Catalogue.load(config["PROMPTS_DIR"])
        except PromptError as exc:
            raise MenuFileError([str(exc)]) from None
        model, warnings = load_menus(config["MENUS_FILE"], catalogue)
        flows, ops = plugins()
        from ivr import account_flow

        engine = Engine(model, catalogue, flows, ops, speech_confidence=speech_confidence(config))
        services = account_flow.make_services(config, db)
        return cls(engine, catalogue, db, services, CallStore(), warnings)

    @contextmanager
    def transaction(self):
        """One webhook's database work: committed together, or not at all."""
        with self.db.Session() as session:
            with session.begin():
                yield session
